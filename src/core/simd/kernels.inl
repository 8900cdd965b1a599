// The vector kernels, written once and compiled per instruction set. Included
// by kernels_avx2.cpp and kernels_avx512.cpp after defining
//   ATDATA_SIMD_NS     namespace of the variant (avx2 / avx512)
//   ATDATA_SIMD_XARCH  xsimd architecture tag
//   ATDATA_SIMD_512    1 for AVX-512, 0 for AVX2
// Everything here has internal linkage and tails go to the out-of-line
// baseline kernels: these files are built with -mavx2/-mavx512*, so an
// external inline symbol from them could be picked by the linker and run on a
// CPU without those instructions. The per-ISA pieces are the widening loads
// and byte shuffles xsimd 8 does not provide; conversion and stores use xsimd.

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <xsimd/xsimd.hpp>

#include "core/simd/baseline.hpp"

namespace atdata::simd::ATDATA_SIMD_NS {
namespace {

using A = ATDATA_SIMD_XARCH;
using F = xsimd::batch<float, A>;
using I = xsimd::batch<std::int32_t, A>;
constexpr std::size_t W = F::size;  // floats per register
constexpr std::size_t kVecBytes = W * 4;

#if ATDATA_SIMD_512
using RegI = __m512i;
inline I widen_u8(const unsigned char* p) {
  return I(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline I widen_i16(const unsigned char* p) {
  return I(_mm512_cvtepi16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
}
inline F load_f16(const unsigned char* p) {
  return F(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
}
inline F load_f64(const unsigned char* p) {
  const __m256 lo = _mm512_cvtpd_ps(_mm512_loadu_pd(reinterpret_cast<const double*>(p)));
  const __m256 hi = _mm512_cvtpd_ps(_mm512_loadu_pd(reinterpret_cast<const double*>(p + 64)));
  return F(_mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1));
}
inline RegI load_reg(const unsigned char* p) {
  return _mm512_loadu_si512(p);
}
inline void store_reg(unsigned char* p, RegI v) {
  _mm512_storeu_si512(p, v);
}
inline RegI shuffle_bytes(RegI v, RegI mask) {
  return _mm512_shuffle_epi8(v, mask);
}
#else
using RegI = __m256i;
inline I widen_u8(const unsigned char* p) {
  return I(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}
inline I widen_i16(const unsigned char* p) {
  return I(_mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline F load_f16(const unsigned char* p) {
  return F(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
}
inline F load_f64(const unsigned char* p) {
  const __m128 lo = _mm256_cvtpd_ps(_mm256_loadu_pd(reinterpret_cast<const double*>(p)));
  const __m128 hi = _mm256_cvtpd_ps(_mm256_loadu_pd(reinterpret_cast<const double*>(p + 32)));
  return F(_mm256_set_m128(hi, lo));
}
inline RegI load_reg(const unsigned char* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
inline void store_reg(unsigned char* p, RegI v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}
inline RegI shuffle_bytes(RegI v, RegI mask) {
  return _mm256_shuffle_epi8(v, mask);
}
#endif

// Converts n elements of `in_size` bytes to float32, four registers per
// iteration to hide conversion latency.
template <std::size_t in_size, class Load>
inline void to_f32(const void* in, void* out, std::size_t n, Load load,
                   void (*tail)(const void*, void*, std::size_t)) {
  const auto* src = static_cast<const unsigned char*>(in);
  auto* dst = static_cast<float*>(out);
  std::size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    const F a = load(src + i * in_size);
    const F b = load(src + (i + W) * in_size);
    const F c = load(src + (i + 2 * W) * in_size);
    const F d = load(src + (i + 3 * W) * in_size);
    a.store_unaligned(dst + i);
    b.store_unaligned(dst + i + W);
    c.store_unaligned(dst + i + 2 * W);
    d.store_unaligned(dst + i + 3 * W);
  }
  for (; i + W <= n; i += W) load(src + i * in_size).store_unaligned(dst + i);
  if (i < n) tail(src + i * in_size, dst + i, n - i);
}

void u8_to_f32(const void* in, void* out, std::size_t n) {
  to_f32<1>(
      in, out, n, [](const unsigned char* p) { return xsimd::batch_cast<float>(widen_u8(p)); },
      baseline::u8_to_f32);
}
void i16_to_f32(const void* in, void* out, std::size_t n) {
  to_f32<2>(
      in, out, n, [](const unsigned char* p) { return xsimd::batch_cast<float>(widen_i16(p)); },
      baseline::i16_to_f32);
}
void i32_to_f32(const void* in, void* out, std::size_t n) {
  to_f32<4>(
      in, out, n,
      [](const unsigned char* p) {
        return xsimd::batch_cast<float>(I::load_unaligned(reinterpret_cast<const std::int32_t*>(p)));
      },
      baseline::i32_to_f32);
}
void f16_to_f32(const void* in, void* out, std::size_t n) {
  to_f32<2>(in, out, n, load_f16, baseline::f16_to_f32);
}
void f64_to_f32(const void* in, void* out, std::size_t n) {
  to_f32<8>(in, out, n, load_f64, baseline::f64_to_f32);
}

// Byte reversal within S-byte elements: one shuffle per register (the
// shuffle works within 16-byte lanes, which hold whole elements).
template <std::size_t S>
RegI bswap_mask() {
  alignas(64) unsigned char m[sizeof(RegI)];
  for (std::size_t j = 0; j < sizeof(RegI); ++j) {
    const std::size_t lane_pos = j % 16;
    m[j] = static_cast<unsigned char>((lane_pos / S) * S + (S - 1 - lane_pos % S));
  }
  return load_reg(m);
}

template <std::size_t S>
inline void bswap(const void* in, void* out, std::size_t n, void (*tail)(const void*, void*, std::size_t)) {
  const RegI mask = bswap_mask<S>();
  const auto* src = static_cast<const unsigned char*>(in);
  auto* dst = static_cast<unsigned char*>(out);
  constexpr std::size_t per = sizeof(RegI) / S;
  std::size_t i = 0;
  for (; i + 2 * per <= n; i += 2 * per) {
    const RegI a = load_reg(src + i * S);
    const RegI b = load_reg(src + i * S + sizeof(RegI));
    store_reg(dst + i * S, shuffle_bytes(a, mask));
    store_reg(dst + i * S + sizeof(RegI), shuffle_bytes(b, mask));
  }
  for (; i + per <= n; i += per) store_reg(dst + i * S, shuffle_bytes(load_reg(src + i * S), mask));
  if (i < n) tail(src + i * S, dst + i * S, n - i);
}

void bswap16(const void* in, void* out, std::size_t n) {
  bswap<2>(in, out, n, baseline::bswap16);
}
void bswap32(const void* in, void* out, std::size_t n) {
  bswap<4>(in, out, n, baseline::bswap32);
}
void bswap64(const void* in, void* out, std::size_t n) {
  bswap<8>(in, out, n, baseline::bswap64);
}

static_assert(kVecBytes == sizeof(RegI));

}  // namespace
}  // namespace atdata::simd::ATDATA_SIMD_NS
