#pragma once
// Hand-written msgpack: a zero-copy pull Reader and an appending Writer.
//
// Why hand-written: the Debian msgpack-c package cannot be installed beside
// Boost 1.81, and we need two things a generic library does not give cheaply:
// (1) output byte-identical to Python `msgpack.packb` defaults (smallest
// integer family, floats always float64, bin for bytes; docs/format.md), and
// (2) a reader that hands out str/bin as views into the input (or SharedBytes
// slices sharing its owner), so sample decoding does not copy array payloads.
//
// The Reader is hostile-input safe: every length and count read from the wire
// is checked against the bytes that remain BEFORE anything is allocated or
// iterated (each element needs at least one byte), nesting is limited by
// kMaxDepth, ext/timestamp types and the reserved byte 0xc1 are rejected, and
// every error is a DecodeError carrying the byte offset.
//
// Hot-path methods are inline; the throwing paths are out of line (cold).

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "atdata/core/shared_bytes.hpp"
#include "atdata/error.hpp"

namespace atdata::msgpack {

// Logical families of a msgpack value (all wire widths of a family collapse).
enum class Type : std::uint8_t { nil, boolean, integer, float32, float64, str, bin, array, map };

// "nil", "bool", "int", "float32", "float64", "str", "bin", "array", "map".
const char* type_name(Type t) noexcept;

// A decoded msgpack integer. msgpack integers span [-2^63, 2^64-1], which no
// single C++ type covers; callers convert with as<T>() (range-checked).
struct Integer {
  std::uint64_t bits = 0;  // two's complement value when negative
  bool negative = false;

  std::int64_t as_signed_unchecked() const noexcept { return static_cast<std::int64_t>(bits); }

  // The value as T, or nullopt if it does not fit.
  template <class T>
  std::optional<T> as() const noexcept {
    static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
    if (negative) {
      if constexpr (std::is_unsigned_v<T>) {
        return std::nullopt;
      } else {
        const auto v = static_cast<std::int64_t>(bits);
        if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min())) return std::nullopt;
        return static_cast<T>(v);
      }
    } else {
      if (bits > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
      return static_cast<T>(bits);
    }
  }
  friend bool operator==(const Integer&, const Integer&) = default;
};

namespace detail {
[[noreturn]] void throw_truncated(std::size_t offset, std::size_t need, std::size_t have, const char* what);
[[noreturn]] void throw_type(std::size_t offset, const char* expected, std::uint8_t byte);
[[noreturn]] void throw_bad_byte(std::size_t offset, std::uint8_t byte);
[[noreturn]] void throw_count(std::size_t offset, const char* what, std::uint64_t count,
                              std::size_t remaining);
[[noreturn]] void throw_depth(std::size_t offset, unsigned limit);
[[noreturn]] void throw_int_range(std::size_t offset, const Integer& v, const char* target);
[[noreturn]] void throw_too_long(const char* what, std::size_t n);

template <class T>
inline T load_be(const std::byte* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(T) == 2) v = static_cast<T>(__builtin_bswap16(static_cast<std::uint16_t>(v)));
    if constexpr (sizeof(T) == 4) v = static_cast<T>(__builtin_bswap32(static_cast<std::uint32_t>(v)));
    if constexpr (sizeof(T) == 8) v = static_cast<T>(__builtin_bswap64(static_cast<std::uint64_t>(v)));
  }
  return v;
}

