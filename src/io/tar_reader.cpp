#include "atdata/io/tar_reader.hpp"

#include <algorithm>
#include <cstring>

#include "atdata/error.hpp"

namespace atdata {
namespace {

constexpr std::size_t kBlock = 512;
// Extended headers hold names and a few numbers; anything bigger is hostile.
constexpr std::uint64_t kMaxMetaPayload = std::uint64_t{16} << 20;
// Beyond this a size field is nonsense (and block rounding could overflow).
constexpr std::uint64_t kMaxMemberSize = std::uint64_t{1} << 62;

unsigned char u8(const std::byte* p, std::size_t i) {
  return static_cast<unsigned char>(p[i]);
}

// NUL-terminated string field.
std::string nts(const std::byte* p, std::size_t off, std::size_t len) {
  const char* s = reinterpret_cast<const char*>(p + off);
  return std::string(s, strnlen(s, len));
}

// Numeric field: octal text (Python's nti) or GNU base-256. nullopt = invalid.
// Parsed in place: this runs twice per member on the hot path.
std::optional<std::int64_t> nti(const std::byte* p, std::size_t off, std::size_t len) {
  unsigned char first = u8(p, off);
  if (first == 0x80 || first == 0xff) {
    // Base-256: only non-negative values below 2^62 are meaningful here.
    if (first == 0xff) return std::nullopt;
    std::uint64_t n = 0;
    for (std::size_t i = 1; i < len; ++i) {
      if (n >> 54) return std::nullopt;
      n = (n << 8) | u8(p, off + i);
    }
    if (n > kMaxMemberSize) return std::nullopt;
    return static_cast<std::int64_t>(n);
  }
  const char* s = reinterpret_cast<const char*>(p + off);
  std::size_t e = strnlen(s, len), b = 0;
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (b < e && ws(s[b])) ++b;
  while (e > b && ws(s[e - 1])) --e;
  std::int64_t n = 0;
  for (std::size_t i = b; i < e; ++i) {
    if (s[i] < '0' || s[i] > '7') return std::nullopt;
    n = n * 8 + (s[i] - '0');  // at most 12 digits: no overflow
  }
  return n;
}

std::uint64_t load64(const std::byte* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

bool all_zero(const std::byte* p) {
  std::uint64_t acc = 0;
  for (std::size_t i = 0; i < kBlock; i += 8) acc |= load64(p + i);
  return acc == 0;
}

// Sum of all 512 bytes as unsigned values, eight at a time (SWAR): the header
// checksum is computed for every member, so a byte loop would dominate.
std::uint32_t byte_sum(const std::byte* p) {
  constexpr std::uint64_t kLo = 0x00FF00FF00FF00FFULL;
  std::uint64_t lanes = 0;  // four 16-bit lanes; at most 64 * 510 per lane
  for (std::size_t i = 0; i < kBlock; i += 8) {
    std::uint64_t w = load64(p + i);
    lanes += (w & kLo) + ((w >> 8) & kLo);
  }
  lanes = (lanes & 0x0000FFFF0000FFFFULL) + ((lanes >> 16) & 0x0000FFFF0000FFFFULL);
  return static_cast<std::uint32_t>((lanes & 0xFFFFFFFFULL) + (lanes >> 32));
}

bool checksum_ok(const std::byte* p) {
  auto stored = nti(p, 148, 8);
  if (!stored) return false;
  // The checksum field itself counts as eight spaces.
  std::int64_t field = 0;
  for (std::size_t i = 148; i < 156; ++i) field += u8(p, i);
  std::int64_t usum = static_cast<std::int64_t>(byte_sum(p)) - field + 256;
  if (*stored == usum) return true;
  // Old tars summed signed chars: each byte >= 128 counts 256 less.
  std::int64_t high = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    if (i >= 148 && i < 156) continue;
    high += u8(p, i) >= 128;
  }
  return *stored == usum - 256 * high;
}

bool parse_decimal(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = n;
  return true;
}

bool is_meta_type(char t) {
  return t == 'x' || t == 'X' || t == 'g' || t == 'L' || t == 'K';
}
// Types Python's tarfile knows; unknown types have their data skipped.
bool is_supported_nonregular(char t) {
  return t >= '1' && t <= '6';
}

}  // namespace

TarParser::TarParser(std::string url) : url_(std::move(url)) {}

void TarParser::fail(std::uint64_t at, const std::string& what) const {
  throw ShardError(url_, at, what);
}

void TarParser::feed(SharedBytes chunk) {
  if (chunk.empty()) return;
  seen_input_ = true;
  if (pos_ < cur_.size()) {
    // Callers feed only after pop() asked for more; tolerate misuse by
    // carrying the rest over rather than dropping it.
    std::vector<std::byte> rest(cur_.span().begin() + static_cast<std::ptrdiff_t>(pos_), cur_.span().end());
    rest.insert(rest.end(), chunk.span().begin(), chunk.span().end());
    chunk = SharedBytes::adopt(std::move(rest));
  }
  cur_ = std::move(chunk);
  pos_ = 0;
}

bool TarParser::take(std::size_t n, SharedBytes& out) {
  std::size_t avail = cur_.size() - pos_;
  if (carry_.empty() && avail >= n) {
    // Members are consumed sequentially; fetching a few KiB ahead hides the
    // cache/TLB misses that otherwise stall on every header.
    if (avail > n + 4096) {
      __builtin_prefetch(cur_.data() + pos_ + n + 2048);
      __builtin_prefetch(cur_.data() + pos_ + n + 4096);
    }
    out = n == 0 ? SharedBytes{} : cur_.slice(pos_, n);
    pos_ += n;
    consumed_ += n;
    return true;
  }
  // Grow with the data actually received, so a lying size field cannot make
  // us allocate more than the stream delivers.
  if (carry_.empty()) carry_.reserve(std::min<std::size_t>(n, std::size_t{64} << 20));
  std::size_t k = std::min(n - carry_.size(), avail);
  carry_.insert(carry_.end(), cur_.data() + pos_, cur_.data() + pos_ + k);
  pos_ += k;
  consumed_ += k;
  if (carry_.size() < n) return false;
  out = SharedBytes::adopt(std::move(carry_));
  carry_ = {};
  return true;
}

void TarParser::process_header(const std::byte* block, std::uint64_t at) {
  if (!checksum_ok(block)) {
    fail(at, at == 0 ? "not a tar archive (bad header checksum)" : "corrupt tar header (bad checksum)");
  }
  char type = static_cast<char>(u8(block, 156));
  std::string name = nts(block, 0, 100);
  std::string prefix = u8(block, 345) ? nts(block, 345, 155) : std::string();
  auto size = nti(block, 124, 12);
  if (!size || *size < 0 || static_cast<std::uint64_t>(*size) > kMaxMemberSize) {
    fail(at, "corrupt tar header (invalid size field) for '" + name + "'");
  }
  if (type == '\0' && !name.empty() && name.back() == '/') type = '5';
  if (!prefix.empty() && type != 'L' && type != 'K' && type != 'S') name = prefix + "/" + name;
  if (!in_chain_) {
    in_chain_ = true;
    chain_offset_ = at;
  }
  cur_type_ = type;
  cur_offset_ = at;
  if (is_meta_type(type)) {
    if (static_cast<std::uint64_t>(*size) > kMaxMetaPayload) fail(at, "extended tar header too large");
    cur_name_ = std::move(name);
    cur_size_ = static_cast<std::uint64_t>(*size);
    cur_has_payload_ = true;
  } else if (type == 'S') {
    fail(at, "GNU sparse tar members are not supported ('" + name + "')");
  } else {
    cur_name_ = next_name_ ? std::move(*next_name_) : std::move(name);
    cur_size_ = next_size_ ? *next_size_ : static_cast<std::uint64_t>(*size);
    // Supported non-regular members (links, dirs, devices) have no data even
    // when a size is given; unknown types have theirs skipped.
    cur_has_payload_ = !is_supported_nonregular(type);
  }
  cur_pad_ = (kBlock - cur_size_ % kBlock) % kBlock;
}

void TarParser::apply_pax(std::span<const std::byte> buf, bool global, std::uint64_t at) {
  std::optional<std::string> path = global ? std::nullopt : global_path_;
  std::optional<std::uint64_t> size = global ? std::nullopt : global_size_;
  auto text = std::string_view(reinterpret_cast<const char*>(buf.data()), buf.size());
  std::size_t pos = 0;
  while (pos < text.size() && text[pos] != '\0') {
    // "<len> <keyword>=<value>\n", len counting the whole record.
    std::size_t sp = pos;
    while (sp < text.size() && text[sp] >= '0' && text[sp] <= '9') ++sp;
    std::uint64_t len = 0;
    if (sp == pos || sp >= text.size() || text[sp] != ' ' ||
        !parse_decimal(text.substr(pos, sp - pos), len) || len < 5 || len > text.size() - pos) {
      fail(at, "corrupt PAX extended header");
    }
    std::size_t end = pos + static_cast<std::size_t>(len) - 1;  // the '\n'
    if (end <= sp || text[end] != '\n') fail(at, "corrupt PAX extended header");
    std::string_view kv = text.substr(sp + 1, end - sp - 1);
    std::size_t eq = kv.find('=');
    if (eq == std::string_view::npos || eq == 0) fail(at, "corrupt PAX extended header");
    std::string_view key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (key == "path") {
      path = std::string(value);
    } else if (key == "size") {
      std::uint64_t n = 0;
      if (!parse_decimal(value, n) || n > kMaxMemberSize) fail(at, "corrupt PAX size record");
      size = n;
    }
    pos += static_cast<std::size_t>(len);
  }
  if (global) {
    if (path) global_path_ = path;
    if (size) global_size_ = size;
  } else {
    if (path && !next_name_) next_name_ = std::move(path);
    if (size && !next_size_) next_size_ = size;
  }
}

std::optional<TarEntry> TarParser::pop() {
  for (;;) {
    switch (state_) {
      case State::end:
        return std::nullopt;
      case State::end_second: {
        SharedBytes block;
        if (!take(kBlock, block)) return std::nullopt;
        state_ = State::end;
        return std::nullopt;
      }
      case State::skip: {
        std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(skip_left_, cur_.size() - pos_));
        pos_ += k;
        consumed_ += k;
        skip_left_ -= k;
        if (skip_left_ > 0) return std::nullopt;
        state_ = State::header;
        break;
      }
      case State::header: {
        SharedBytes block;
        if (!take(kBlock, block)) return std::nullopt;
        std::uint64_t at = consumed_ - kBlock;
        if (all_zero(block.data())) {
          if (in_chain_) fail(at, "tar archive ends inside an extended header sequence");
          state_ = State::end_second;
          break;
        }
        process_header(block.data(), at);
        if (!cur_has_payload_) {
          TarEntry e{std::move(cur_name_), cur_type_, SharedBytes{}, chain_offset_};
          in_chain_ = false;
          next_name_.reset();
          next_size_.reset();
          if (!is_supported_nonregular(cur_type_)) {
            skip_left_ = cur_size_ + cur_pad_;
            state_ = State::skip;
          }
          return e;
        }
        state_ = State::data;
        break;
      }
      case State::data: {
        SharedBytes payload;
        if (!take(static_cast<std::size_t>(cur_size_), payload)) return std::nullopt;
        skip_left_ = cur_pad_;
        state_ = State::skip;
        if (cur_type_ == 'x' || cur_type_ == 'X' || cur_type_ == 'g') {
          apply_pax(payload.span(), cur_type_ == 'g', cur_offset_);
          break;
        }
        if (cur_type_ == 'L') {
          if (!next_name_) next_name_ = nts(payload.data(), 0, payload.size());
          break;
        }
        if (cur_type_ == 'K') break;
        TarEntry e{std::move(cur_name_), cur_type_, std::move(payload), chain_offset_};
        in_chain_ = false;
        next_name_.reset();
        next_size_.reset();
        return e;
      }
    }
  }
}

void TarParser::finish() {
  switch (state_) {
    case State::end:
      return;
    case State::header:
      if (!seen_input_) fail(0, "empty shard (not a tar archive)");
      if (!carry_.empty()) fail(consumed_, "truncated tar header");
      if (in_chain_) fail(consumed_, "truncated tar archive (member header missing after extended header)");
      fail(consumed_, "truncated tar archive (no end-of-archive marker)");
    case State::data:
      fail(consumed_, "truncated tar member '" + cur_name_ + "' (" + std::to_string(carry_.size()) + " of " +
                          std::to_string(cur_size_) + " bytes)");
    case State::skip:
      fail(consumed_, "truncated tar archive (inside member padding)");
    case State::end_second:
      fail(consumed_, "truncated tar archive (end-of-archive marker incomplete)");
  }
}

}  // namespace atdata
