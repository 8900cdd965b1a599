#pragma once
// Baseline (plain x86-64 / any CPU) kernels, defined out of line in
// kernels_baseline.cpp. The vector variants call these for their tails so
// that no scalar code is compiled with AVX flags (see kernels.inl).

#include <cstddef>

#include "atdata/core/simd.hpp"

namespace atdata::simd::baseline {

void u8_to_f32(const void* in, void* out, std::size_t n);
void i16_to_f32(const void* in, void* out, std::size_t n);
void f16_to_f32(const void* in, void* out, std::size_t n);
void f64_to_f32(const void* in, void* out, std::size_t n);
void i32_to_f32(const void* in, void* out, std::size_t n);
void bswap16(const void* in, void* out, std::size_t n);
void bswap32(const void* in, void* out, std::size_t n);
void bswap64(const void* in, void* out, std::size_t n);

extern const Kernels kKernels;

}  // namespace atdata::simd::baseline

namespace atdata::simd {
// Defined in kernels_avx2.cpp / kernels_avx512.cpp; nullptr when the build
// has no such variant (non-x86 targets).
const Kernels* avx2_kernels() noexcept;
const Kernels* avx512_kernels() noexcept;
}  // namespace atdata::simd
