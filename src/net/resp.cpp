#include "atdata/net/resp.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "atdata/error.hpp"
#include "atdata/net/redis.hpp"

namespace atdata::net {

namespace {

const char* type_name(RespValue::Type t) {
  switch (t) {
    case RespValue::Type::simple_string:
      return "simple string";
    case RespValue::Type::error:
      return "error";
    case RespValue::Type::integer:
      return "integer";
    case RespValue::Type::bulk_string:
      return "bulk string";
    case RespValue::Type::null:
      return "null";
    case RespValue::Type::array:
      return "array";
  }
  return "unknown";
}

[[noreturn]] void wrong_type(RespValue::Type have, const char* wanted) {
  throw TypeError(std::string("RESP value is ") + type_name(have) + ", not " + wanted);
}

void append_decimal(std::string& out, std::uint64_t n) {
  char tmp[24];
  auto r = std::to_chars(tmp, tmp + sizeof tmp, n);
  out.append(tmp, r.ptr);
}

std::string escaped(std::string_view s, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (s.size() > max) out += "…";
  return out;
}

// Strict decimal: optional '-', digits, nothing else (Redis sends no '+',
// no spaces, no leading zeros we need to reject).
bool parse_int(std::string_view s, std::int64_t& v) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

RespValue RespValue::make_simple_string(std::string s) {
  RespValue v;
  v.type_ = Type::simple_string;
  v.str_ = std::move(s);
  return v;
}
RespValue RespValue::make_error(std::string s) {
  RespValue v;
  v.type_ = Type::error;
  v.str_ = std::move(s);
  return v;
}
RespValue RespValue::make_integer(std::int64_t i) {
  RespValue v;
  v.type_ = Type::integer;
  v.int_ = i;
  return v;
}
RespValue RespValue::make_bulk_string(std::string s) {
  RespValue v;
  v.type_ = Type::bulk_string;
  v.str_ = std::move(s);
  return v;
}
RespValue RespValue::make_null() {
  return RespValue();
}
RespValue RespValue::make_array(std::vector<RespValue> elements) {
  RespValue v;
  v.type_ = Type::array;
  v.array_ = std::move(elements);
  return v;
}

std::string_view RespValue::str() const {
  if (!is_string()) wrong_type(type_, "a string");
  return str_;
}
std::string RespValue::take_str() {
  if (!is_string()) wrong_type(type_, "a string");
  return std::move(str_);
}
std::int64_t RespValue::integer() const {
  if (type_ != Type::integer) wrong_type(type_, "an integer");
  return int_;
}
const std::vector<RespValue>& RespValue::array() const {
  if (type_ != Type::array) wrong_type(type_, "an array");
  return array_;
}
std::vector<RespValue>& RespValue::array() {
  if (type_ != Type::array) wrong_type(type_, "an array");
  return array_;
}

void RespValue::throw_if_error(std::string_view command) const {
  if (type_ == Type::error) throw RedisError(std::string(command), str_);
}

bool operator==(const RespValue& a, const RespValue& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case RespValue::Type::integer:
      return a.int_ == b.int_;
    case RespValue::Type::array:
      return a.array_ == b.array_;
    case RespValue::Type::null:
      return true;
    default:
      return a.str_ == b.str_;
  }
}

std::string RespValue::debug_string() const {
  switch (type_) {
    case Type::simple_string:
      return "+\"" + escaped(str_, 64) + "\"";
    case Type::error:
      return "-\"" + escaped(str_, 64) + "\"";
    case Type::integer:
      return std::to_string(int_);
    case Type::bulk_string:
      return "\"" + escaped(str_, 64) + "\"";
    case Type::null:
      return "null";
    case Type::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < array_.size(); ++i) {
        if (i == 8) {
          out += ", … (" + std::to_string(array_.size()) + " elements)";
          break;
        }
        if (i) out += ", ";
        out += array_[i].debug_string();
      }
      return out + "]";
    }
  }
  return "?";
}

void append_array_header(std::string& out, std::size_t n) {
  out += '*';
  append_decimal(out, n);
  out += "\r\n";
}

void append_bulk(std::string& out, std::string_view arg) {
  out += '$';
  append_decimal(out, arg.size());
  out += "\r\n";
  out.append(arg);
  out += "\r\n";
}

void append_command(std::string& out, std::span<const std::string_view> args) {
  append_array_header(out, args.size());
  for (std::string_view a : args) append_bulk(out, a);
}

RespParser::RespParser(RespLimits limits) : limits_(limits) {}

void RespParser::compact() {
  // Parsed bytes are dropped once they are at least half the buffer, so the
  // buffer stays about as large as the largest unparsed piece.
  if (pos_ == 0 || pos_ * 2 < buf_.size()) return;
  buf_.erase(0, pos_);
  base_ += pos_;
  scan_ -= std::min(scan_, pos_);
  pos_ = 0;
}

void RespParser::feed(std::string_view bytes) {
  compact();
  buf_.append(bytes);
}

