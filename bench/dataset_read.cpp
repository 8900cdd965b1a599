// End-to-end shard read benchmark (issue 3): Dataset<T>::ordered(32) over
// generated shards, from the page cache.
//   (a) 16 shards × 10,000 {features f32[128], label int, source str}
//   (b)  8 shards ×  1,000 {image u8[3,224,224], label int}
// Data is generated on first run into $ATDATA_BENCH_DIR (default
// /tmp/atdata-bench) and reused; the first timed pass warms the page cache.
// Counters: items_per_second = samples/s, bytes_per_second = shard bytes/s.

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "atdata/dataset/dataset.hpp"
#include "atdata/dataset/write.hpp"

namespace {

namespace fs = std::filesystem;
using namespace atdata;

struct FeatureSample {
  NDArray features;
  std::int64_t label;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(FeatureSample, (), (features, label, source))

struct ImageSample {
  NDArray image;
  std::int64_t label;
};
BOOST_DESCRIBE_STRUCT(ImageSample, (), (image, label))

fs::path bench_dir() {
  const char* d = std::getenv("ATDATA_BENCH_DIR");
  return d ? fs::path(d) : fs::path("/tmp/atdata-bench");
}

// Writes `shards` × `per_shard` samples made by `make(i)` unless present.
template <class MakeSample>
std::string ensure(const std::string& name, int shards, int per_shard, MakeSample make) {
  fs::path dir = bench_dir() / name;
  fs::path done = dir / "COMPLETE";
  std::string pattern = (dir / (name + "-%06d.tar")).string();
  std::string url = (dir / (name + "-{000000.." + std::string(5 - std::to_string(shards - 1).size(), '0') +
                            "0" + std::to_string(shards - 1) + "}.tar"))
                        .string();
  if (fs::exists(done)) return url;
  fs::create_directories(dir);
  ShardWriterOptions o;
  o.maxcount = static_cast<std::uint64_t>(per_shard);
  ShardWriter w(pattern, o);
  for (int i = 0; i < shards * per_shard; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "sample_%08d", i);
    write_sample(w, make(i), key);
  }
  w.close();
  std::FILE* f = std::fopen(done.c_str(), "w");
  if (f) std::fclose(f);
  return url;
}

std::string features_url() {
  static std::string url = ensure("features", 16, 10000, [](int i) {
    static std::mt19937 rng(1);
    static std::normal_distribution<float> dist;
    std::vector<float> v(128);
    for (auto& x : v) x = dist(rng);
    return FeatureSample{NDArray::from_span<float>(v), i % 1000, i % 2 ? "imagenet" : "openimages-v7"};
  });
  return url;
}

std::string images_url() {
  static std::string url = ensure("images", 8, 1000, [](int i) {
    NDArray img = NDArray::zeros(Dtype::of<std::uint8_t>(), {3, 224, 224});
    auto bytes = img.mutable_bytes();
    for (std::size_t k = 0; k < bytes.size(); k += 61) bytes[k] = static_cast<std::byte>(k + i);
    return ImageSample{std::move(img), i % 1000};
  });
  return url;
}

template <class T, auto ArrayMember>
void read_all(benchmark::State& state, const std::string& url) {
  Dataset<T> ds(url);
  std::uint64_t bytes = 0;
  for (const auto& s : ds.shard_list()) bytes += fs::file_size(s);
  std::uint64_t samples = 0;
  for (auto _ : state) {
    samples = 0;
    for (const auto& batch : ds.ordered(32)) {
      benchmark::DoNotOptimize(batch.template stacked<ArrayMember>().bytes().data());
      samples += batch.size();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(samples * state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
  state.counters["samples"] = static_cast<double>(samples);
}

void BM_Features_Ordered32(benchmark::State& state) {
  read_all<FeatureSample, &FeatureSample::features>(state, features_url());
}
void BM_Images_Ordered32(benchmark::State& state) {
  read_all<ImageSample, &ImageSample::image>(state, images_url());
}

BENCHMARK(BM_Features_Ordered32)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_Images_Ordered32)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
