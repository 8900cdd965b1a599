// Baseline kernels: portable loops, compiled with the library's default
// (x86-64 baseline) flags; the compiler auto-vectorises them with SSE2.

#include "core/simd/baseline.hpp"
#include "core/simd/scalar_kernels.hpp"

namespace atdata::simd::baseline {

void u8_to_f32(const void* in, void* out, std::size_t n) {
  scalar::int_to_f32<std::uint8_t>(in, out, n);
}
void i16_to_f32(const void* in, void* out, std::size_t n) {
  scalar::int_to_f32<std::int16_t>(in, out, n);
}
void f16_to_f32(const void* in, void* out, std::size_t n) {
  scalar::f16_to_f32(in, out, n);
}
void f64_to_f32(const void* in, void* out, std::size_t n) {
  scalar::f64_to_f32(in, out, n);
}
void i32_to_f32(const void* in, void* out, std::size_t n) {
  scalar::int_to_f32<std::int32_t>(in, out, n);
}
void bswap16(const void* in, void* out, std::size_t n) {
  scalar::bswap16(in, out, n);
}
void bswap32(const void* in, void* out, std::size_t n) {
  scalar::bswap32(in, out, n);
}
void bswap64(const void* in, void* out, std::size_t n) {
  scalar::bswap64(in, out, n);
}

const Kernels kKernels{Arch::Baseline, "baseline", u8_to_f32, i16_to_f32, f16_to_f32,
                       f64_to_f32,     i32_to_f32, bswap16,   bswap32,    bswap64};

}  // namespace atdata::simd::baseline