void RespParser::feed(std::span<const std::byte> bytes) {
  feed(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::span<char> RespParser::prepare(std::size_t n) {
  compact();
  buf_.resize(buf_.size() - reserved_ + n);
  reserved_ = n;
  return std::span<char>(buf_.data() + buf_.size() - n, n);
}

void RespParser::commit(std::size_t k) {
  buf_.resize(buf_.size() - reserved_ + std::min(k, reserved_));
  reserved_ = 0;
}

bool RespParser::idle() const noexcept {
  return stack_.empty() && !in_bulk_ && pos_ == buf_.size() - reserved_;
}

void RespParser::fail(const std::string& what, std::uint64_t offset) {
  error_ = "malformed RESP reply: " + what;
  error_offset_ = offset;
  throw DecodeError(*error_, offset);
}

std::optional<RespValue> RespParser::complete(RespValue v) {
  while (!stack_.empty()) {
    Frame& top = stack_.back();
    top.elements.push_back(std::move(v));
    if (--top.remaining > 0) return std::nullopt;
    v = RespValue::make_array(std::move(top.elements));
    stack_.pop_back();
  }
  return v;
}

std::optional<RespValue> RespParser::next() {
  if (error_) throw DecodeError(*error_, error_offset_);
  const std::size_t end = buf_.size() - reserved_;
  for (;;) {
    if (in_bulk_) {
      const std::size_t avail = end - pos_;
      if (bulk_left_ > 0) {
        const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(bulk_left_, avail));
        bulk_.append(buf_, pos_, take);
        pos_ += take;
        bulk_left_ -= take;
        if (bulk_left_ > 0) return std::nullopt;
      }
      if (end - pos_ < 2) return std::nullopt;
      if (buf_[pos_] != '\r' || buf_[pos_ + 1] != '\n')
        fail("bulk string not followed by CRLF", base_ + pos_);
      pos_ += 2;
      scan_ = pos_;
      in_bulk_ = false;
      if (auto v = complete(RespValue::make_bulk_string(std::move(bulk_)))) return v;
      bulk_.clear();
      continue;
    }

    // A header line. The LF search resumes where it stopped, so a line fed
    // one byte at a time costs linear, not quadratic, time.
    const std::size_t line_start = pos_;
    scan_ = std::max(scan_, pos_);
    const std::size_t limit = std::min<std::size_t>(end, line_start + limits_.max_line_bytes + 2);
    const void* lf = scan_ < limit ? std::memchr(buf_.data() + scan_, '\n', limit - scan_) : nullptr;
    if (!lf) {
      scan_ = limit;
      if (limit - line_start >= limits_.max_line_bytes + 2) {
        fail("line longer than " + std::to_string(limits_.max_line_bytes) + " bytes", base_ + line_start);
      }
      return std::nullopt;
    }
    const std::size_t lf_at = static_cast<const char*>(lf) - buf_.data();
    if (lf_at == line_start || buf_[lf_at - 1] != '\r') fail("line not terminated by CRLF", base_ + lf_at);
    if (lf_at - 1 == line_start) fail("empty line", base_ + line_start);
    const char kind = buf_[line_start];
    const std::string_view body(buf_.data() + line_start + 1, lf_at - 1 - line_start - 1);
    const std::uint64_t at = base_ + line_start;
    pos_ = lf_at + 1;
    scan_ = pos_;

    std::optional<RespValue> done;
    switch (kind) {
      case '+':
        done = complete(RespValue::make_simple_string(std::string(body)));
        break;
      case '-':
        done = complete(RespValue::make_error(std::string(body)));
        break;
      case ':': {
        std::int64_t v = 0;
        if (!parse_int(body, v)) fail("bad integer '" + escaped(body, 32) + "'", at);
        done = complete(RespValue::make_integer(v));
        break;
      }
      case '$': {
        std::int64_t n = 0;
        if (!parse_int(body, n) || n < -1) fail("bad bulk string length '" + escaped(body, 32) + "'", at);
        if (n == -1) {
          done = complete(RespValue::make_null());
          break;
        }
        if (static_cast<std::uint64_t>(n) > limits_.max_bulk_bytes) {
          fail("bulk string of " + std::to_string(n) + " bytes exceeds the limit of " +
                   std::to_string(limits_.max_bulk_bytes) + " bytes",
               at);
        }
        in_bulk_ = true;
        bulk_left_ = static_cast<std::uint64_t>(n);
        bulk_.clear();
        // Reserved up to what is already here (or 1 MiB): the declared size
        // is only believed as far as bytes arrive to back it.
        bulk_.reserve(static_cast<std::size_t>(
            std::min<std::uint64_t>(bulk_left_, std::max<std::size_t>(end - pos_, 1u << 20))));
        continue;
      }
      case '*': {
        std::int64_t n = 0;
        if (!parse_int(body, n) || n < -1) fail("bad array length '" + escaped(body, 32) + "'", at);
        if (n == -1) {
          done = complete(RespValue::make_null());
          break;
        }
        if (static_cast<std::uint64_t>(n) > limits_.max_array_elements) {
          fail("array of " + std::to_string(n) + " elements exceeds the limit of " +
                   std::to_string(limits_.max_array_elements),
               at);
        }
        if (n == 0) {
          done = complete(RespValue::make_array({}));
          break;
        }
        if (stack_.size() >= limits_.max_depth) {
          fail("arrays nested deeper than " + std::to_string(limits_.max_depth), at);
        }
        Frame f;
        f.remaining = static_cast<std::uint64_t>(n);
        // As for bulk strings: a declared count is believed only as far as
        // elements arrive, so at most 1024 slots are allocated up front.
        f.elements.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(f.remaining, 1024)));
        stack_.push_back(std::move(f));
        continue;
      }
      default:
        fail("unexpected type byte '" + escaped(std::string_view(&kind, 1), 1) + "'", at);
    }
    if (done) return done;
  }
}

}  // namespace atdata::net
