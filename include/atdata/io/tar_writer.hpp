#pragma once
// Shard writers, byte-compatible with webdataset's TarWriter / ShardWriter
// (docs/format.md): one member "<key>.<ext>" per field, extensions in
// sorted order, ustar headers (mode 0444, user/group "bigdata"), the stream
// zero-padded to a multiple of 10240 bytes, optional compression.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "atdata/io/compression.hpp"

namespace atdata {

struct TarWriterOptions {
  // nullopt: from the file name (".gz", ".bz2", ".xz", ".zst"); in-memory
  // writers default to none.
  std::optional<Compression> compression;
  int level = -1;  // codec default
  std::uint32_t mode = 0444;
  std::string user = "bigdata";
  std::string group = "bigdata";
  // Member mtime in seconds; nullopt = current time.
  std::optional<std::int64_t> mtime;
};

// One field of a sample: extension (e.g. "msgpack") and its bytes.
struct TarMemberData {
  std::string_view ext;
  std::span<const std::byte> data;
};

class TarWriter {
 public:
  // Writes a file (created/truncated now; errors name the path).
  explicit TarWriter(const std::string& path, TarWriterOptions options = {});
  // Writes into memory; take the bytes with take_bytes() after close().
  static TarWriter in_memory(TarWriterOptions options = {});

  TarWriter(TarWriter&&) noexcept;
  TarWriter& operator=(TarWriter&&) noexcept;
  ~TarWriter();  // closes; errors there are swallowed — call close() to see them

  // Writes one sample: a member "<key>.<ext>" per field, in sorted extension
  // order (as webdataset). Returns the payload bytes written. The key must be
  // non-empty and have no '.' in its last path component (the reader would
  // split it there); extensions must be non-empty, without '/', unique.
  std::uint64_t write(std::string_view key, std::span<const TarMemberData> members);
  std::uint64_t write(std::string_view key, std::string_view ext, std::span<const std::byte> data) {
    TarMemberData m{ext, data};
    return write(key, std::span<const TarMemberData>(&m, 1));
  }
  // A raw regular-file member with any name.
  void add_file(std::string_view name, std::span<const std::byte> data);

  // Writes the end-of-archive blocks and padding, flushes, closes. Idempotent.
  void close();
  std::vector<std::byte> take_bytes();
  const std::string& path() const noexcept;

 private:
  struct Impl;
  explicit TarWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ShardWriterOptions {
  std::uint64_t maxcount = 100000;        // samples per shard
  std::uint64_t maxsize = 3'000'000'000;  // payload bytes per shard
  long long start_shard = 0;
  TarWriterOptions tar;
  // Called with each shard's file name once it is complete (e.g. to upload).
  std::function<void(const std::string&)> on_shard_closed;
};

// Writes samples into shards named by a printf pattern ("out-%06d.tar"),
// starting a new shard before a write when the current one holds maxcount
// samples or maxsize payload bytes (webdataset's rule).
class ShardWriter {
 public:
  explicit ShardWriter(std::string pattern, ShardWriterOptions options = {});
  ~ShardWriter();

  std::uint64_t write(std::string_view key, std::span<const TarMemberData> members);
  std::uint64_t write(std::string_view key, std::string_view ext, std::span<const std::byte> data) {
    TarMemberData m{ext, data};
    return write(key, std::span<const TarMemberData>(&m, 1));
  }
  void close();

  // Names of the shards started so far, in order.
  const std::vector<std::string>& shards() const noexcept { return shards_; }
  std::uint64_t total_samples() const noexcept { return total_; }

 private:
  void next_stream();
  std::string pattern_;
  ShardWriterOptions options_;
  std::optional<TarWriter> current_;
  std::vector<std::string> shards_;
  long long shard_ = 0;
  std::uint64_t count_ = 0, size_ = 0, total_ = 0;
};

}  // namespace atdata
