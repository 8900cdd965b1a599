// Repository tree operations on a synthetic 100,000-record tree (keys like a
// busy account's: three collections, TID-like rkeys): build, walk, get.
// Replaces a timed unit test; docs/benchmarks.md, "Firehose frames".
//   build/bench/bench_mst --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/mst.hpp"

namespace {

using namespace atdata::atproto;

struct Tree {
  std::vector<std::string> keys;
  std::vector<std::vector<std::byte>> values;
  MstBuild built;
  BlockMap blocks;
};

const Tree& tree() {
  static const Tree t = [] {
    Tree t;
    std::mt19937_64 rng(42);
    std::set<std::string> keys;
    const char* colls[] = {"app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.graph.follow"};
    while (keys.size() < 100000)
      keys.insert(std::string(colls[rng() % 3]) + "/3k" + std::to_string(rng() % 100000000000ULL));
    t.keys.assign(keys.begin(), keys.end());
    for (const auto& k : t.keys) {
      const auto cid =
          binary_cid_v1_sha256(kCodecDagCbor, sha256(std::as_bytes(std::span(k.data(), k.size()))));
      t.values.emplace_back(cid.begin(), cid.end());
    }
    std::vector<MstEntryView> entries;
    for (std::size_t i = 0; i < t.keys.size(); ++i) entries.push_back({t.keys[i], t.values[i]});
    t.built = mst_build(entries);
    for (const auto& b : t.built.blocks) t.blocks.insert(b.cid, b.data);
    return t;
  }();
  return t;
}

void BM_Walk(benchmark::State& state) {
  const Tree& t = tree();
  for (auto _ : state) {
    std::size_t n = 0;
    mst_walk(t.blocks, t.built.root, [&](std::string_view, std::span<const std::byte>) { ++n; });
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * t.keys.size()));
}
BENCHMARK(BM_Walk)->Unit(benchmark::kMillisecond);

void BM_Get(benchmark::State& state) {
  const Tree& t = tree();
  std::size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(mst_get(t.blocks, t.built.root, t.keys[(i++ * 7919) % t.keys.size()]));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Get)->Unit(benchmark::kMicrosecond);

void BM_RootOf(benchmark::State& state) {
  const Tree& t = tree();
  std::vector<MstEntryView> entries;
  for (std::size_t i = 0; i < t.keys.size(); ++i) entries.push_back({t.keys[i], t.values[i]});
  for (auto _ : state) benchmark::DoNotOptimize(mst_root_of(entries));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * t.keys.size()));
}
BENCHMARK(BM_RootOf)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
