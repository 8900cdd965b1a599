// AVX2 + FMA + F16C variant of kernels.inl (built with -mavx2 -mfma -mf16c).
#include "core/simd/baseline.hpp"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__F16C__)
#define ATDATA_SIMD_NS avx2
#define ATDATA_SIMD_XARCH xsimd::avx2
#define ATDATA_SIMD_512 0
#include "core/simd/kernels.inl"

namespace atdata::simd {
namespace {
const Kernels kAvx2{Arch::AVX2,       "avx2",           avx2::u8_to_f32, avx2::i16_to_f32, avx2::f16_to_f32,
                    avx2::f64_to_f32, avx2::i32_to_f32, avx2::bswap16,   avx2::bswap32,    avx2::bswap64};
}
const Kernels* avx2_kernels() noexcept {
  return &kAvx2;
}
}  // namespace atdata::simd
#else
namespace atdata::simd {
const Kernels* avx2_kernels() noexcept {
  return nullptr;
}
}  // namespace atdata::simd
#endif
