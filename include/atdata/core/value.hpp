#pragma once
// atdata::Value: one dynamically typed sample value — what a packed msgpack
// value decodes to when no C++ type is known (DynamicSample fields, metadata
// maps, `atdata cat`). It covers exactly the packed-sample value kinds plus
// maps: null, bool, int, float, str, bytes, ndarray, list, map.
//
// Integers: msgpack spans [-2^63, 2^64-1]; a Value stores int64 whenever the
// number fits and uint64 only above INT64_MAX, so equal numbers compare equal
// whatever family they were read from. Maps keep insertion (wire) order and
// have string keys only (Python atdata's maps are keyed by field names).
//
// Bytes is SharedBytes: decoding from a SharedBytes buffer makes bin values
// zero-copy slices that keep the buffer alive.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "atdata/core/msgpack.hpp"
#include "atdata/core/ndarray.hpp"
#include "atdata/core/shared_bytes.hpp"
#include "atdata/error.hpp"

namespace atdata {

// The bytes field kind (Python `bytes`). Build one with Bytes::copy_of(...) or
// Bytes::adopt(std::move(vec)); decoded values share the source buffer.
using Bytes = SharedBytes;

class Value;
using List = std::vector<Value>;
using Map = std::vector<std::pair<std::string, Value>>;

enum class ValueKind : std::uint8_t { null, boolean, integer, floating, str, bytes, ndarray, list, map };
// "null", "bool", "int", "float", "str", "bytes", "ndarray", "list", "map".
const char* to_string(ValueKind k) noexcept;

class Value {
 public:
  Value() noexcept = default;  // null
  Value(std::nullptr_t) noexcept {}
  Value(bool v) noexcept : v_(v) {}
  template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool> && !std::is_same_v<I, char>) Value(I v)
  noexcept {
    if constexpr (std::is_signed_v<I>) {
      v_ = static_cast<std::int64_t>(v);
    } else if (static_cast<std::uint64_t>(v) <= static_cast<std::uint64_t>(INT64_MAX)) {
      v_ = static_cast<std::int64_t>(v);
    } else {
      v_ = static_cast<std::uint64_t>(v);
    }
  }
  Value(const msgpack::Integer& v) noexcept {
    if (v.negative || v.bits <= static_cast<std::uint64_t>(INT64_MAX)) {
      v_ = static_cast<std::int64_t>(v.bits);
    } else {
      v_ = v.bits;
    }
  }
  Value(double v) noexcept : v_(v) {}
  Value(float v) noexcept : v_(static_cast<double>(v)) {}
  Value(std::string v) noexcept : v_(std::move(v)) {}
  Value(std::string_view v) : v_(std::string(v)) {}
  Value(const char* v) : v_(std::string(v)) {}
  Value(Bytes v) noexcept : v_(std::move(v)) {}
  Value(NDArray v) noexcept : v_(std::move(v)) {}
  Value(List v) noexcept : v_(std::move(v)) {}
  Value(Map v) noexcept : v_(std::move(v)) {}

  ValueKind kind() const noexcept;
  bool is_null() const noexcept { return v_.index() == 0; }
  bool is_bool() const noexcept { return std::holds_alternative<bool>(v_); }
  bool is_int() const noexcept {
    return std::holds_alternative<std::int64_t>(v_) || std::holds_alternative<std::uint64_t>(v_);
  }
  bool is_float() const noexcept { return std::holds_alternative<double>(v_); }
  bool is_str() const noexcept { return std::holds_alternative<std::string>(v_); }
  bool is_bytes() const noexcept { return std::holds_alternative<Bytes>(v_); }
  bool is_ndarray() const noexcept { return std::holds_alternative<NDArray>(v_); }
  bool is_list() const noexcept { return std::holds_alternative<List>(v_); }
  bool is_map() const noexcept { return std::holds_alternative<Map>(v_); }

  // Checked accessors: TypeError "expected int, got str" on a kind mismatch.
  bool as_bool() const;
  std::int64_t as_int() const;    // TypeError also when the value is > INT64_MAX
  std::uint64_t as_uint() const;  // TypeError when negative
  msgpack::Integer as_integer() const;
  double as_double() const;  // floats, and ints converted (Python-like)
  const std::string& as_str() const;
  const Bytes& as_bytes() const;
  const NDArray& as_ndarray() const;
  const List& as_list() const;
  List& as_list();
  const Map& as_map() const;
  Map& as_map();

