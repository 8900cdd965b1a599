#pragma once
// Incremental tar parser for the uncompressed shard stream (ustar, PAX x/g,
// GNU long names). It is push-based: feed() chunks as they arrive, pop()
// complete entries. That keeps parsing synchronous and allocation-free in the
// common case (a member inside one chunk is a zero-copy slice of it) while the
// only suspension point — waiting for the next chunk — stays with the caller.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "atdata/core/shared_bytes.hpp"

namespace atdata {

struct TarEntry {
  std::string name;      // full path after PAX `path` / GNU `L` overrides
  char type = '0';       // typeflag; '0' (or NUL, '7') = regular file
  SharedBytes data;      // contents of a regular file; empty otherwise
  std::uint64_t offset;  // stream offset of this entry's own header block

  bool is_regular() const noexcept { return type == '0' || type == '\0' || type == '7'; }
};

class TarParser {
 public:
  // `url` is only used in error messages.
  explicit TarParser(std::string url);

  // Appends a chunk of the stream (after decompression).
  void feed(SharedBytes chunk);
  // The next complete entry, or nullopt when more input is needed or the
  // archive ended (see at_end()). Throws ShardError on corrupt input.
  std::optional<TarEntry> pop();
  // True once the end-of-archive blocks have been read; later input is ignored.
  bool at_end() const noexcept { return state_ == State::end; }
  // Call at end of input: throws ShardError unless the archive ended cleanly.
  void finish();

  // Stream offset of the first byte not yet consumed.
  std::uint64_t offset() const noexcept { return consumed_; }
  const std::string& url() const noexcept { return url_; }

 private:
  enum class State { header, data, skip, end_second, end };

  // Gets `n` contiguous bytes at the read position if they are available:
  // a zero-copy slice when they lie in the current chunk, else assembled in
  // carry_. Returns false (consuming what is there) when input runs out.
  bool take(std::size_t n, SharedBytes& out);
  // Returns true when the header starts an entry with a payload to read.
  void process_header(const std::byte* block, std::uint64_t at);
  void apply_pax(std::span<const std::byte> payload, bool global, std::uint64_t at);
  std::optional<TarEntry> finish_entry(SharedBytes payload);
  [[noreturn]] void fail(std::uint64_t at, const std::string& what) const;

  std::string url_;
  State state_ = State::header;
  // Input not yet consumed. pop() only asks for more after consuming all of
  // cur_ (into carry_ if needed), so one chunk is enough.
  SharedBytes cur_;
  std::size_t pos_ = 0;
  std::vector<std::byte> carry_;  // partial header/member spanning chunks
  std::uint64_t consumed_ = 0;    // stream offset of cur_[pos_]
  bool seen_input_ = false;

  // The entry being read.
  char cur_type_ = 0;
  std::string cur_name_;
  std::uint64_t cur_size_ = 0, cur_pad_ = 0, cur_offset_ = 0;
  std::uint64_t skip_left_ = 0;
  bool cur_has_payload_ = false;

  // Overrides from the x / L headers chained before the next member (the
  // first one in the chain wins, as in Python's tarfile), and the g headers'
  // values, which Python merges into every later x header.
  std::optional<std::string> next_name_, global_path_;
  std::optional<std::uint64_t> next_size_, global_size_;
  std::uint64_t chain_offset_ = 0;
  bool in_chain_ = false;
};

}  // namespace atdata
