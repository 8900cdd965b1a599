// The C++ block of README.md ("A taste"), compiled and run (CTest: snippet_readme).

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "snippet_support.hpp"

// [snippet readme-taste]
#include <atdata/atdata.hpp>

struct FeatureSample {
  atdata::NDArray features;  // any dtype/shape; .npy on the wire
  std::int64_t label;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(FeatureSample, (), (features, label, source))

// [end readme-taste]

namespace {

constexpr std::size_t kShards = 16, kPerShard = 64;
std::size_t trained = 0;

void train(const atdata::NDArray& x) {
  snippet::check(x.dtype() == atdata::Dtype::of<float>() && x.shape().size() == 2 && x.shape()[0] == 32 &&
                     x.shape()[1] == 128,
                 "batches are (32, 128) float32");
  trained += 32;
}

void write_shards() {
  std::filesystem::create_directories("data");
  atdata::ShardWriterOptions options;
  options.maxcount = kPerShard;
  atdata::ShardWriter writer("data/features-%06d.tar", options);
  std::vector<float> f(128);
  for (std::size_t i = 0; i < kShards * kPerShard; ++i) {
    for (std::size_t j = 0; j < f.size(); ++j) f[j] = static_cast<float>(i + j);
    FeatureSample s{atdata::NDArray::from_span(std::span<const float>(f)), static_cast<std::int64_t>(i % 10),
                    "synthetic"};
    atdata::write_sample(writer, s);
  }
  writer.close();
}

void taste() {
  // [snippet readme-taste]
  atdata::Dataset<FeatureSample> ds("data/features-{000000..000015}.tar");
  for (const auto& batch : ds.ordered(32)) {
    const atdata::NDArray& x = batch.stacked<&FeatureSample::features>();  // (32, 128) float32
    train(x);
  }
  // [end readme-taste]
}

}  // namespace

int main() {
  return snippet::run("snippet_readme", [] {
    snippet::ScratchDir dir;
    write_shards();
    taste();
    snippet::check(trained == kShards * kPerShard, "every sample was read");
  });
}
