// Python atdata's "complete example" (its atmosphere guide) in C++: write a typed dataset to tar
// shards, publish its schema and an index record on ATProto, then discover it
// again — list, decode the schema into a run-time type, load and iterate.
//
//   tools/pds/start-dev.sh        # a throw-away local PDS; prints the exports
//   export ATDATA_PDS_URL=http://127.0.0.1:2583 ATDATA_HANDLE=alice.test ATDATA_PASSWORD=…
//   build/examples/example_complete_example [output-dir]   (or ATDATA_DEMO_DIR)
//
// (ATDATA_PLC_URL is honoured too; start-dev.sh prints it.)

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/describe.hpp>

#include "atdata/atmosphere/index.hpp"
#include "atdata/core/typed_ndarray.hpp"
#include "atdata/dataset/dataset.hpp"
#include "atdata/dataset/write.hpp"
#include "atdata/error.hpp"
#include "atdata/io/blocking.hpp"
#include "atdata/io/tar_writer.hpp"

namespace asio = boost::asio;
namespace atmo = atdata::atmosphere;

// 1. Define a sample type.
struct FeatureSample {
  atdata::NDArrayOf<float> features;  // published as ndarray, dtype float32
  std::int64_t label = 0;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(FeatureSample, (), (features, label, source))

constexpr std::size_t kSamples = 1000;

FeatureSample make_sample(std::size_t i) {
  std::vector<float> f(128);
  for (std::size_t j = 0; j < f.size(); ++j) f[j] = static_cast<float>(i) * 0.001f + static_cast<float>(j);
  return {atdata::NDArray::from_span(std::span<const float>(f)), static_cast<std::int64_t>(i % 10),
          "synthetic"};
}

asio::awaitable<int> demo(asio::io_context& io, std::filesystem::path dir) {
  // 2. Write the samples as WebDataset shards.
  atdata::ShardWriterOptions so;
  so.maxcount = 250;
  atdata::ShardWriter writer((dir / "features-%06d.tar").string(), so);
  for (std::size_t i = 0; i < kSamples; ++i) atdata::write_sample(writer, make_sample(i));
  writer.close();
  // "file://localhost/…": the dataset lexicon's uri format refuses "file:///…".
  const std::string url = "file://localhost" + (dir / "features-{000000..000003}.tar").string();
  std::cout << "wrote " << writer.total_samples() << " samples in " << writer.shards().size() << " shards\n";

  // 3. Log in (ATDATA_PDS_URL, ATDATA_HANDLE, ATDATA_PASSWORD).
  auto client = co_await atmo::AtmosphereClient::from_env(io.get_executor());
  std::cout << "logged in as " << client->handle() << " (" << client->did() << ")\n";
  atmo::AtmosphereIndex index(*client);

  // 4. Publish the schema.
  atmo::AtUri schema_uri =
      co_await index.publish_schema<FeatureSample>("1.0.0", "Feature vectors with labels");
  std::cout << "schema:  " << schema_uri << "\n";

  // 5. Index the dataset. Options are not aggregates: they are built inline
  // with chained setters, which is safe inside co_await on every compiler.
  atdata::Dataset<FeatureSample> dataset(url);
  auto entry = co_await index.insert_dataset(dataset, atmo::DatasetPublishOptions("synthetic-features-v1")
                                                          .with_schema_ref(schema_uri)
                                                          .with_description("Synthetic features")
                                                          .with_tags("features", "synthetic")
                                                          .with_license("MIT"));
  std::cout << "dataset: " << entry.uri() << "\n";

  // 6. Discover it again: list, decode the schema, load.
  std::cout << "datasets of " << client->handle() << ":\n";
  for (const auto& e : co_await index.list_datasets())
    std::cout << "  " << e.name() << "  " << e.uri() << "\n";
  auto schema = co_await index.decode_schema(entry.schema_ref());
  std::cout << "decoded schema " << schema->name() << " with fields:";
  for (const auto& f : schema->fields()) std::cout << " " << f.name << ":" << f.type.describe();
  std::cout << "\n";

  // The typed loader checks the published schema against FeatureSample
  // before reading any shard.
  atdata::Dataset<FeatureSample> typed =
      co_await index.dataset_loader().to_dataset<FeatureSample>(entry.uri());
  std::cout << "typed dataset over " << typed.list_shards().size() << " shards\n";

  atdata::DynamicDataset ds = co_await index.dataset_loader().to_dynamic_dataset(entry.uri(), schema);
  auto loader = ds.ordered(32);
  std::size_t batches = 0, samples = 0, mismatches = 0;
  while (auto batch = co_await loader.next()) {
    const auto features = batch->array("features").to<float>();  // (32, 128)
    const auto f = features.view<float>();
    for (std::size_t k = 0; k < batch->size(); ++k, ++samples) {
      const FeatureSample want = make_sample(samples);
      if (batch->samples()[k].get<std::int64_t>("label") != want.label) ++mismatches;
      for (std::size_t j = 0; j < 128; ++j) mismatches += f[k * 128 + j] != want.features.values()[j];
    }
    ++batches;
  }
  std::cout << "read " << samples << " samples in " << batches << " batches of 32; "
            << (mismatches == 0 ? "all values equal" : std::to_string(mismatches) + " MISMATCHES") << "\n";
  co_return mismatches == 0 && samples == kSamples ? 0 : 1;
}

int main(int argc, char** argv) {
  std::cout << std::unitbuf;  // progress lines appear as they happen
  try {
    // Where the shards go: argv[1], else $ATDATA_DEMO_DIR, else a temp folder.
    const char* env_dir = std::getenv("ATDATA_DEMO_DIR");
    std::filesystem::path dir = argc > 1 ? std::filesystem::path(argv[1])
                                : env_dir
                                    ? std::filesystem::path(env_dir)
                                    : std::filesystem::temp_directory_path() / "atdata-complete-example";
    std::filesystem::create_directories(dir);
    dir = std::filesystem::absolute(dir);
    asio::io_context io;
    return atdata::run_blocking(io, demo(io, dir));
  } catch (const atdata::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
