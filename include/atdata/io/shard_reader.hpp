#pragma once
// Shard → raw samples, as webdataset's tarfile_to_samples does (docs/format.md):
// consecutive regular members sharing a key form one sample. Member
// payloads are zero-copy slices of the source's chunks whenever possible.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atdata/io/byte_source.hpp"
#include "atdata/io/shard_parser.hpp"

namespace atdata {

// Reads one shard: decompression (by magic), tar parsing, grouping. A sample
// is only handed out once it is known to be complete, so a truncated or
// corrupt shard never yields a partial sample: it throws ShardError (URL +
// byte offset) after the samples that preceded the damage.
class ShardReader {
 public:
  explicit ShardReader(ByteSourcePtr source);

  // Appends up to `max` samples to `out` and returns how many; 0 means the
  // shard is finished. Batching many samples per suspension keeps the
  // coroutine overhead off the per-sample path. When the shard turns out to
  // be damaged, the complete samples before the damage are returned first
  // and the ShardError is thrown by the next call.
  asio::awaitable<std::size_t> read(std::vector<RawSample>& out, std::size_t max);
  asio::awaitable<std::optional<RawSample>> next();

  const std::string& url() const noexcept { return *parser_.url(); }

 private:
  ByteSourcePtr source_;
  ShardParser parser_;
  std::exception_ptr failed_;  // the source failed after samples were returned
};

}  // namespace atdata
