#pragma once
// Run-time selected SIMD kernels behind NDArray conversions. The library is
// built for baseline x86-64; AVX2 and AVX-512 variants of the same kernels are
// compiled from one template source with per-file flags and chosen once by
// CPU detection. Exposed so tests and benchmarks can exercise every variant
// the CPU supports; ordinary users never need it (NDArray::to uses it).
//
// All pointers may be unaligned; `in` and `out` may be equal (in-place) but
// must not otherwise overlap. `n` counts elements.

#include <cstddef>
#include <cstdint>
#include <span>

namespace atdata::simd {

enum class Arch : std::uint8_t { Baseline, AVX2, AVX512 };

struct Kernels {
  Arch arch;
  const char* name;
  void (*u8_to_f32)(const void* in, void* out, std::size_t n);
  void (*i16_to_f32)(const void* in, void* out, std::size_t n);
  void (*f16_to_f32)(const void* in, void* out, std::size_t n);
  void (*f64_to_f32)(const void* in, void* out, std::size_t n);
  void (*i32_to_f32)(const void* in, void* out, std::size_t n);
  // Reverse the bytes of each 2-, 4- or 8-byte element.
  void (*bswap16)(const void* in, void* out, std::size_t n);
  void (*bswap32)(const void* in, void* out, std::size_t n);
  void (*bswap64)(const void* in, void* out, std::size_t n);
};

// The variant for `arch`, or nullptr when it was not compiled in or this CPU
// (and OS) cannot run it.
const Kernels* kernels_for(Arch arch) noexcept;
// The best variant for this CPU, detected once.
const Kernels& active_kernels() noexcept;

}  // namespace atdata::simd
