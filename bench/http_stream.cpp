// Streaming throughput of HttpClient from an nginx origin on loopback.
// Needs ATDATA_BENCH_HTTP_URL (http base URL) and the file named by
// ATDATA_BENCH_HTTP_FILE (default "big.bin") under it; optional
// ATDATA_BENCH_HTTPS_URL + ATDATA_BENCH_CA for the TLS case.
// bench/http_stream.sh sets all of that up with tools/nginx/ctest-fixture.sh.
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <string>

#include "atdata/io/blocking.hpp"
#include "atdata/net/http_byte_source.hpp"
#include "atdata/net/http_client.hpp"

namespace {

using namespace atdata;
using namespace atdata::net;

std::string env(const char* name, const char* def = "") {
  const char* v = std::getenv(name);
  return v ? v : def;
}

void stream_once(benchmark::State& state, const std::string& base, HttpClientOptions opt) {
  if (base.empty()) {
    state.SkipWithError("ATDATA_BENCH_HTTP_URL not set (run bench/http_stream.sh)");
    return;
  }
  const std::string url = base + "/" + env("ATDATA_BENCH_HTTP_FILE", "big.bin");
  opt.body_chunk_bytes = static_cast<std::size_t>(state.range(0));
  asio::io_context ioc;
  HttpClient client(ioc.get_executor(), opt);
  std::uint64_t total = 0;
  for (auto _ : state) {
    total += run_blocking(ioc, [&]() -> asio::awaitable<std::uint64_t> {
      auto s = co_await client.open(HttpRequest("GET", url));
      co_await s.throw_if_error();
      std::uint64_t n = 0;
      unsigned char sink = 0;
      for (;;) {
        SharedBytes c = co_await s.next();
        if (c.empty()) break;
        n += c.size();
        sink ^= static_cast<unsigned char>(c.data()[c.size() - 1]);
      }
      benchmark::DoNotOptimize(sink);
      co_return n;
    }());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(total));
  state.counters["connections"] = static_cast<double>(client.stats().connections_opened);
}

void BM_HttpStream(benchmark::State& state) {
  stream_once(state, env("ATDATA_BENCH_HTTP_URL"), {});
}

void BM_HttpsStream(benchmark::State& state) {
  HttpClientOptions opt;
  opt.tls.ca_file = env("ATDATA_BENCH_CA");
  stream_once(state, env("ATDATA_BENCH_HTTPS_URL"), opt);
}

// The shard-reader path: HttpByteSource::next_chunk (default chunk size).
void BM_HttpByteSource(benchmark::State& state) {
  const std::string base = env("ATDATA_BENCH_HTTP_URL");
  if (base.empty()) {
    state.SkipWithError("ATDATA_BENCH_HTTP_URL not set (run bench/http_stream.sh)");
    return;
  }
  const std::string url = base + "/" + env("ATDATA_BENCH_HTTP_FILE", "big.bin");
  asio::io_context ioc;
  HttpClientOptions opt;
  opt.body_chunk_bytes = static_cast<std::size_t>(state.range(0));
  auto client = std::make_shared<HttpClient>(ioc.get_executor(), opt);
  std::uint64_t total = 0;
  for (auto _ : state) {
    HttpByteSource src(client, url);
    total += run_blocking(ioc, [&]() -> asio::awaitable<std::uint64_t> {
      std::uint64_t n = 0;
      for (;;) {
        SharedBytes c = co_await src.next_chunk();
        if (c.empty()) break;
        n += c.size();
      }
      co_return n;
    }());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(total));
}

BENCHMARK(BM_HttpStream)
    ->Arg(256 << 10)
    ->Arg(1 << 20)
    ->Arg(4 << 20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_HttpsStream)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_HttpByteSource)->Arg(1 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
