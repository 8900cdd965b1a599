#pragma once
// Dtype: the element type of an NDArray, modelled on numpy's dtype so that
// `.npy` descr strings ("<f4", "|u1", ">i4", "<U3") and numpy names
// ("float32") map one-to-one. Only fixed-size, non-object types exist:
// object arrays (`|O`) cannot be represented in C++ and are rejected.

#include <bit>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "atdata/core/float16.hpp"
#include "atdata/error.hpp"

namespace atdata {

enum class DtypeKind : std::uint8_t {
  Bool,
  Int8,
  Int16,
  Int32,
  Int64,
  UInt8,
  UInt16,
  UInt32,
  UInt64,
  Float16,
  Float32,
  Float64,
  Complex64,
  Complex128,
  Bytes,    // numpy `S<n>`: n raw bytes, NUL padded
  Unicode,  // numpy `U<n>`: n UCS-4 code units (itemsize 4n)
};

// NotApplicable is used for 1-byte types and byte strings ('|' in numpy).
enum class ByteOrder : std::uint8_t { Little, Big, NotApplicable };

inline constexpr ByteOrder native_byte_order =
    std::endian::native == std::endian::little ? ByteOrder::Little : ByteOrder::Big;

class Dtype {
 public:
  // float64 in native order, like numpy's default dtype.
  constexpr Dtype() noexcept = default;

  // A numeric dtype (Bool..Complex128). The order is ignored (NotApplicable)
  // for 1-byte kinds, and NotApplicable means native for wider kinds.
  static constexpr Dtype numeric(DtypeKind kind, ByteOrder order = native_byte_order);
  // `|S<n>`, n >= 1.
  static Dtype bytes(std::uint32_t n);
  // `<U<n>` / `>U<n>`, n >= 1 characters.
  static Dtype unicode(std::uint32_t n, ByteOrder order = native_byte_order);

  // numpy typestr ("<f4", "|u1", ">i8", "f8", "=i4", "|S5", "<U3", "?"-free forms).
  // Throws DecodeError naming the bad text; `|O` gets "object arrays are not supported".
  static Dtype parse(std::string_view descr);
  static std::optional<Dtype> try_parse(std::string_view descr) noexcept;
  // numpy names: "bool", "int8".."uint64", "float16", "float32", "float64",
  // "complex64", "complex128" (native order). Throws InvalidArgument.
  static Dtype from_name(std::string_view name);
  static std::optional<Dtype> try_from_name(std::string_view name) noexcept;

  // The dtype of a C++ element type: bool, the fixed-width integers (any
  // integral type maps by size and signedness), float, double, float16,
  // std::complex<float>, std::complex<double>.
  template <class T>
  static constexpr Dtype of() noexcept;

  constexpr DtypeKind kind() const noexcept { return kind_; }
  constexpr ByteOrder byte_order() const noexcept { return order_; }
  constexpr std::size_t itemsize() const noexcept { return itemsize_; }
  // Natural alignment of one element in memory (what typed access needs).
  constexpr std::size_t alignment() const noexcept;
  // True when the bytes can be read as the C++ type without swapping.
  constexpr bool is_native() const noexcept {
    return order_ == ByteOrder::NotApplicable || order_ == native_byte_order;
  }
  constexpr bool is_numeric() const noexcept { return kind_ <= DtypeKind::Complex128; }
  constexpr bool is_bool() const noexcept { return kind_ == DtypeKind::Bool; }
  constexpr bool is_integer() const noexcept {
    return kind_ >= DtypeKind::Int8 && kind_ <= DtypeKind::UInt64;
  }
  constexpr bool is_signed_integer() const noexcept {
    return kind_ >= DtypeKind::Int8 && kind_ <= DtypeKind::Int64;
  }
  constexpr bool is_float() const noexcept {
    return kind_ >= DtypeKind::Float16 && kind_ <= DtypeKind::Float64;
  }
  constexpr bool is_complex() const noexcept {
    return kind_ == DtypeKind::Complex64 || kind_ == DtypeKind::Complex128;
  }
  constexpr bool is_string() const noexcept {
    return kind_ == DtypeKind::Bytes || kind_ == DtypeKind::Unicode;
  }

  // Same kind and size, other byte order (no-op for order-less kinds).
  constexpr Dtype with_byte_order(ByteOrder order) const noexcept;
  constexpr Dtype native() const noexcept { return with_byte_order(native_byte_order); }

