#include "core/convert.hpp"

#include <cmath>
#include <complex>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "atdata/core/simd.hpp"
#include "atdata/error.hpp"

namespace atdata::detail {

namespace {

// Storage type per kind (bool is one byte; any nonzero byte reads as true).
template <DtypeKind K>
struct Elem;
template <>
struct Elem<DtypeKind::Bool> {
  using type = std::uint8_t;
};
template <>
struct Elem<DtypeKind::Int8> {
  using type = std::int8_t;
};
template <>
struct Elem<DtypeKind::Int16> {
  using type = std::int16_t;
};
template <>
struct Elem<DtypeKind::Int32> {
  using type = std::int32_t;
};
template <>
struct Elem<DtypeKind::Int64> {
  using type = std::int64_t;
};
template <>
struct Elem<DtypeKind::UInt8> {
  using type = std::uint8_t;
};
template <>
struct Elem<DtypeKind::UInt16> {
  using type = std::uint16_t;
};
template <>
struct Elem<DtypeKind::UInt32> {
  using type = std::uint32_t;
};
template <>
struct Elem<DtypeKind::UInt64> {
  using type = std::uint64_t;
};
template <>
struct Elem<DtypeKind::Float16> {
  using type = float16;
};
template <>
struct Elem<DtypeKind::Float32> {
  using type = float;
};
template <>
struct Elem<DtypeKind::Float64> {
  using type = double;
};
template <>
struct Elem<DtypeKind::Complex64> {
  using type = std::complex<float>;
};
template <>
struct Elem<DtypeKind::Complex128> {
  using type = std::complex<double>;
};

template <class T>
constexpr bool is_complex_v =
    std::is_same_v<T, std::complex<float>> || std::is_same_v<T, std::complex<double>>;

// float -> integer without UB: truncate, NaN -> 0, saturate out of range.
template <class D>
D float_to_int(double v) {
  if (std::isnan(v)) return 0;
  constexpr double lo = static_cast<double>(std::numeric_limits<D>::min());
  // 2^digits is exactly representable and is one past the maximum.
  constexpr double hi_excl = 2.0 * static_cast<double>(std::numeric_limits<D>::max() / 2 + 1);
  if (v <= lo) return std::numeric_limits<D>::min();
  if (v >= hi_excl) return std::numeric_limits<D>::max();
  return static_cast<D>(v);
}

template <DtypeKind SK, DtypeKind DK>
inline typename Elem<DK>::type convert_one(typename Elem<SK>::type s) {
  using S = typename Elem<SK>::type;
  using D = typename Elem<DK>::type;
  if constexpr (SK == DtypeKind::Float16) {
    // Widen once, then follow the float32 rules.
    return convert_one<DtypeKind::Float32, DK>(static_cast<float>(s));
  } else if constexpr (DK == DtypeKind::Bool) {
    return static_cast<D>(s != 0);
  } else if constexpr (SK == DtypeKind::Bool) {
    return convert_one<DtypeKind::UInt8, DK>(static_cast<std::uint8_t>(s != 0));
  } else if constexpr (DK == DtypeKind::Float16) {
    return float16(static_cast<double>(s));
  } else if constexpr (is_complex_v<D>) {
    using R = typename D::value_type;
    if constexpr (is_complex_v<S>) {
      return D(static_cast<R>(s.real()), static_cast<R>(s.imag()));
    } else {
      return D(static_cast<R>(s), R(0));
    }
  } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
    return float_to_int<D>(static_cast<double>(s));
  } else {
    // int <- int wraps (C++20 modular conversion); float <- int/float rounds.
    return static_cast<D>(s);
  }
}

template <DtypeKind SK, DtypeKind DK>
void convert_loop(const std::byte* in, std::byte* out, std::size_t n) {
  using S = typename Elem<SK>::type;
  using D = typename Elem<DK>::type;
  if constexpr (is_complex_v<S> && !is_complex_v<D>) {
    // Refused by can_convert(): complex converts only to complex.
    (void)in, (void)out, (void)n;
  } else {
    for (std::size_t i = 0; i < n; ++i) {
      S s;
      std::memcpy(&s, in + i * sizeof(S), sizeof(S));
      const D d = convert_one<SK, DK>(s);
      std::memcpy(out + i * sizeof(D), &d, sizeof(D));
    }
  }
}

using LoopFn = void (*)(const std::byte*, std::byte*, std::size_t);

template <DtypeKind SK>
LoopFn pick_dst(DtypeKind dk) {
  switch (dk) {
#define ATDATA_CASE(K) \
  case DtypeKind::K:   \
    return convert_loop<SK, DtypeKind::K>;
    ATDATA_CASE(Bool)
    ATDATA_CASE(Int8)
    ATDATA_CASE(Int16)
    ATDATA_CASE(Int32)
    ATDATA_CASE(Int64)
    ATDATA_CASE(UInt8)
    ATDATA_CASE(UInt16)
    ATDATA_CASE(UInt32)
    ATDATA_CASE(UInt64)
    ATDATA_CASE(Float16)
    ATDATA_CASE(Float32)
    ATDATA_CASE(Float64)
    ATDATA_CASE(Complex64)
    ATDATA_CASE(Complex128)
#undef ATDATA_CASE
    default:
      return nullptr;
  }
}

LoopFn pick_loop(DtypeKind sk, DtypeKind dk) {
  switch (sk) {
#define ATDATA_CASE(K) \
  case DtypeKind::K:   \
    return pick_dst<DtypeKind::K>(dk);
    ATDATA_CASE(Bool)
    ATDATA_CASE(Int8)
    ATDATA_CASE(Int16)
    ATDATA_CASE(Int32)
    ATDATA_CASE(Int64)
    ATDATA_CASE(UInt8)
    ATDATA_CASE(UInt16)
    ATDATA_CASE(UInt32)
    ATDATA_CASE(UInt64)
    ATDATA_CASE(Float16)
    ATDATA_CASE(Float32)
    ATDATA_CASE(Float64)
    ATDATA_CASE(Complex64)
    ATDATA_CASE(Complex128)
#undef ATDATA_CASE
    default:
      return nullptr;
  }
}

// The vector kernel for a native src -> native float32 pair, if any.
using KernelFn = void (*)(const void*, void*, std::size_t);
KernelFn pick_kernel(DtypeKind sk, DtypeKind dk) {
  if (dk != DtypeKind::Float32) return nullptr;
  const simd::Kernels& k = simd::active_kernels();
  switch (sk) {
    case DtypeKind::UInt8:
      return k.u8_to_f32;
    case DtypeKind::Int16:
      return k.i16_to_f32;
    case DtypeKind::Int32:
      return k.i32_to_f32;
    case DtypeKind::Float16:
      return k.f16_to_f32;
    case DtypeKind::Float64:
      return k.f64_to_f32;
    default:
      return nullptr;
  }
}

// Swap unit (bytes) for a dtype, or 0 / 1 when there is nothing to swap.
std::size_t swap_unit(const Dtype& d) {
  switch (d.kind()) {
    case DtypeKind::Complex64:
    case DtypeKind::Complex128:
      return d.itemsize() / 2;
    case DtypeKind::Unicode:
      return 4;
    case DtypeKind::Bytes:
      return 1;
    default:
      return d.itemsize();
  }
}

void swap_units(std::size_t unit, const std::byte* in, std::byte* out, std::size_t units) {
  const simd::Kernels& k = simd::active_kernels();
  switch (unit) {
    case 2:
      k.bswap16(in, out, units);
      return;
    case 4:
      k.bswap32(in, out, units);
      return;
    case 8:
      k.bswap64(in, out, units);
      return;
    default:
      if (in != out) std::memcpy(out, in, units * unit);
  }
}

}  // namespace

