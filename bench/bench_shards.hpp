#pragma once
// Shared by the shard-reading benchmarks: the two generated data sets of
// docs/benchmarks.md ("Shards and Dataset"), written once into
// $ATDATA_BENCH_DIR (default /tmp/atdata-bench) and then reused.
//   (a) features: 16 shards × 10,000 {features f32[128], label int, source str}
//   (b) images:    8 shards ×  1,000 {image u8[3,224,224], label int}
// plus variants of them under other names and shard layouts.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "atdata/dataset/dataset.hpp"
#include "atdata/dataset/write.hpp"

namespace bench_shards {

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

inline fs::path bench_dir() {
  const char* d = std::getenv("ATDATA_BENCH_DIR");
  return d ? fs::path(d) : fs::path("/tmp/atdata-bench");
}

// Writes `shards` × `per_shard` samples made by `make(i)` unless present.
template <class MakeSample>
inline std::string ensure(const std::string& name, int shards, int per_shard, MakeSample make) {
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

// The (a) samples, under another name and shard layout (e.g. more, smaller
// shards for the latency benchmark of bench_prefetch_http).
inline std::string features_url(const std::string& name, int shards, int per_shard) {
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  return ensure(name, shards, per_shard, [&](int i) {
    std::vector<float> v(128);
    for (auto& x : v) x = dist(rng);
    return FeatureSample{NDArray::from_span<float>(v), i % 1000, i % 2 ? "imagenet" : "openimages-v7"};
  });
}

inline std::string features_url() {
  static std::string url = features_url("features", 16, 10000);
  return url;
}

inline std::string images_url() {
  static std::string url = ensure("images", 8, 1000, [](int i) {
    NDArray img = NDArray::zeros(Dtype::of<std::uint8_t>(), {3, 224, 224});
    auto bytes = img.mutable_bytes();
    for (std::size_t k = 0; k < bytes.size(); k += 61) bytes[k] = static_cast<std::byte>(k + i);
    return ImageSample{std::move(img), i % 1000};
  });
  return url;
}

// The bytes of a shard list (local files).
inline std::uint64_t total_size(const std::vector<std::string>& files) {
  std::uint64_t n = 0;
  for (const auto& f : files) n += fs::file_size(f);
  return n;
}

// One pass of what every shard benchmark measures: ordered(32), the stacked
// array of each batch touched. Returns the samples read.
template <class T, auto ArrayMember>
std::uint64_t ordered32_pass(const Dataset<T>& ds) {
  std::uint64_t samples = 0;
  for (const auto& batch : ds.ordered(32)) {
    benchmark::DoNotOptimize(batch.template stacked<ArrayMember>().bytes().data());
    samples += batch.size();
  }
  return samples;
}

}  // namespace bench_shards
