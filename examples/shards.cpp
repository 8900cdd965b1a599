// Writes a small sharded dataset and reads it back: ordered batches, a
// reproducible shuffle, and resuming from a saved iteration state.
//
//   build/examples/example_shards [out-dir]
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "atdata/dataset/dataset.hpp"
#include "atdata/dataset/write.hpp"

struct Sample {
  atdata::NDArray features;
  std::int64_t label;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(Sample, (), (features, label, source))

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / "atdata-example-shards";
  fs::create_directories(dir);

  // 100 samples, 25 per shard, gzip-compressed by the file name; keys default
  // to uuid1 strings as in Python (`sample.as_wds`).
  atdata::ShardWriter writer((dir / "train-%06d.tar.gz").string(), {.maxcount = 25});
  for (int i = 0; i < 100; ++i) {
    std::vector<float> v(8, static_cast<float>(i));
    atdata::write_sample(writer, Sample{atdata::NDArray::from_span<float>(v), i % 10, "example"});
  }
  writer.close();

  atdata::Dataset<Sample> ds((dir / "train-{000000..000003}.tar.gz").string());
  std::printf("%zu shards\n", ds.shard_list().size());

  for (const auto& batch : ds.ordered(32)) {
    const atdata::NDArray& x = batch.stacked<&Sample::features>();
    std::printf("ordered batch: %zu samples, features shape (%lld, %lld)\n", batch.size(),
                static_cast<long long>(x.shape()[0]), static_cast<long long>(x.shape()[1]));
  }

  // Same (seed, epoch) → same order; save the state, resume later.
  auto loader = ds.shuffled({.buffer_shards = 4, .buffer_samples = 50, .seed = 42, .epoch = 0}, 16);
  auto first = loader.next_blocking();
  atdata::IterationState saved = loader.state();
  std::printf("first shuffled labels:");
  for (auto l : first->column<&Sample::label>()) std::printf(" %lld", static_cast<long long>(l));
  std::printf("\nsaved after %llu samples\n", static_cast<unsigned long long>(saved.samples_delivered));

  std::size_t rest = 0;
  for (const auto& batch :
       ds.shuffled({.buffer_shards = 4, .buffer_samples = 50, .seed = 42, .epoch = 0}, 16, saved))
    rest += batch.size();
  std::printf("resumed: %zu more samples\n", rest);
  return 0;
}