  // numpy `dtype.str`: "<f4", "|u1", ">i4", "|b1", "<c16", "|S5", "<U3".
  std::string str() const;
  // numpy `dtype.name`: "float32", "uint8", "bool", "complex64", "bytes40", "str96".
  std::string name() const;

  friend constexpr bool operator==(const Dtype&, const Dtype&) noexcept = default;

 private:
  constexpr Dtype(DtypeKind k, ByteOrder o, std::uint32_t size) noexcept
      : kind_(k), order_(o), itemsize_(size) {}
  static constexpr std::uint32_t numeric_size(DtypeKind k) noexcept;

  DtypeKind kind_ = DtypeKind::Float64;
  ByteOrder order_ = native_byte_order;
  std::uint32_t itemsize_ = 8;
};

// ---- inline definitions -------------------------------------------------

constexpr std::uint32_t Dtype::numeric_size(DtypeKind k) noexcept {
  switch (k) {
    case DtypeKind::Bool:
    case DtypeKind::Int8:
    case DtypeKind::UInt8:
      return 1;
    case DtypeKind::Int16:
    case DtypeKind::UInt16:
    case DtypeKind::Float16:
      return 2;
    case DtypeKind::Int32:
    case DtypeKind::UInt32:
    case DtypeKind::Float32:
      return 4;
    case DtypeKind::Int64:
    case DtypeKind::UInt64:
    case DtypeKind::Float64:
    case DtypeKind::Complex64:
      return 8;
    case DtypeKind::Complex128:
      return 16;
    default:
      return 0;
  }
}

constexpr Dtype Dtype::numeric(DtypeKind kind, ByteOrder order) {
  const std::uint32_t size = numeric_size(kind);
  if (size == 0) {
    // Not constexpr-evaluable on purpose: string kinds need a length.
    throw InvalidArgument("Dtype::numeric: string kinds need Dtype::bytes/unicode");
  }
  if (size == 1)
    order = ByteOrder::NotApplicable;
  else if (order == ByteOrder::NotApplicable)
    order = native_byte_order;
  return Dtype(kind, order, size);
}

constexpr std::size_t Dtype::alignment() const noexcept {
  switch (kind_) {
    case DtypeKind::Complex64:
      return 4;
    case DtypeKind::Complex128:
      return 8;
    case DtypeKind::Bytes:
      return 1;
    case DtypeKind::Unicode:
      return 4;
    default:
      return itemsize_;
  }
}

constexpr Dtype Dtype::with_byte_order(ByteOrder order) const noexcept {
  if (order_ == ByteOrder::NotApplicable) return *this;
  if (order == ByteOrder::NotApplicable) order = native_byte_order;
  return Dtype(kind_, order, itemsize_);
}

template <class T>
constexpr Dtype Dtype::of() noexcept {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, bool>) {
    return numeric(DtypeKind::Bool);
  } else if constexpr (std::is_integral_v<U>) {
    static_assert(sizeof(U) == 1 || sizeof(U) == 2 || sizeof(U) == 4 || sizeof(U) == 8);
    if constexpr (std::is_signed_v<U>) {
      return numeric(sizeof(U) == 1   ? DtypeKind::Int8
                     : sizeof(U) == 2 ? DtypeKind::Int16
                     : sizeof(U) == 4 ? DtypeKind::Int32
                                      : DtypeKind::Int64);
    } else {
      return numeric(sizeof(U) == 1   ? DtypeKind::UInt8
                     : sizeof(U) == 2 ? DtypeKind::UInt16
                     : sizeof(U) == 4 ? DtypeKind::UInt32
                                      : DtypeKind::UInt64);
    }
  } else if constexpr (std::is_same_v<U, float16>) {
    return numeric(DtypeKind::Float16);
  } else if constexpr (std::is_same_v<U, float>) {
    static_assert(sizeof(float) == 4);
    return numeric(DtypeKind::Float32);
  } else if constexpr (std::is_same_v<U, double>) {
    static_assert(sizeof(double) == 8);
    return numeric(DtypeKind::Float64);
  } else if constexpr (std::is_same_v<U, std::complex<float>>) {
    return numeric(DtypeKind::Complex64);
  } else if constexpr (std::is_same_v<U, std::complex<double>>) {
    return numeric(DtypeKind::Complex128);
  } else {
    static_assert(sizeof(U) == 0, "Dtype::of<T>: T is not an NDArray element type");
  }
}

}  // namespace atdata