// Classification of every lead byte; 0xff marks bytes that are not a value
// we accept (0xc1 reserved, ext/fixext/timestamp families).
inline constexpr std::uint8_t kBad = 0xff;
struct LeadTable {
  std::uint8_t type[256];
  constexpr LeadTable() : type{} {
    for (int b = 0; b < 256; ++b) {
      Type t = Type::nil;
      bool ok = true;
      if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) {
        t = Type::integer;
      } else if (b <= 0x8f || b == 0xde || b == 0xdf) {
        t = Type::map;
      } else if (b <= 0x9f || b == 0xdc || b == 0xdd) {
        t = Type::array;
      } else if (b <= 0xbf || (b >= 0xd9 && b <= 0xdb)) {
        t = Type::str;
      } else if (b == 0xc0) {
        t = Type::nil;
      } else if (b == 0xc2 || b == 0xc3) {
        t = Type::boolean;
      } else if (b >= 0xc4 && b <= 0xc6) {
        t = Type::bin;
      } else if (b == 0xca) {
        t = Type::float32;
      } else if (b == 0xcb) {
        t = Type::float64;
      } else {
        ok = false;  // 0xc1, 0xc7-0xc9 ext, 0xd4-0xd8 fixext
      }
      type[b] = ok ? static_cast<std::uint8_t>(t) : kBad;
    }
  }
};
inline constexpr LeadTable kLead{};
}  // namespace detail

// How many elements to reserve for a wire count. Counts are already bounded
// by the remaining bytes, but a container element is much larger than the
// one byte each element needs on the wire; reserving at most this many and
// growing as elements actually decode keeps memory proportional to content.
inline constexpr std::size_t kMaxReserve = 1024;
constexpr std::size_t reserve_hint(std::uint64_t count) noexcept {
  return count < kMaxReserve ? static_cast<std::size_t>(count) : kMaxReserve;
}

class Reader {
 public:
  // Nesting limit for skip() and DOM reads (a sample map holding a list of
  // lists is depth 3; 64 is generous and keeps recursion shallow).
  static constexpr unsigned kMaxDepth = 64;

  Reader() = default;
  // Views into `data`; read_bin_shared() must copy (there is no owner).
  explicit Reader(std::span<const std::byte> data) noexcept : data_(data) {}
  // Views into `data`; read_bin_shared() returns slices sharing its owner.
  explicit Reader(const SharedBytes& data) noexcept : data_(data.span()), owner_(&data) {}

  std::size_t offset() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  bool at_end() const noexcept { return pos_ == data_.size(); }
  std::span<const std::byte> data() const noexcept { return data_; }
  bool has_owner() const noexcept { return owner_ != nullptr; }

  // Family of the next value; DecodeError at end of input or on ext/reserved.
  Type peek() const {
    if (pos_ >= data_.size()) detail::throw_truncated(pos_, 1, 0, "value");
    const auto b = lead();
    const auto t = detail::kLead.type[b];
    if (t == detail::kBad) detail::throw_bad_byte(pos_, b);
    return static_cast<Type>(t);
  }
  bool next_is_nil() const { return peek() == Type::nil; }

  void read_nil() {
    if (peek() != Type::nil) detail::throw_type(pos_, "nil", lead());
    ++pos_;
  }
  bool read_bool() {
    const auto t = peek();
    if (t != Type::boolean) detail::throw_type(pos_, "bool", lead());
    return data_[pos_++] == std::byte{0xc3};
  }

