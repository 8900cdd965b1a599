#include "atdata/core/msgpack.hpp"

#include <string>

namespace atdata::msgpack {

const char* type_name(Type t) noexcept {
  switch (t) {
    case Type::nil:
      return "nil";
    case Type::boolean:
      return "bool";
    case Type::integer:
      return "int";
    case Type::float32:
      return "float32";
    case Type::float64:
      return "float64";
    case Type::str:
      return "str";
    case Type::bin:
      return "bin";
    case Type::array:
      return "array";
    case Type::map:
      return "map";
  }
  return "?";
}

namespace {
std::string hex_byte(std::uint8_t b) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[b >> 4] + kHex[b & 15];
}
const char* lead_name(std::uint8_t b) noexcept {
  const auto t = detail::kLead.type[b];
  if (t != detail::kBad) return type_name(static_cast<Type>(t));
  if (b == 0xc1) return "reserved byte 0xc1";
  return "ext";
}
}  // namespace

namespace detail {

void throw_truncated(std::size_t offset, std::size_t need, std::size_t have, const char* what) {
  throw DecodeError("msgpack truncated: " + std::string(what) + " needs " + std::to_string(need) +
                        " bytes, only " + std::to_string(have) + " left",
                    offset);
}
void throw_type(std::size_t offset, const char* expected, std::uint8_t byte) {
  throw DecodeError(
      std::string("msgpack: expected ") + expected + ", got " + lead_name(byte) + " (" + hex_byte(byte) + ")",
      offset);
}
void throw_bad_byte(std::size_t offset, std::uint8_t byte) {
  if (byte == 0xc1) throw DecodeError("msgpack: reserved byte 0xc1", offset);
  throw DecodeError("msgpack: extension types are not supported (" + hex_byte(byte) + ")", offset);
}
void throw_count(std::size_t offset, const char* what, std::uint64_t count, std::size_t remaining) {
  throw DecodeError(std::string("msgpack: ") + what + " claims " + std::to_string(count) +
                        " elements but only " + std::to_string(remaining) + " bytes remain",
                    offset);
}
void throw_depth(std::size_t offset, unsigned limit) {
  throw DecodeError("msgpack: nesting deeper than " + std::to_string(limit), offset);
}
void throw_int_range(std::size_t offset, const Integer& v, const char* target) {
  const std::string s = v.negative ? std::to_string(v.as_signed_unchecked()) : std::to_string(v.bits);
  throw DecodeError("msgpack: integer " + s + " does not fit in " + target, offset);
}
void throw_too_long(const char* what, std::size_t n) {
  throw InvalidArgument(std::string("msgpack: ") + what + " of length " + std::to_string(n) +
                        " exceeds the 2^32-1 limit of the format");
}

}  // namespace detail

const char* Reader::peek_name() const noexcept {
  if (pos_ >= data_.size()) return "end of input";
  return lead_name(lead());
}

void Reader::expect_end() const {
  if (!at_end()) {
    throw DecodeError("msgpack: " + std::to_string(remaining()) + " trailing bytes after the value", pos_);
  }
}

void Reader::skip_value(unsigned depth) {
  switch (peek()) {
    case Type::nil:
    case Type::boolean:
      ++pos_;
      return;
    case Type::integer:
      (void)read_integer();
      return;
    case Type::float32:
    case Type::float64:
      (void)read_double();
      return;
    case Type::str:
      (void)read_str_bytes();
      return;
    case Type::bin:
      (void)read_bin();
      return;
    case Type::array: {
      if (depth >= kMaxDepth) detail::throw_depth(pos_, kMaxDepth);
      const auto n = read_array_header();
      for (std::uint32_t i = 0; i < n; ++i) skip_value(depth + 1);
      return;
    }
    case Type::map: {
      if (depth >= kMaxDepth) detail::throw_depth(pos_, kMaxDepth);
      const auto n = read_map_header();
      for (std::uint32_t i = 0; i < n; ++i) {
        skip_value(depth + 1);
        skip_value(depth + 1);
      }
      return;
    }
  }
}

}  // namespace atdata::msgpack
