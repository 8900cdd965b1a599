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
#include "atdata/io/tar_reader.hpp"

namespace atdata {

struct RawSample {
  struct Member {
    std::string ext;  // lower-cased extension, e.g. "msgpack", "seg.npy"
    SharedBytes data;
    // Stream offset of the member's (first) header block, for error messages.
    std::uint64_t offset = 0;
  };
  std::string key;                         // "__key__"
  std::shared_ptr<const std::string> url;  // "__url__": the shard, shared by its samples
  std::vector<Member> members;             // in tar order

  const SharedBytes* find(std::string_view ext) const noexcept {
    for (const auto& m : members)
      if (m.ext == ext) return &m.data;
    return nullptr;
  }
};

// webdataset's base_plus_ext: splits a member name with the regular expression
// ^((?:.*/|)[^.]+)[.]([^/]*)$ into key and (not yet lower-cased) extension.
// Returns false for names that do not match (they are ignored).
bool split_member_name(std::string_view name, std::string_view& key, std::string_view& ext) noexcept;

// webdataset's metadata-name rule: "__*__" names without "/" and names
// matching ^__[^/]*__($|/) are skipped.
bool is_meta_member_name(std::string_view name) noexcept;

// Groups tar entries into samples (push entries, receive finished samples).
class SampleGrouper {
 public:
  explicit SampleGrouper(std::shared_ptr<const std::string> url) : url_(std::move(url)) {}
  // Returns the previous sample when `entry` starts a new key. Throws
  // ShardError on a duplicate extension within one sample.
  std::optional<RawSample> push(TarEntry&& entry);
  // The last open sample, at a clean end of the shard.
  std::optional<RawSample> finish();

 private:
  std::shared_ptr<const std::string> url_;
  std::optional<RawSample> cur_;
};

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

  const std::string& url() const noexcept { return *url_; }

 private:
  asio::awaitable<void> read_some(std::vector<RawSample>& out, std::size_t max, std::size_t& n);

  ByteSourcePtr source_;
  std::shared_ptr<const std::string> url_;
  std::exception_ptr pending_error_;
  TarParser parser_;
  SampleGrouper grouper_;
  bool done_ = false;
};

}  // namespace atdata
