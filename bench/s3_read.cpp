// Streaming one object from the loopback S3 server (tools/s3) through
// open_s3_source: what a Dataset does for an s3:// shard, signature included.
// bench/s3_read.sh uploads the object, runs curl on the same object (SigV4
// signed by curl) as the reference, then this.
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <fstream>
#include <string>

#include "atdata/io/blocking.hpp"
#include "atdata/net/http_client.hpp"
#include "atdata/net/s3.hpp"

namespace {

using namespace atdata;
using namespace atdata::net;

std::string line_of(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

void BM_S3Stream(benchmark::State& state) {
  const char* run = std::getenv("ATDATA_BENCH_S3_RUN_DIR");
  const char* key = std::getenv("ATDATA_BENCH_S3_KEY");
  if (!run || !key) {
    state.SkipWithError("ATDATA_BENCH_S3_RUN_DIR / ATDATA_BENCH_S3_KEY not set (run bench/s3_read.sh)");
    return;
  }
  const std::string dir = run;
  S3Config config(line_of(dir + "/url"));
  config.credentials = S3Credentials(line_of(dir + "/access_key"), line_of(dir + "/secret_key"));
  const std::string url = "s3://" + line_of(dir + "/bucket") + "/" + key;
  asio::io_context ioc;
  auto http = std::make_shared<HttpClient>(ioc.get_executor());
  std::uint64_t total = 0;
  for (auto _ : state) {
    ByteSourcePtr src = open_s3_source(http, config, url);
    total += run_blocking(ioc, [&]() -> asio::awaitable<std::uint64_t> {
      std::uint64_t n = 0;
      for (;;) {
        SharedBytes c = co_await src->next_chunk();
        if (c.empty()) break;
        n += c.size();
      }
      co_return n;
    }());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(total));
}
BENCHMARK(BM_S3Stream)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3);

}  // namespace

BENCHMARK_MAIN();
