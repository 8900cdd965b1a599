// The loader and publisher call forms a new user writes, against the real
// PDS, inside one coroutine (so the GCC 12 co_await temporaries are
// exercised under ASan in CI): the three forms that used to crash or not
// compile, DatasetLoader::to_dataset<T> with its schema check, text and
// AtUri accepted alike, and run_blocking for a Dataset result.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "atdata/atmosphere/dataset_loader.hpp"
#include "atdata/atmosphere/index.hpp"
#include "atdata/error.hpp"
#include "pds/atmosphere_fixture.hpp"

namespace atdata::test {

struct LabelsOnly {
  std::int64_t label = 0;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(LabelsOnly, (), (label, source))

struct WrongLabel {
  NDArrayOf<float> features;
  std::string label;  // int in FeatureSample
  std::string source;
  std::vector<std::string> tags;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(WrongLabel, (), (features, label, source, tags, note))

namespace {

namespace asio = boost::asio;
using namespace atdata::atmosphere;  // NOLINT(google-build-using-namespace)

std::vector<SharedBytes> read_files(const std::vector<std::string>& paths) {
  std::vector<SharedBytes> out;
  for (const auto& p : paths) {
    std::ifstream f(p, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), {});
    out.push_back(SharedBytes::copy_of(std::string_view(bytes)));
  }
  return out;
}

asio::awaitable<void> user_flow(AtmosphereClient& client, std::vector<SharedBytes> blobs,
                                std::string pattern) {
  AtmosphereIndex index(client);
  // 1. publish_schema with inline options (was: {.version, .description} → invalid free).
  AtUri schema = co_await index.publish_schema<FeatureSample>(
      SchemaPublishOptions().with_version("1.0.0").with_description("Feature vectors with labels"));
  EXPECT_EQ(schema.collection, "ac.foundation.dataset.sampleSchema");

  // 2. publish_with_blobs with inline options (was: {.record = {.name}, .max_in_flight} → abort).
  DatasetPublisher& dp = index.dataset_publisher();
  AtUri blob_ds = co_await dp.publish_with_blobs(std::move(blobs), schema,
                                                 DatasetPublishOptions("small").with_max_in_flight(4));

  // 3. insert_dataset with tags and metadata inline (was: braced lists → "array used as initializer").
  Dataset<FeatureSample> ds(pattern);
  auto entry = co_await index.insert_dataset(ds, DatasetPublishOptions("features-inline")
                                                     .with_schema_ref(schema)
                                                     .with_tags("features", "synthetic")
                                                     .with_metadata("source", "training"));
  const std::vector<std::string> want_tags{"features", "synthetic"};
  EXPECT_EQ(entry.record().tags, want_tags);
  EXPECT_EQ(entry.metadata()->at("source"), "training");
  // …and the direct form.
  auto direct = co_await index.insert_dataset(ds, "features-direct", schema.str());
  EXPECT_EQ(direct.schema_ref(), schema.str());

  // Text and AtUri name records alike, everywhere.
  DatasetLoader& dl = index.dataset_loader();
  const std::string blob_text = blob_ds.str();
  auto storage = co_await dl.get_storage_type(blob_text);
  EXPECT_EQ(storage, "blobs");
  auto by_text = co_await dl.get_blob_urls(blob_text);
  auto by_uri = co_await dl.get_blob_urls(blob_ds);
  EXPECT_EQ(by_text, by_uri);
  EXPECT_EQ(by_uri.size(), 2u);
  auto blob_shards = co_await dl.get_shard_urls(blob_ds);
  EXPECT_EQ(blob_shards, by_uri);
  const std::vector<std::string> want_urls{pattern};
  auto entry_urls = co_await dl.get_shard_urls(entry.uri());
  EXPECT_EQ(entry_urls, want_urls);

  // The typed loader reads what matches, over both storages.
  Dataset<FeatureSample> typed = co_await dl.to_dataset<FeatureSample>(entry.uri());
  std::size_t n = 0;
  auto it = typed.ordered(unbatched);
  while (auto s = co_await it.next()) EXPECT_EQ(s->label, feature_sample(n++).label);
  EXPECT_EQ(n, 20u);
  Dataset<FeatureSample> from_blobs = co_await dl.to_dataset<FeatureSample>(blob_text);
  n = 0;
  auto bt = from_blobs.ordered(8);
  while (auto b = co_await bt.next()) n += b->size();
  EXPECT_EQ(n, 20u);

  // …and refuses a type that does not match, before reading any shard,
  // naming both types and the first difference.
  for (int which = 0; which < 2; ++which) {
    std::string message;
    try {
      if (which == 0) {
        (void)co_await dl.to_dataset<WrongLabel>(entry.uri());
      } else {
        (void)co_await dl.to_dataset<LabelsOnly>(entry.uri());
      }
    } catch (const SchemaError& e) {
      message = e.what();
    }
    EXPECT_NE(message.find("FeatureSample"), std::string::npos) << message;
    EXPECT_NE(message.find(which == 0 ? "WrongLabel" : "LabelsOnly"), std::string::npos) << message;
    EXPECT_NE(message.find(which == 0 ? "field 'label': str in WrongLabel, int in FeatureSample"
                                      : "field 'features' is in FeatureSample but not in LabelsOnly"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(entry.uri().str()), std::string::npos) << message;
  }
}

TEST(LoaderApiPds, TheDocumentedFormsWorkInsideACoroutine) {
  Account alice("alice");
  TempDir dir;
  auto shards = write_feature_shards(dir.path, 20, 10);
  ASSERT_EQ(shards.size(), 2u);
  alice.run(user_flow(alice.client, read_files(shards),
                      "file://localhost" + (dir.path / "features-{000000..000001}.tar").string()));
}

TEST(LoaderApiPds, RunBlockingReturnsADataset) {
  Account alice("alice");
  TempDir dir;
  auto shards = write_feature_shards(dir.path, 10, 10);
  AtmosphereIndex index(alice.client);
  AtUri schema = run_blocking(alice.io, index.publish_schema<FeatureSample>());
  Dataset<FeatureSample> ds("file://localhost" + shards.at(0));
  auto entry = run_blocking(alice.io, index.insert_dataset(ds, "blocking-form", schema.str()));
  // (Before: co_spawn refused Dataset results, which have no default constructor.)
  Dataset<FeatureSample> back = run_blocking(alice.io, to_dataset<FeatureSample>(alice.client, entry.uri()));
  std::size_t n = 0;
  for (const auto& s : back.ordered(unbatched)) n += s.source.empty() ? 0 : 1;
  EXPECT_EQ(n, 10u);
  DynamicDataset dyn = run_blocking(alice.io, index.dataset_loader().to_dynamic_dataset(entry.uri()));
  EXPECT_EQ(dyn.schema()->name(), "FeatureSample");
}

}  // namespace
}  // namespace atdata::test
