// The C++ blocks of docs/dataset.md, compiled and run (CTest: snippet_dataset).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "atdata/dataset/shard_cache.hpp"
#include "snippet_support.hpp"

// [snippet dataset-read]
#include "atdata/dataset/dataset.hpp"

struct ImageSample {
  atdata::NDArray image;
  std::int64_t label;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(ImageSample, (), (image, label, source))

// [end dataset-read]

// [snippet dataset-write]
#include "atdata/dataset/write.hpp"

// [end dataset-write]

namespace {

namespace asio = boost::asio;
using snippet::check;

constexpr std::size_t kShards = 100, kPerShard = 3, kSamples = kShards * kPerShard;
std::size_t batches_seen = 0, samples_seen = 0;

ImageSample make_sample(std::size_t i) {
  std::vector<std::uint8_t> pixels(3 * 4 * 4, static_cast<std::uint8_t>(i));
  return {atdata::NDArray::from_span(std::span<const std::uint8_t>(pixels), {3, 4, 4}),
          static_cast<std::int64_t>(i), "generated"};
}

void train(const atdata::NDArray& images, const std::vector<std::int64_t>& labels) {
  check(images.shape().size() == 4 && static_cast<std::size_t>(images.shape()[0]) == labels.size(),
        "stacked images match the label column");
  ++batches_seen;
  samples_seen += labels.size();
}

void train(const atdata::SampleBatch<ImageSample>& batch) {
  ++batches_seen;
  samples_seen += batch.size();
}

void use(const ImageSample& s) {
  check(s.source == "generated", "unbatched samples decode");
  ++samples_seen;
}

std::vector<ImageSample> make_samples(std::size_t n) {
  std::vector<ImageSample> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(make_sample(i));
  return out;
}

// Writes the shards the reading snippets use (data/train-000000.tar …).
void write_shards() {
  std::filesystem::create_directories("data");
  atdata::ShardWriterOptions options;
  options.maxcount = kPerShard;
  atdata::ShardWriter writer("data/train-%06d.tar", options);
  for (std::size_t i = 0; i < kSamples; ++i) atdata::write_sample(writer, make_sample(i));
  writer.close();
  check(writer.shards().size() == kShards, "100 shards written");
}

void read() {
  // [snippet dataset-read]
  atdata::Dataset<ImageSample> ds("data/train-{000000..000099}.tar");  // lazy, no I/O

  // Each batch is a SampleBatch<ImageSample>:
  for (const auto& batch : ds.ordered(32)) {
    const atdata::NDArray& images = batch.stacked<&ImageSample::image>();  // (N, …)
    std::vector<std::int64_t> labels = batch.column<&ImageSample::label>();
    train(images, labels);
  }
  for (const ImageSample& s : ds.ordered(atdata::unbatched)) use(s);  // Python batch_size=None
  // [end dataset-read]
  check(batches_seen == (kSamples + 31) / 32 && samples_seen == 2 * kSamples, "ordered(32) then unbatched");
}

void read_async(const atdata::Dataset<ImageSample>& ds, std::uint64_t epoch) {
  batches_seen = samples_seen = 0;
  asio::io_context ioc;
  // [snippet dataset-async]
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        auto loader = ds.shuffled({.seed = 7, .epoch = epoch}, 32);
        while (auto batch = co_await loader.next()) train(*batch);
      },
      asio::detached);
  // [end dataset-async]
  ioc.run();
  check(samples_seen == kSamples && batches_seen == (kSamples + 31) / 32,
        "shuffled(32) on the caller's io_context");
}

void resume(const std::string& url, std::size_t rank, std::size_t world, std::uint64_t e) {
  // [snippet dataset-resume]
  atdata::Dataset<ImageSample> ds(
      url, atdata::DatasetOptions().with_split(rank, world));  // shards rank, rank+world, …
  auto loader = ds.shuffled({.seed = 1, .epoch = e}, 64);
  auto batch = loader.next_blocking();                  // … train on it …
  atdata::IterationState saved_state = loader.state();  // … save it with the checkpoint
  auto resumed = ds.shuffled({.seed = 1, .epoch = e}, 64, saved_state);
  // [end dataset-resume]
  check(batch.has_value(), "a first batch");
  auto want = loader.next_blocking(), got = resumed.next_blocking();
  check(want && got && want->column<&ImageSample::label>() == got->column<&ImageSample::label>(),
        "the resumed loader continues where the saved one stopped");
}

void prefetch(const std::string& url) {
  batches_seen = 0;
  // [snippet dataset-prefetch]
  atdata::PrefetchOptions prefetch;  // every member has a documented default
  prefetch.shards_in_flight = 8;     // shards downloading at once
  prefetch.decode_threads = 2;       // decoding off the I/O thread
  prefetch.on_shard_error = atdata::ShardErrorPolicy::skip;
  atdata::Dataset<ImageSample> ds(url, atdata::DatasetOptions().with_prefetch(prefetch));

  auto loader = ds.ordered(32);
  for (const auto& batch : loader) {  // the next batches are read while this one trains
    train(batch.stacked<&ImageSample::image>(), batch.column<&ImageSample::label>());
  }
  atdata::LoaderStats stats = loader.stats();
  std::printf("%llu samples at %.0f/s, %llu retries, %llu shards skipped\n",
              static_cast<unsigned long long>(stats.samples), stats.samples_per_second(),
              static_cast<unsigned long long>(stats.retries),
              static_cast<unsigned long long>(stats.shards_skipped));
  // [end dataset-prefetch]
  check(stats.samples == kSamples && stats.shards_done == kShards && batches_seen == (kSamples + 31) / 32,
        "prefetched ordered(32) reads everything");

  // [snippet dataset-cache]
  auto cache = std::make_shared<atdata::ShardCache>(
      atdata::ShardCacheOptions().with_dir("shard-cache").with_max_bytes(std::uint64_t{50} << 30));
  atdata::Dataset<ImageSample> cached(url, atdata::DatasetOptions().with_cache(cache));
  // [end dataset-cache]
  check(cached.options().cache == cache, "the cache is an option");
}

void write() {
  std::vector<ImageSample> samples = make_samples(25);
  std::filesystem::create_directories("out");
  // [snippet dataset-write]
  atdata::ShardWriter out("out/train-%06d.tar", {.maxcount = 10000});
  for (const auto& s : samples) atdata::write_sample(out, s);   // uuid1 key
  atdata::write_sample(out, samples.front(), "sample_000042");  // caller key
  out.close();  // out.shards() lists the files; on_shard_closed is called per shard
  // [end dataset-write]
  check(out.shards().size() == 1 && out.total_samples() == 26, "one shard of 26 samples");
  std::size_t n = 0;
  for (const auto& s : atdata::Dataset<ImageSample>(out.shards().front()).ordered(atdata::unbatched)) {
    check(s.source == "generated", "written samples read back");
    ++n;
  }
  check(n == 26, "all written samples read back");
}

}  // namespace

int main() {
  return snippet::run("snippet_dataset", [] {
    snippet::ScratchDir dir;
    write_shards();
    read();
    read_async(atdata::Dataset<ImageSample>("data/train-{000000..000099}.tar"), 3);
    resume("data/train-{000000..000099}.tar", 1, 2, 0);
    prefetch("data/train-{000000..000099}.tar");
    write();
  });
}
