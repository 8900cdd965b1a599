#include "core/simd/baseline.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace atdata::simd {

namespace {

#if defined(__x86_64__) || defined(__i386__)
// CPUID.1:ECX.F16C[bit 29]; clang 14's __builtin_cpu_supports lacks "f16c".
bool cpu_has_f16c() noexcept {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & bit_F16C) != 0;
}
#endif

bool cpu_has_avx2() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
#else
  return false;
#endif
}

bool cpu_has_avx512() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  // libgcc also checks that the OS saves the ZMM state (XCR0).
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

}  // namespace

const Kernels* kernels_for(Arch arch) noexcept {
  switch (arch) {
    case Arch::Baseline:
      return &baseline::kKernels;
    case Arch::AVX2:
      return cpu_has_avx2() ? avx2_kernels() : nullptr;
    case Arch::AVX512:
      return cpu_has_avx512() ? avx512_kernels() : nullptr;
  }
  return nullptr;
}

const Kernels& active_kernels() noexcept {
  static const Kernels* const chosen = [] {
    if (const Kernels* k = kernels_for(Arch::AVX512)) return k;
    if (const Kernels* k = kernels_for(Arch::AVX2)) return k;
    return &baseline::kKernels;
  }();
  return *chosen;
}

}  // namespace atdata::simd
