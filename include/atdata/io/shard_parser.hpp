#pragma once
// ShardParser: shard bytes in, raw samples out, with no I/O (decompression,
// tar parsing and grouping as ShardReader does, which is a thin pull adapter
// over it). The prefetching loader feeds it chunks fetched ahead of time and
// runs it on a worker thread; tests feed it bytes directly.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "atdata/core/shared_bytes.hpp"
#include "atdata/io/stream_decompressor.hpp"
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

class ShardParser {
 public:
  explicit ShardParser(std::shared_ptr<const std::string> url);
  explicit ShardParser(std::string url) : ShardParser(std::make_shared<const std::string>(std::move(url))) {}

  // Queues a chunk of the shard as stored (compressed or not).
  void feed(SharedBytes chunk) { dec_.feed(std::move(chunk)); }
  // Declares the end of the shard's bytes.
  void finish() noexcept { dec_.finish(); }

  // Appends up to `max` complete samples to `out` and returns how many. A
  // return below `max` means the parser needs more input (or is done()).
  // Damage (corrupt or truncated data) is reported as it is by ShardReader:
  // the complete samples before it are returned first and the ShardError is
  // thrown by the next call; the parser is done() after that.
  std::size_t pop(std::vector<RawSample>& out, std::size_t max);

  bool done() const noexcept { return done_; }
  const std::shared_ptr<const std::string>& url() const noexcept { return url_; }
  // Stored (compressed) bytes consumed so far.
  std::uint64_t input_offset() const noexcept { return dec_.input_offset(); }

 private:
  std::shared_ptr<const std::string> url_;
  StreamDecompressor dec_;
  TarParser tar_;
  SampleGrouper grouper_;
  std::exception_ptr pending_error_;
  bool done_ = false;
};

}  // namespace atdata