  // Map lookup (first match, linear: sample maps are small); nullptr when
  // absent. TypeError when this is not a map.
  const Value* find(std::string_view key) const;

  // Conversion to a C++ type, with the same rules as typed sample decoding:
  // bool, any integer type (range-checked), float/double, std::string,
  // std::string_view (a view into this Value), Bytes, NDArray, List, Map,
  // Value, std::vector<U>, std::optional<U> (null -> nullopt).
  // Throws TypeError naming expected and actual kinds.
  template <class T>
  T get() const;

  const auto& storage() const noexcept { return v_; }

  friend bool operator==(const Value& a, const Value& b) noexcept;

 private:
  [[noreturn]] void throw_kind(const char* expected) const;

  std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string, Bytes, NDArray, List,
               Map>
      v_;
};

// JSON-like text for humans and tests: {"a": 1, "b": [1.5, null]}; bytes as
// b"\x00…" (truncated after 64 bytes), ndarrays as ndarray<float32 (2, 3)>.
std::string to_display_string(const Value& v);

namespace msgpack {

// The msgpack DOM is the sample Value (maps with string keys, bin as Bytes).
using Value = atdata::Value;

// One complete value from the reader (depth-limited by Reader::kMaxDepth).
// bin becomes Bytes (a shared slice when the Reader has an owner), float32
// widens to double; map keys must be str (DecodeError otherwise).
Value read_value(Reader& r);
// Python-identical encoding; NDArray as .npy v1.0 in bin.
void write_value(Writer& w, const Value& v);

// Whole-buffer helpers: exactly one value, no trailing bytes.
Value unpack_value(const SharedBytes& bytes);
Value unpack_value(std::span<const std::byte> bytes);  // bin values copied
std::vector<std::byte> pack_value(const Value& v);

}  // namespace msgpack

// ---- Value::get<T> ---------------------------------------------------------

namespace detail {
template <class T>
struct is_std_vector : std::false_type {};
template <class U, class A>
struct is_std_vector<std::vector<U, A>> : std::true_type {};
template <class T>
struct is_std_optional : std::false_type {};
template <class U>
struct is_std_optional<std::optional<U>> : std::true_type {};
[[noreturn]] void throw_int_range(const msgpack::Integer& v, const char* target);
}  // namespace detail

template <class T>
T Value::get() const {
  if constexpr (std::is_same_v<T, Value>) {
    return *this;
  } else if constexpr (std::is_same_v<T, bool>) {
    return as_bool();
  } else if constexpr (std::is_integral_v<T>) {
    const auto i = as_integer();
    if (auto r = i.template as<T>()) return *r;
    detail::throw_int_range(
        i, std::is_signed_v<T> ? "a signed integer of this width" : "an unsigned integer of this width");
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(as_double());
  } else if constexpr (std::is_same_v<T, std::string>) {
    return as_str();
  } else if constexpr (std::is_same_v<T, std::string_view>) {
    return std::string_view(as_str());
  } else if constexpr (std::is_same_v<T, Bytes>) {
    return as_bytes();
  } else if constexpr (std::is_same_v<T, NDArray>) {
    return as_ndarray();
  } else if constexpr (std::is_same_v<T, List>) {
    return as_list();
  } else if constexpr (std::is_same_v<T, Map>) {
    return as_map();
  } else if constexpr (std::is_same_v<T, std::vector<std::byte>>) {
    const auto& b = as_bytes();
    return std::vector<std::byte>(b.span().begin(), b.span().end());
  } else if constexpr (detail::is_std_optional<T>::value) {
    if (is_null()) return std::nullopt;
    return get<typename T::value_type>();
  } else if constexpr (detail::is_std_vector<T>::value) {
    const auto& l = as_list();
    T out;
    out.reserve(l.size());
    for (const auto& e : l) out.push_back(e.template get<typename T::value_type>());
    return out;
  } else {
    static_assert(sizeof(T) == 0, "Value::get<T>: unsupported type");
  }
}

}  // namespace atdata
