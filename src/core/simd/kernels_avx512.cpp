// AVX-512 (F/BW/DQ/VL) variant of kernels.inl, built with the AVX-512 flags.
#include "core/simd/baseline.hpp"

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512DQ__)
#define ATDATA_SIMD_NS avx512
#define ATDATA_SIMD_XARCH xsimd::avx512bw
#define ATDATA_SIMD_512 1
// GCC 12 false positive inside avx512fintrin.h (_mm512_undefined_* helpers).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "core/simd/kernels.inl"

namespace atdata::simd {
namespace {
const Kernels kAvx512{Arch::AVX512,       "avx512",           avx512::u8_to_f32,  avx512::i16_to_f32,
                      avx512::f16_to_f32, avx512::f64_to_f32, avx512::i32_to_f32, avx512::bswap16,
                      avx512::bswap32,    avx512::bswap64};
}
const Kernels* avx512_kernels() noexcept {
  return &kAvx512;
}
}  // namespace atdata::simd
#else
namespace atdata::simd {
const Kernels* avx512_kernels() noexcept {
  return nullptr;
}
}  // namespace atdata::simd
#endif
