#pragma once
// StreamDecompressor: the sans-I/O core of shard decompression. Bytes are
// pushed in as they arrive and decompressed chunks are pulled out, so the same
// logic serves a coroutine reading a socket and a worker thread parsing
// chunks that were fetched ahead of time. The codec is detected from the
// first bytes (as `tar r|*` does); plain streams pass through zero-copy.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "atdata/core/shared_bytes.hpp"
#include "atdata/io/compression.hpp"

namespace atdata {

namespace detail {
class Decoder;
}

class StreamDecompressor {
 public:
  // `url` only names the stream in errors.
  explicit StreamDecompressor(std::string url);
  ~StreamDecompressor();
  StreamDecompressor(StreamDecompressor&&) noexcept;
  StreamDecompressor& operator=(StreamDecompressor&&) noexcept;

  // Queues a chunk of the (possibly compressed) stream. Empty chunks are ignored.
  void feed(SharedBytes chunk);
  // Declares the end of the input; pop() then drains what is left.
  void finish() noexcept { input_ended_ = true; }

  // The next decompressed chunk, or nullopt when more input is needed (or,
  // once done(), at the end). Output chunks are up to 1 MiB for compressed
  // streams; plain streams hand back the input chunks themselves. Throws
  // ShardError (url, compressed byte offset) on corrupt or truncated input.
  std::optional<SharedBytes> pop();

  // All output has been handed out.
  bool done() const noexcept { return done_; }
  // The codec, once detected (none before that).
  Compression kind() const noexcept { return kind_; }
  // Compressed bytes consumed so far.
  std::uint64_t input_offset() const noexcept { return in_offset_; }
  const std::string& url() const noexcept { return url_; }

 private:
  bool detect();
  bool next_input();
  std::optional<SharedBytes> take_output(std::size_t produced);

  std::string url_;
  std::deque<SharedBytes> queue_;
  bool input_ended_ = false;
  bool detected_ = false;
  std::vector<std::byte> head_;  // first bytes, while fewer than the magic needs
  Compression kind_ = Compression::none;
  std::unique_ptr<detail::Decoder> decoder_;
  SharedBytes in_;
  std::size_t in_pos_ = 0;
  std::uint64_t in_offset_ = 0, out_offset_ = 0;
  SharedBytes out_;  // the output buffer being filled
  std::byte* out_data_ = nullptr;
  std::size_t produced_ = 0;
  bool at_stream_end_ = false, done_ = false;
};

}  // namespace atdata
