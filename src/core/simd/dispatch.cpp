#include "core/simd/baseline.hpp"

namespace atdata::simd {

namespace {

bool cpu_has_avx2() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
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
