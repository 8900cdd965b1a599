// NDArray decode / conversion throughput.
//   npy decode of a 3x224x224 uint8 image: a zero-copy view, so ~constant ns.
//   u8->f32, f16->f32, i16->f32, f64->f32 and big-endian f32 -> native:
//   bytes/s reported are OUTPUT bytes. The /arch variants call each compiled
//   kernel set the CPU supports (0 baseline, 1 AVX2, 2 AVX-512).

#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "atdata/core/array_encoding.hpp"
#include "atdata/core/npy.hpp"
#include "atdata/core/simd.hpp"

namespace {

using atdata::Dtype;
using atdata::NDArray;

constexpr std::int64_t kC = 3, kH = 224, kW = 224;
constexpr std::size_t kImage = kC * kH * kW;

NDArray random_array(Dtype dtype, std::size_t n) {
  NDArray a = NDArray::zeros(dtype, {static_cast<std::int64_t>(n)});
  std::mt19937 rng(42);
  auto b = a.mutable_bytes();
  for (auto& x : b) x = static_cast<std::byte>(rng());
  if (dtype.kind() == atdata::DtypeKind::Float16) {  // keep values finite-ish: clear exponent top bit
    for (std::size_t i = 1; i < b.size(); i += 2) b[i] &= std::byte{0xbf};
  }
  return a;
}

void BM_NpyDecodeImageView(benchmark::State& state) {
  const NDArray img = random_array(Dtype::of<std::uint8_t>(), kImage).reshape({kC, kH, kW});
  const atdata::SharedBytes file = atdata::SharedBytes::adopt(atdata::npy::encode(img));
  for (auto _ : state) {
    NDArray a = atdata::npy::decode(file);
    benchmark::DoNotOptimize(a.bytes().data());
  }
  state.counters["view"] = atdata::npy::decode(file).is_view() ? 1 : 0;
}
BENCHMARK(BM_NpyDecodeImageView);

void BM_NpyEncodeImage(benchmark::State& state) {
  const NDArray img = random_array(Dtype::of<std::uint8_t>(), kImage).reshape({kC, kH, kW});
  std::vector<std::byte> out;
  out.reserve(atdata::npy::encoded_size(img));
  for (auto _ : state) {
    out.clear();
    atdata::npy::encode_into(img, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(out.size()));
}
BENCHMARK(BM_NpyEncodeImage);

// Through the public API (active kernels): NDArray::convert_into<float>.
void convert_bench(benchmark::State& state, Dtype src) {
  const NDArray a = random_array(src, kImage);
  std::vector<float> out(kImage);
  for (auto _ : state) {
    a.convert_into<float>(out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * kImage * 4);
  state.SetLabel(atdata::simd::active_kernels().name);
}
void BM_ImageU8ToF32(benchmark::State& s) {
  convert_bench(s, Dtype::of<std::uint8_t>());
}
void BM_ImageF16ToF32(benchmark::State& s) {
  convert_bench(s, Dtype::of<atdata::float16>());
}
void BM_ImageI16ToF32(benchmark::State& s) {
  convert_bench(s, Dtype::of<std::int16_t>());
}
void BM_ImageF64ToF32(benchmark::State& s) {
  convert_bench(s, Dtype::of<double>());
}
void BM_ImageByteSwapF32(benchmark::State& s) {
  convert_bench(s, Dtype::parse(">f4"));
}
BENCHMARK(BM_ImageU8ToF32);
BENCHMARK(BM_ImageF16ToF32);
BENCHMARK(BM_ImageI16ToF32);
BENCHMARK(BM_ImageF64ToF32);
BENCHMARK(BM_ImageByteSwapF32);

// Decode + convert, as a data loader does per sample.
void BM_NpyDecodeAndConvertImage(benchmark::State& state) {
  const NDArray img = random_array(Dtype::of<std::uint8_t>(), kImage).reshape({kC, kH, kW});
  const atdata::SharedBytes file = atdata::SharedBytes::adopt(atdata::npy::encode(img));
  std::vector<float> out(kImage);
  for (auto _ : state) {
    atdata::decode_array(file).convert_into<float>(out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * kImage * 4);
}
BENCHMARK(BM_NpyDecodeAndConvertImage);

// Each kernel set directly.
using KernelPtr = void (*const atdata::simd::Kernels::*)(const void*, void*, std::size_t);
void kernel_bench(benchmark::State& state, KernelPtr which, std::size_t in_size, std::size_t out_size) {
  const auto* k = atdata::simd::kernels_for(static_cast<atdata::simd::Arch>(state.range(0)));
  if (!k) {
    state.SkipWithError("kernel set not available on this CPU");
    for (auto _ : state) {
    }
    return;
  }
  std::vector<std::byte> in(kImage * in_size), out(kImage * out_size);
  std::mt19937 rng(7);
  for (auto& b : in) b = static_cast<std::byte>(rng());
  for (auto _ : state) {
    (k->*which)(in.data(), out.data(), kImage);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kImage * out_size));
  state.SetLabel(k->name);
}
void BM_KernelU8ToF32(benchmark::State& s) {
  kernel_bench(s, &atdata::simd::Kernels::u8_to_f32, 1, 4);
}
void BM_KernelF16ToF32(benchmark::State& s) {
  kernel_bench(s, &atdata::simd::Kernels::f16_to_f32, 2, 4);
}
void BM_KernelBswap32(benchmark::State& s) {
  kernel_bench(s, &atdata::simd::Kernels::bswap32, 4, 4);
}
BENCHMARK(BM_KernelU8ToF32)->DenseRange(0, 2);
BENCHMARK(BM_KernelF16ToF32)->DenseRange(0, 2);
BENCHMARK(BM_KernelBswap32)->DenseRange(0, 2);

}  // namespace

BENCHMARK_MAIN();