  Integer read_integer() {
    const auto start = pos_;
    const auto b = peek_byte_or_throw();
    if (b <= 0x7f) {
      ++pos_;
      return {b, false};
    }
    if (b >= 0xe0) {
      ++pos_;
      return {static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int8_t>(b))), true};
    }
    switch (b) {
      case 0xcc:
        return {take<std::uint8_t>(start, "uint8"), false};
      case 0xcd:
        return {take<std::uint16_t>(start, "uint16"), false};
      case 0xce:
        return {take<std::uint32_t>(start, "uint32"), false};
      case 0xcf:
        return {take<std::uint64_t>(start, "uint64"), false};
      case 0xd0:
        return signed_int(take<std::int8_t>(start, "int8"));
      case 0xd1:
        return signed_int(take<std::int16_t>(start, "int16"));
      case 0xd2:
        return signed_int(take<std::int32_t>(start, "int32"));
      case 0xd3:
        return signed_int(take<std::int64_t>(start, "int64"));
      default:
        detail::throw_type(start, "int", b);
    }
  }
  // Range-checked into T (DecodeError when it does not fit).
  template <class T>
  T read_int() {
    const auto start = pos_;
    const auto v = read_integer();
    if (auto r = v.template as<T>()) return *r;
    detail::throw_int_range(start, v, int_name<T>());
  }

  // float32 and float64 (float32 widened exactly). Integers are NOT accepted
  // here; callers that want Python-like leniency check peek() first.
  double read_double() {
    const auto start = pos_;
    const auto b = peek_byte_or_throw();
    if (b == 0xcb) return std::bit_cast<double>(take<std::uint64_t>(start, "float64"));
    if (b == 0xca) return static_cast<double>(std::bit_cast<float>(take<std::uint32_t>(start, "float32")));
    detail::throw_type(start, "float", b);
  }

  // A view into the input (UTF-8 is not validated: Python would have failed to
  // write invalid UTF-8, and a reader has no use for rejecting it).
  std::string_view read_str() {
    const auto s = read_str_bytes();
    return {reinterpret_cast<const char*>(s.data()), s.size()};
  }
  std::span<const std::byte> read_str_bytes() {
    const auto start = pos_;
    const auto b = peek_byte_or_throw();
    std::size_t n;
    if (b >= 0xa0 && b <= 0xbf) {
      ++pos_;
      n = b & 0x1f;
    } else if (b == 0xd9) {
      n = take<std::uint8_t>(start, "str8 length");
    } else if (b == 0xda) {
      n = take<std::uint16_t>(start, "str16 length");
    } else if (b == 0xdb) {
      n = take<std::uint32_t>(start, "str32 length");
    } else {
      detail::throw_type(start, "str", b);
    }
    return body(n, "str");
  }

  // A view into the input.
  std::span<const std::byte> read_bin() {
    const auto start = pos_;
    const auto b = peek_byte_or_throw();
    std::size_t n;
    if (b == 0xc4) {
      n = take<std::uint8_t>(start, "bin8 length");
    } else if (b == 0xc5) {
      n = take<std::uint16_t>(start, "bin16 length");
    } else if (b == 0xc6) {
      n = take<std::uint32_t>(start, "bin32 length");
    } else {
      detail::throw_type(start, "bin", b);
    }
    return body(n, "bin");
  }
  // A slice sharing the owner given at construction, else an owning copy.
  SharedBytes read_bin_shared() {
    const auto s = read_bin();
    return owner_ ? owner_->slice(s) : SharedBytes::copy_of(s);
  }
  // Wraps a view of the input as SharedBytes (shared when there is an owner).
  SharedBytes share(std::span<const std::byte> inner) const {
    return owner_ ? owner_->slice(inner) : SharedBytes::copy_of(inner);
  }

  // Element count; guaranteed <= remaining() (each element takes >= 1 byte).
  std::uint32_t read_array_header() {
    const auto start = pos_;
    const auto b = peek_byte_or_throw();
    std::uint32_t n;
    if (b >= 0x90 && b <= 0x9f) {
      ++pos_;
      n = b & 0x0f;
    } else if (b == 0xdc) {
      n = take<std::uint16_t>(start, "array16 count");
    } else if (b == 0xdd) {
      n = take<std::uint32_t>(start, "array32 count");
    } else {
      detail::throw_type(start, "array", b);
    }
    if (n > remaining()) detail::throw_count(start, "array", n, remaining());
    return n;
  }
  // Entry count; guaranteed 2*count <= remaining().
  std::uint32_t read_map_header() {
    const auto start = pos_;
    const auto b = peek_byte_or_throw();
    std::uint32_t n;
    if (b >= 0x80 && b <= 0x8f) {
      ++pos_;
      n = b & 0x0f;
    } else if (b == 0xde) {
      n = take<std::uint16_t>(start, "map16 count");
    } else if (b == 0xdf) {
      n = take<std::uint32_t>(start, "map32 count");
    } else {
      detail::throw_type(start, "map", b);
    }
    if (std::uint64_t{n} * 2 > remaining()) detail::throw_count(start, "map", n, remaining());
    return n;
  }

  // Skips one complete value (any family), enforcing kMaxDepth.
  void skip() { skip_value(0); }

  // The raw bytes of the next complete value, then advances past it.
  std::span<const std::byte> read_raw() {
    const auto start = pos_;
    skip();
    return data_.subspan(start, pos_ - start);
  }

  // Throws "trailing bytes" unless the input was consumed exactly.
  void expect_end() const;

  // For error messages: describes the lead byte at `pos_` ("int", "str", …).
  const char* peek_name() const noexcept;

 private:
  std::uint8_t lead() const noexcept { return static_cast<std::uint8_t>(data_[pos_]); }
  std::uint8_t peek_byte_or_throw() const {
    if (pos_ >= data_.size()) detail::throw_truncated(pos_, 1, 0, "value");
    return lead();
  }
  // Consumes the lead byte plus a big-endian T.
  template <class T>
  T take(std::size_t start, const char* what) {
    if (data_.size() - pos_ < 1 + sizeof(T)) detail::throw_truncated(start, 1 + sizeof(T), remaining(), what);
    const T v = detail::load_be<T>(data_.data() + pos_ + 1);
    pos_ += 1 + sizeof(T);
    return v;
  }
  std::span<const std::byte> body(std::size_t n, const char* what) {
    if (n > remaining()) detail::throw_truncated(pos_, n, remaining(), what);
    const auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  static Integer signed_int(std::int64_t v) noexcept { return {static_cast<std::uint64_t>(v), v < 0}; }
  template <class T>
  static const char* int_name() noexcept {
    if constexpr (std::is_signed_v<T>) {
      return sizeof(T) == 1 ? "int8" : sizeof(T) == 2 ? "int16" : sizeof(T) == 4 ? "int32" : "int64";
    } else {
      return sizeof(T) == 1 ? "uint8" : sizeof(T) == 2 ? "uint16" : sizeof(T) == 4 ? "uint32" : "uint64";
    }
  }
  void skip_value(unsigned depth);

  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
  const SharedBytes* owner_ = nullptr;
};

