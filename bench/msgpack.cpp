// Sample codec throughput: typed decode/pack of {features f32[128], label,
// source} (the golden-basic shape), dynamic decodes, and raw msgpack skip.
// Each benchmark reports heap allocations per iteration ("allocs") by
// counting global operator new, to check the zero-allocation decode claim.
//
//   cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release
//   cmake --build build-release --target bench_msgpack && ./build-release/bench/bench_msgpack

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "atdata/core/dynamic_sample.hpp"
#include "atdata/core/sample.hpp"

namespace {
std::atomic<std::uint64_t> g_allocs{0};
}

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// GCC's mismatch check pairs `new` with `free` without seeing that the
// operator new above is malloc-based.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop

struct BasicSample {
  atdata::NDArray features;
  std::int64_t label = 0;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(BasicSample, (), (features, label, source))

namespace {

BasicSample make_sample() {
  std::vector<float> f(128);
  for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>(i) * 0.25f - 3.0f;
  BasicSample s;
  s.features = atdata::NDArray::from_span(std::span<const float>(f));
  s.label = 5;
  s.source = "imagenet";
  return s;
}

const atdata::SharedBytes& packed_sample() {
  static const atdata::SharedBytes sb = atdata::SharedBytes::adopt(atdata::pack(make_sample()));
  return sb;
}

void report(benchmark::State& state, std::uint64_t allocs_before) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(packed_sample().size()));
  state.counters["allocs"] = benchmark::Counter(static_cast<double>(g_allocs.load() - allocs_before) /
                                                static_cast<double>(state.iterations()));
}

// Steady state of a reader loop: decode into one reused object.
void BM_DecodeTypedInto(benchmark::State& state) {
  const auto& sb = packed_sample();
  BasicSample out;
  atdata::unpack_into(sb, out);
  const auto before = g_allocs.load();
  for (auto _ : state) {
    atdata::unpack_into(sb, out);
    benchmark::DoNotOptimize(out.features.bytes().data());
  }
  report(state, before);
}
BENCHMARK(BM_DecodeTypedInto);

// A fresh sample per decode (what an iterator yielding values does).
void BM_DecodeTypedFresh(benchmark::State& state) {
  const auto& sb = packed_sample();
  const auto before = g_allocs.load();
  for (auto _ : state) {
    auto s = atdata::unpack<BasicSample>(sb);
    benchmark::DoNotOptimize(s.label);
  }
  report(state, before);
}
BENCHMARK(BM_DecodeTypedFresh);

void BM_PackTyped(benchmark::State& state) {
  const auto s = make_sample();
  std::vector<std::byte> buf;
  buf.reserve(1024);
  const auto before = g_allocs.load();
  for (auto _ : state) {
    buf.clear();
    atdata::pack_into(s, buf);
    benchmark::DoNotOptimize(buf.data());
  }
  report(state, before);
}
BENCHMARK(BM_PackTyped);

void BM_DecodeDynamicSchema(benchmark::State& state) {
  const auto& sb = packed_sample();
  auto schema = std::make_shared<const atdata::SampleSchema>(atdata::schema_of<BasicSample>());
  const auto before = g_allocs.load();
  for (auto _ : state) {
    auto d = atdata::DynamicSample::unpack(schema, sb);
    benchmark::DoNotOptimize(d.size());
  }
  report(state, before);
}
BENCHMARK(BM_DecodeDynamicSchema);

void BM_DecodeSchemaless(benchmark::State& state) {
  const auto& sb = packed_sample();
  const auto before = g_allocs.load();
  for (auto _ : state) {
    auto d = atdata::DynamicSample::unpack(sb);
    benchmark::DoNotOptimize(d.size());
  }
  report(state, before);
}
BENCHMARK(BM_DecodeSchemaless);

void BM_MsgpackSkip(benchmark::State& state) {
  const auto& sb = packed_sample();
  const auto before = g_allocs.load();
  for (auto _ : state) {
    atdata::msgpack::Reader r(sb.span());
    r.skip();
    benchmark::DoNotOptimize(r.offset());
  }
  report(state, before);
}
BENCHMARK(BM_MsgpackSkip);

// The .npy part alone (header parse + zero-copy view), for attribution.
void BM_NpyDecodeView(benchmark::State& state) {
  const auto& sb = packed_sample();
  atdata::msgpack::Reader r(sb);
  r.read_map_header();
  r.read_str();
  const auto npy = sb.slice(r.read_bin());
  const auto before = g_allocs.load();
  for (auto _ : state) {
    auto a = atdata::decode_array(npy);
    benchmark::DoNotOptimize(a.bytes().data());
  }
  report(state, before);
}
BENCHMARK(BM_NpyDecodeView);

}  // namespace

BENCHMARK_MAIN();
