#pragma once
// IEEE-754 binary16 storage type. C++20 has no std::float16_t, and numpy
// `float16` arrays must round-trip bit-exactly, so this is a plain 2-byte
// value with correctly rounded (nearest-even) conversions to and from
// float/double. Arithmetic is deliberately absent: convert to float first.

#include <bit>
#include <cstdint>
#include <cstring>

namespace atdata {

namespace detail {

// Exact: every binary16 value is representable as a float.
inline float half_bits_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  std::uint32_t bits;
  if (exp == 0x1f) {  // inf / NaN (payload kept)
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {  // normal
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {  // ±0
    bits = sign;
  } else {  // subnormal half -> normal float
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    bits = sign | (static_cast<std::uint32_t>(112 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  return std::bit_cast<float>(bits);
}

// Round-to-nearest-even from double (a float converts exactly to double first,
// so one routine gives correctly rounded results for both sources).
inline std::uint16_t double_to_half_bits(double d) noexcept {
  const std::uint64_t b = std::bit_cast<std::uint64_t>(d);
  const std::uint16_t sign = static_cast<std::uint16_t>((b >> 48) & 0x8000u);
  const int exp = static_cast<int>((b >> 52) & 0x7ffu);
  std::uint64_t mant = b & 0xfffffffffffffull;
  if (exp == 0x7ff) {  // inf / NaN: keep NaN-ness (quiet bit set)
    if (mant == 0) return sign | 0x7c00u;
    return static_cast<std::uint16_t>(sign | 0x7e00u | static_cast<std::uint16_t>(mant >> 42));
  }
  const int e = exp - 1023;              // unbiased
  if (e > 15) return sign | 0x7c00u;     // overflow -> inf
  if (exp == 0 || e < -25) return sign;  // zero, double subnormal, or below half the smallest subnormal
  mant |= 1ull << 52;                    // implicit bit: value = mant * 2^(e-52)
  // Target: half mantissa units of 2^-24 (subnormal) or 2^(e-10) (normal).
  int shift;  // right shift applied to mant
  std::uint16_t hexp;
  if (e < -14) {          // half subnormal
    shift = 52 - 24 - e;  // value / 2^-24 = mant * 2^(e-52+24)
    hexp = 0;
  } else {
    shift = 42;
    hexp = static_cast<std::uint16_t>(e + 15);
  }
  std::uint64_t q = mant >> shift;
  const std::uint64_t rem = mant & ((1ull << shift) - 1);
  const std::uint64_t halfway = 1ull << (shift - 1);
  if (rem > halfway || (rem == halfway && (q & 1))) ++q;
  if (hexp == 0) {
    // q may have rounded up into the smallest normal (0x400): still correct bits.
    return static_cast<std::uint16_t>(sign | q);
  }
  // q includes the implicit bit (0x400..0x800); a carry into 0x800 bumps the exponent.
  std::uint32_t out = (static_cast<std::uint32_t>(hexp) << 10) + (static_cast<std::uint32_t>(q) - 0x400u);
  if (out >= 0x7c00u) out = 0x7c00u;
  return static_cast<std::uint16_t>(sign | out);
}

}  // namespace detail

struct float16 {
  std::uint16_t bits = 0;

  constexpr float16() = default;
  explicit float16(float f) noexcept : bits(detail::double_to_half_bits(static_cast<double>(f))) {}
  explicit float16(double d) noexcept : bits(detail::double_to_half_bits(d)) {}
  static constexpr float16 from_bits(std::uint16_t b) noexcept {
    float16 h;
    h.bits = b;
    return h;
  }
  explicit operator float() const noexcept { return detail::half_bits_to_float(bits); }
  explicit operator double() const noexcept { return static_cast<double>(detail::half_bits_to_float(bits)); }
};
static_assert(sizeof(float16) == 2 && alignof(float16) == 2);

}  // namespace atdata
