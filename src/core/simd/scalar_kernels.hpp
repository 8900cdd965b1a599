#pragma once
// Portable element loops shared by the baseline kernels and the tails of the
// vector kernels. Everything is `static` (internal linkage) on purpose: this
// header is compiled into translation units with different -m flags, and an
// inline function with external linkage would let the linker pick an AVX-512
// copy for use on a CPU without it.

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace atdata::simd::scalar {

template <class In>
static inline In load_as(const unsigned char* p) {
  In v;
  std::memcpy(&v, p, sizeof(In));
  return v;
}

template <class In>
static void int_to_f32(const void* in, void* out, std::size_t n) {
  const auto* src = static_cast<const unsigned char*>(in);
  auto* dst = static_cast<unsigned char*>(out);
  for (std::size_t i = 0; i < n; ++i) {
    const float f = static_cast<float>(load_as<In>(src + i * sizeof(In)));
    std::memcpy(dst + i * 4, &f, 4);
  }
}

// Branch-free binary16 -> binary32 so the compiler can vectorise the loop on
// CPUs without F16C: shift exponent+mantissa into place and rebias; inf/NaN
// get the remaining exponent bias; subnormals are renormalised with one exact
// float subtraction.
static inline std::uint32_t f16_bits_to_f32_bits(std::uint32_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  const std::uint32_t shifted = (h & 0x7fffu) << 13;
  const std::uint32_t exp = shifted & 0x0f800000u;
  const std::uint32_t normal = shifted + (112u << 23);
  const std::uint32_t infnan = normal + (112u << 23);
  float sub;
  const std::uint32_t sub_bits = normal + (1u << 23);
  const std::uint32_t magic = 113u << 23;  // 2^-14
  float magic_f;
  std::memcpy(&sub, &sub_bits, 4);
  std::memcpy(&magic_f, &magic, 4);
  sub -= magic_f;
  std::uint32_t sub_out;
  std::memcpy(&sub_out, &sub, 4);
  // Mask selects rather than ?: so the loop has no control flow to vectorise around.
  const std::uint32_t is_infnan = 0u - static_cast<std::uint32_t>(exp == 0x0f800000u);
  const std::uint32_t is_sub = 0u - static_cast<std::uint32_t>(exp == 0);
  return (infnan & is_infnan) | (sub_out & is_sub) | (normal & ~(is_infnan | is_sub)) | sign;
}

static void f16_to_f32(const void* in, void* out, std::size_t n) {
  const auto* src = static_cast<const unsigned char*>(in);
  auto* dst = static_cast<unsigned char*>(out);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t f = f16_bits_to_f32_bits(load_as<std::uint16_t>(src + i * 2));
    std::memcpy(dst + i * 4, &f, 4);
  }
}

static void f64_to_f32(const void* in, void* out, std::size_t n) {
  const auto* src = static_cast<const unsigned char*>(in);
  auto* dst = static_cast<unsigned char*>(out);
  for (std::size_t i = 0; i < n; ++i) {
    const float f = static_cast<float>(load_as<double>(src + i * 8));
    std::memcpy(dst + i * 4, &f, 4);
  }
}

static void bswap16(const void* in, void* out, std::size_t n) {
  const auto* src = static_cast<const unsigned char*>(in);
  auto* dst = static_cast<unsigned char*>(out);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint16_t v = __builtin_bswap16(load_as<std::uint16_t>(src + i * 2));
    std::memcpy(dst + i * 2, &v, 2);
  }
}

static void bswap32(const void* in, void* out, std::size_t n) {
  const auto* src = static_cast<const unsigned char*>(in);
  auto* dst = static_cast<unsigned char*>(out);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t v = __builtin_bswap32(load_as<std::uint32_t>(src + i * 4));
    std::memcpy(dst + i * 4, &v, 4);
  }
}

static void bswap64(const void* in, void* out, std::size_t n) {
  const auto* src = static_cast<const unsigned char*>(in);
  auto* dst = static_cast<unsigned char*>(out);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t v = __builtin_bswap64(load_as<std::uint64_t>(src + i * 8));
    std::memcpy(dst + i * 8, &v, 8);
  }
}

}  // namespace atdata::simd::scalar
