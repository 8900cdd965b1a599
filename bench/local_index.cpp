// The local index: 10,000 entries inserted (one add_entries call: pipelined
// MULTI/EXEC batches in Redis, one transaction in SQLite) and listed back in
// full. bench/local_index.sh starts a redis-server (tools/redis) and runs
// redis-benchmark's pipelined HSETs beside it as the reference.
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "atdata/atmosphere/local_index.hpp"
#include "atdata/io/blocking.hpp"

namespace {

using namespace atdata;
using namespace atdata::atmosphere;

constexpr int kEntries = 10000;

std::vector<LocalDatasetEntry> make_entries(int round) {
  std::vector<LocalDatasetEntry> v;
  v.reserve(kEntries);
  for (int i = 0; i < kEntries; ++i) {
    const std::string u =
        "s3://bench-bucket/r" + std::to_string(round) + "/data--" + std::to_string(i) + ".tar";
    v.emplace_back("bench-" + std::to_string(i), "local://schemas/bench.Sample@1.0.0",
                   std::vector<std::string>{u});
  }
  return v;
}

LocalIndexConfig config_for(benchmark::State& state, bool redis) {
  LocalIndexConfig c;
  if (redis) {
    const char* url = std::getenv("ATDATA_BENCH_REDIS_URL");
    if (!url) state.SkipWithError("ATDATA_BENCH_REDIS_URL not set (run bench/local_index.sh)");
    c.redis_url = url ? url : "";
  } else {
    c.path = (std::filesystem::temp_directory_path() / "atdata-bench-local-index.sqlite").string();
    std::filesystem::remove(c.path);
  }
  return c;
}

void BM_Insert(benchmark::State& state) {
  const bool redis = state.range(0) == 1;
  LocalIndexConfig c = config_for(state, redis);
  if (redis && c.redis_url.empty()) return;
  asio::io_context ioc;
  LocalIndex index(ioc.get_executor(), c);
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto entries = make_entries(round++);  // CIDs computed here, outside the timing
    state.ResumeTiming();
    run_blocking(ioc, index.add_entries(std::move(entries)));
  }
  state.counters["entries/s"] =
      benchmark::Counter(static_cast<double>(kEntries) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetLabel(redis ? "redis" : "sqlite");
}
BENCHMARK(BM_Insert)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

void BM_ListAll(benchmark::State& state) {
  const bool redis = state.range(0) == 1;
  LocalIndexConfig c = config_for(state, redis);
  if (redis && c.redis_url.empty()) return;
  if (redis) c.redis_url += "/3";  // a database with exactly the 10,000 entries
  asio::io_context ioc;
  LocalIndex index(ioc.get_executor(), c);
  run_blocking(ioc, index.add_entries(make_entries(0)));
  std::size_t n = 0;
  for (auto _ : state) n = run_blocking(ioc, index.entries()).size();
  if (n < static_cast<std::size_t>(kEntries)) state.SkipWithError("listing returned fewer entries");
  state.counters["entries/s"] =
      benchmark::Counter(static_cast<double>(n) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetLabel(redis ? "redis" : "sqlite");
}
BENCHMARK(BM_ListAll)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
