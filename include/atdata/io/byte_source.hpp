#pragma once
// ByteSource: the one input abstraction of every shard reader. A shard is a
// stream of chunks, not a file name, so local files, HTTP bodies and ATProto
// blobs plug into the same tar reader. Chunks are SharedBytes so that tar
// members and array payloads can be zero-copy slices of them.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "atdata/core/shared_bytes.hpp"
#include "atdata/io/asio_build.hpp"

namespace atdata {

namespace asio = boost::asio;

class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // The next chunk of the stream, in order. An empty chunk means end of
  // stream; after that every call returns empty again. Chunks may have any
  // size > 0 and stay valid for as long as the caller keeps them (they own
  // their storage). Failures throw an atdata::Error (ShardError for local
  // I/O, NetworkError / HttpError for network sources) naming url().
  virtual asio::awaitable<SharedBytes> next_chunk() = 0;

  // The URL (or path) this source reads, used in every error message.
  virtual const std::string& url() const noexcept = 0;

  // Total stream length when known up front (file size, Content-Length);
  // only a hint for buffer sizing, never trusted for bounds.
  virtual std::optional<std::uint64_t> size_hint() const noexcept { return std::nullopt; }

  // What identifies this version of the content at its origin (an HTTP
  // strong ETag or Last-Modified), once known (for HTTP: after the first
  // chunk); nullopt when the source has none. Recorded by caches.
  virtual std::optional<std::string> validator() const noexcept { return std::nullopt; }

  // Transfers this source resumed by itself after a transport failure (an
  // HTTP Range request after a reset); counted in loader statistics.
  virtual int resumes() const noexcept { return 0; }
};

using ByteSourcePtr = std::unique_ptr<ByteSource>;

// Bytes already in memory, handed out in slices of `chunk_size` (0 = one
// chunk). Small chunk sizes are useful for testing chunk-boundary handling.
ByteSourcePtr make_memory_source(SharedBytes bytes, std::string url = "<memory>", std::size_t chunk_size = 0);

struct FileSourceOptions {
  // Regular files are memory-mapped and handed out as slices of the mapping
  // (zero-copy, no read syscalls). A file truncated by another process while
  // mapped raises SIGBUS; set use_mmap = false where that can happen.
  bool use_mmap = true;
  // Size of each chunk: one slice of the mapping, or one read() buffer.
  std::size_t chunk_size = std::size_t{16} << 20;
};

// A local file ("-" = standard input). Opening is eager so that a missing
// file fails here with a ShardError naming `url` (defaults to the path).
ByteSourcePtr open_file_source(const std::string& path, std::string url = {}, FileSourceOptions options = {});

// Concatenates the whole stream into one buffer (a single chunk is returned
// as-is, without copying). `max_bytes` bounds memory for untrusted streams.
asio::awaitable<SharedBytes> read_all(ByteSource& source, std::uint64_t max_bytes = std::uint64_t{1} << 40);

}  // namespace atdata
