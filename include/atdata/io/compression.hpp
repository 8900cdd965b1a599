#pragma once
// Streaming (de)compression for shards. Readers detect the codec from the
// stream's magic bytes (as Python's tarfile "r|*" does), writers pick it from
// the file name (as webdataset's TarWriter does).

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "atdata/io/byte_source.hpp"

namespace atdata {

enum class Compression { none, gzip, bzip2, xz, zstd };

std::string_view to_string(Compression c) noexcept;

// From the first bytes of a stream (needs up to 6 bytes; fewer → none).
Compression detect_compression(std::span<const std::byte> head) noexcept;

// From a shard name: ".gz"/".tgz" → gzip, ".bz2" → bzip2, ".xz" → xz,
// ".zst"/".zstd" → zstd, anything else → none.
Compression compression_for_name(std::string_view name) noexcept;

// Wraps `inner` so that compressed streams come out decompressed; plain
// streams pass through unchanged (same chunks, still zero-copy). Errors are
// ShardErrors naming inner->url() and the compressed byte offset.
ByteSourcePtr make_decompressing_source(ByteSourcePtr inner);

// Incremental compressor used by the shard writer.
class Compressor {
 public:
  virtual ~Compressor() = default;
  // Feeds input; compressed output is appended through `sink`.
  virtual void write(std::span<const std::byte> in) = 0;
  // Ends the stream (flushes trailers).
  virtual void finish() = 0;
};

using CompressedSink = void (*)(void* ctx, std::span<const std::byte> out);

// `level` < 0 means the codec's default.
std::unique_ptr<Compressor> make_compressor(Compression c, CompressedSink sink, void* ctx, int level = -1);

}  // namespace atdata