void byteswap_elements(const Dtype& dtype, const std::byte* in, std::byte* out, std::size_t n) {
  const std::size_t unit = swap_unit(dtype);
  swap_units(unit, in, out, n * (dtype.itemsize() / unit));
}

bool can_convert(const Dtype& src, const Dtype& dst) noexcept {
  if (src.kind() == dst.kind() && src.itemsize() == dst.itemsize()) return true;
  if (!src.is_numeric() || !dst.is_numeric()) return false;
  if (src.is_complex() && !dst.is_complex()) return false;
  return true;
}

void convert_elements(const Dtype& src, const std::byte* in, const Dtype& dst, std::byte* out,
                      std::size_t n) {
  if (n == 0) return;
  if (!can_convert(src, dst)) {
    throw TypeError("cannot convert " + src.name() + " (" + src.str() + ") to " + dst.name() + " (" +
                    dst.str() + ")");
  }
  // Same element type: a copy or a byte swap.
  if (src.kind() == dst.kind() && src.itemsize() == dst.itemsize()) {
    if (src.is_native() == dst.is_native()) {
      if (in != out) std::memmove(out, in, n * src.itemsize());
    } else {
      byteswap_elements(src, in, out, n);
    }
    return;
  }
  const LoopFn loop = pick_loop(src.kind(), dst.kind());
  const KernelFn kernel = pick_kernel(src.kind(), dst.kind());
  if (src.is_native()) {
    if (kernel) {
      kernel(in, out, n);
    } else {
      loop(in, out, n);
    }
  } else {
    // Swap a cache-sized chunk into a stack buffer, then convert it: no
    // allocation and the source stays untouched.
    alignas(64) std::byte tmp[16384];
    const std::size_t isz = src.itemsize();
    const std::size_t osz = dst.itemsize();
    const std::size_t chunk = sizeof(tmp) / isz;
    for (std::size_t i = 0; i < n; i += chunk) {
      const std::size_t m = n - i < chunk ? n - i : chunk;
      byteswap_elements(src, in + i * isz, tmp, m);
      if (kernel) {
        kernel(tmp, out + i * osz, m);
      } else {
        loop(tmp, out + i * osz, m);
      }
    }
  }
  if (!dst.is_native()) byteswap_elements(dst, out, out, n);
}

}  // namespace atdata::detail
