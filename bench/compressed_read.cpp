// Compressed shard read benchmark: the data sets of bench_dataset_read
// ((a) features, (b) images) as .tar.zst and .tar.gz, read from the page
// cache. bench/compressed_read.sh makes the compressed files (with the zstd
// and gzip tools, so that our reader and the reference decompress the same
// bytes) and times `zstd -d` / `gzip -d` next to this program.
//   bench_compressed_read --generate   writes the .tar shards, prints their dirs
// Cases:
//   Ordered32/<set>/<codec>  Dataset<T>::ordered(32) + stacked array, as in
//                            bench_dataset_read
//   Decode/<set>/<codec>     the decompressing source alone (chunks dropped)
// Counters: items_per_second = samples/s, bytes_per_second = compressed
// bytes/s, decoded_bytes_per_second = decompressed bytes/s.

#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstring>
#include <string>

#include "atdata/io/byte_source.hpp"
#include "atdata/io/compression.hpp"
#include "bench_shards.hpp"

namespace {

using namespace bench_shards;

// "<dir>/<name>-{000000..000015}.tar" → the same pattern for ".tar.<ext>".
std::string with_ext(const std::string& tar_url, const std::string& ext) {
  return tar_url + "." + ext;
}

template <class T, auto ArrayMember>
void ordered(benchmark::State& state, const std::string& url) {
  Dataset<T> ds(url);
  const std::uint64_t bytes = bench_shards::total_size(ds.shard_list());
  std::uint64_t samples = 0;
  for (auto _ : state) samples = bench_shards::ordered32_pass<T, ArrayMember>(ds);
  state.SetItemsProcessed(static_cast<std::int64_t>(samples * state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
  state.counters["samples"] = static_cast<double>(samples);
}

asio::awaitable<void> drain(std::vector<std::string> files, std::uint64_t& out) {
  for (const auto& f : files) {
    ByteSourcePtr src = make_decompressing_source(open_file_source(f));
    for (;;) {
      SharedBytes c = co_await src->next_chunk();
      if (c.empty()) break;
      out += c.size();
      benchmark::DoNotOptimize(c.data());
    }
  }
}

void decode(benchmark::State& state, const std::vector<std::string>& files) {
  const std::uint64_t bytes = bench_shards::total_size(files);
  std::uint64_t decoded = 0;
  for (auto _ : state) {
    decoded = 0;
    asio::io_context io;
    asio::co_spawn(io, drain(files, decoded), [](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
    });
    io.run();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
  state.counters["decoded_bytes_per_second"] =
      benchmark::Counter(static_cast<double>(decoded * state.iterations()), benchmark::Counter::kIsRate);
}

void register_all() {
  const std::string features = features_url(), images = images_url();
  for (const char* ext : {"zst", "gz"}) {
    const std::string e = ext;
    std::string fu = with_ext(features, e), iu = with_ext(images, e);
    auto reg = [](const std::string& name, auto fn) {
      benchmark::RegisterBenchmark(name.c_str(), fn)
          ->Unit(benchmark::kMillisecond)
          ->MinTime(2.0)
          ->UseRealTime();
    };
    reg("Ordered32/features/" + e,
        [fu](benchmark::State& s) { ordered<FeatureSample, &FeatureSample::features>(s, fu); });
    reg("Ordered32/images/" + e,
        [iu](benchmark::State& s) { ordered<ImageSample, &ImageSample::image>(s, iu); });
    std::vector<std::string> ff = Dataset<FeatureSample>(fu).shard_list();
    std::vector<std::string> fi = Dataset<ImageSample>(iu).shard_list();
    reg("Decode/features/" + e, [ff](benchmark::State& s) { decode(s, ff); });
    reg("Decode/images/" + e, [fi](benchmark::State& s) { decode(s, fi); });
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--generate") == 0) {
    std::printf("%s\n%s\n", fs::path(features_url()).parent_path().c_str(),
                fs::path(images_url()).parent_path().c_str());
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