// Appends msgpack to a byte vector, choosing exactly the families Python
// `msgpack.packb` (defaults, use_bin_type=True) chooses.
class Writer {
 public:
  explicit Writer(std::vector<std::byte>& out) noexcept : out_(&out) {}
  std::vector<std::byte>& buffer() noexcept { return *out_; }

  void write_nil() { put(0xc0); }
  void write_bool(bool v) { put(v ? 0xc3 : 0xc2); }

  void write_uint(std::uint64_t v) {
    if (v <= 0x7f) {
      put(static_cast<std::uint8_t>(v));
    } else if (v <= 0xff) {
      put_be<std::uint8_t>(0xcc, static_cast<std::uint8_t>(v));
    } else if (v <= 0xffff) {
      put_be<std::uint16_t>(0xcd, static_cast<std::uint16_t>(v));
    } else if (v <= 0xffffffffu) {
      put_be<std::uint32_t>(0xce, static_cast<std::uint32_t>(v));
    } else {
      put_be<std::uint64_t>(0xcf, v);
    }
  }
  void write_int(std::int64_t v) {
    if (v >= 0) return write_uint(static_cast<std::uint64_t>(v));
    if (v >= -32) {
      put(static_cast<std::uint8_t>(static_cast<std::int8_t>(v)));
    } else if (v >= -128) {
      put_be<std::uint8_t>(0xd0, static_cast<std::uint8_t>(static_cast<std::int8_t>(v)));
    } else if (v >= -32768) {
      put_be<std::uint16_t>(0xd1, static_cast<std::uint16_t>(static_cast<std::int16_t>(v)));
    } else if (v >= std::numeric_limits<std::int32_t>::min()) {
      put_be<std::uint32_t>(0xd2, static_cast<std::uint32_t>(static_cast<std::int32_t>(v)));
    } else {
      put_be<std::uint64_t>(0xd3, static_cast<std::uint64_t>(v));
    }
  }
  void write_integer(const Integer& v) {
    v.negative ? write_int(v.as_signed_unchecked()) : write_uint(v.bits);
  }
  template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) void write_integer(T v) {
    if constexpr (std::is_signed_v<T>) {
      write_int(v);
    } else {
      write_uint(v);
    }
  }
  // Always float64 (Python floats are doubles); bit-exact incl. NaN and -0.0.
  void write_double(double v) { put_be<std::uint64_t>(0xcb, std::bit_cast<std::uint64_t>(v)); }

  void write_str(std::string_view s) {
    write_str_header(s.size());
    put_bytes(s.data(), s.size());
  }
  void write_str_header(std::size_t n) {
    if (n < 32) {
      put(static_cast<std::uint8_t>(0xa0 | n));
    } else if (n <= 0xff) {
      put_be<std::uint8_t>(0xd9, static_cast<std::uint8_t>(n));
    } else if (n <= 0xffff) {
      put_be<std::uint16_t>(0xda, static_cast<std::uint16_t>(n));
    } else if (n <= 0xffffffffu) {
      put_be<std::uint32_t>(0xdb, static_cast<std::uint32_t>(n));
    } else {
      detail::throw_too_long("str", n);
    }
  }
  void write_bin(std::span<const std::byte> b) {
    write_bin_header(b.size());
    put_bytes(b.data(), b.size());
  }
  // Header only; the caller appends exactly n bytes next (used to serialize an
  // array straight into the output without an intermediate buffer).
  void write_bin_header(std::size_t n) {
    if (n <= 0xff) {
      put_be<std::uint8_t>(0xc4, static_cast<std::uint8_t>(n));
    } else if (n <= 0xffff) {
      put_be<std::uint16_t>(0xc5, static_cast<std::uint16_t>(n));
    } else if (n <= 0xffffffffu) {
      put_be<std::uint32_t>(0xc6, static_cast<std::uint32_t>(n));
    } else {
      detail::throw_too_long("bin", n);
    }
  }
  void write_array_header(std::size_t n) {
    if (n < 16) {
      put(static_cast<std::uint8_t>(0x90 | n));
    } else if (n <= 0xffff) {
      put_be<std::uint16_t>(0xdc, static_cast<std::uint16_t>(n));
    } else if (n <= 0xffffffffu) {
      put_be<std::uint32_t>(0xdd, static_cast<std::uint32_t>(n));
    } else {
      detail::throw_too_long("array", n);
    }
  }
  void write_map_header(std::size_t n) {
    if (n < 16) {
      put(static_cast<std::uint8_t>(0x80 | n));
    } else if (n <= 0xffff) {
      put_be<std::uint16_t>(0xde, static_cast<std::uint16_t>(n));
    } else if (n <= 0xffffffffu) {
      put_be<std::uint32_t>(0xdf, static_cast<std::uint32_t>(n));
    } else {
      detail::throw_too_long("map", n);
    }
  }
  // Pre-encoded msgpack (or payload after write_bin_header).
  void write_raw(std::span<const std::byte> b) { put_bytes(b.data(), b.size()); }

 private:
  void put(std::uint8_t b) { out_->push_back(static_cast<std::byte>(b)); }
  template <class T>
  void put_be(std::uint8_t lead, T v) {
    std::byte buf[1 + sizeof(T)];
    buf[0] = static_cast<std::byte>(lead);
    if constexpr (sizeof(T) == 1) {
      buf[1] = static_cast<std::byte>(v);
    } else {
      const T be = detail::load_be<T>(reinterpret_cast<const std::byte*>(&v));  // swap to big-endian
      std::memcpy(buf + 1, &be, sizeof(T));
    }
    put_bytes(buf, sizeof buf);
  }
  void put_bytes(const void* p, std::size_t n) {
    const auto old = out_->size();
    out_->resize(old + n);
    if (n) std::memcpy(out_->data() + old, p, n);
  }

  std::vector<std::byte>* out_;
};

}  // namespace atdata::msgpack
