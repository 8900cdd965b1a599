// The atmosphere layer against the real PDS: Python atdata's complete example end
// to end (external file: URLs and PDS blobs), lenses, another account's
// datasets, and resumable bulk publishing.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "atdata/atmosphere/bulk.hpp"
#include "atdata/atmosphere/bulk_plan.hpp"
#include "atdata/atmosphere/dataset_loader.hpp"
#include "atdata/atmosphere/index.hpp"
#include "atdata/atmosphere/lens_publisher.hpp"
#include "atdata/atmosphere/metadata.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/error.hpp"
#include "pds/atmosphere_fixture.hpp"

namespace atdata::test {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace atdata::atmosphere;

constexpr std::size_t kSamples = 1000;

// A file: URL with an authority: the lexicon's uri format refuses the
// empty-authority form "file:///…", and readers take "localhost" as this machine.
std::string file_url(const std::string& path) {
  return "file://localhost" + path;
}

// Iterates `loader` in batches and checks every value against feature_sample(i).
template <class Loader, class Check>
std::size_t drain(Account& acc, Loader& loader, Check&& check) {
  std::size_t batches = 0;
  while (auto b = acc.run(loader.next())) {
    check(*b, batches);
    ++batches;
  }
  return batches;
}

void expect_dynamic_batch(const DynamicBatch& b, std::size_t batch_index, std::size_t& seen) {
  const std::size_t expect_size = std::min<std::size_t>(32, kSamples - batch_index * 32);
  ASSERT_EQ(b.size(), expect_size);
  const NDArray& feats = b.array("features");
  ASSERT_EQ(feats.shape()[0], static_cast<std::int64_t>(expect_size));
  ASSERT_EQ(feats.shape()[1], 8);
  auto f = feats.to<float>();
  auto fv = f.view<float>();
  for (std::size_t k = 0; k < b.size(); ++k) {
    const std::size_t i = seen++;
    const FeatureSample want = feature_sample(i);
    const DynamicSample& s = b.samples()[k];
    EXPECT_EQ(s.get<std::int64_t>("label"), want.label);
    EXPECT_EQ(s.get<std::string>("source"), want.source);
    EXPECT_EQ(s.at("note").is_null(), !want.note.has_value());
    for (std::size_t j = 0; j < 8; ++j) ASSERT_EQ(fv[k * 8 + j], want.features.values()[j]) << i;
  }
}

TEST(AtmospherePds, CompleteExampleWithExternalFileUrls) {
  Account alice("alice");
  AtmosphereIndex index(alice.client);
  TempDir dir;
  auto shards = write_feature_shards(dir.path, kSamples, 250);
  ASSERT_EQ(shards.size(), 4u);

  // Publish the schema, then index the dataset by its brace pattern.
  AtUri schema_uri =
      alice.run(index.publish_schema<FeatureSample>(SchemaPublishOptions()
                                                        .with_version("1.0.0")
                                                        .with_description("Feature vectors with labels")
                                                        .with_metadata("source", "training")));
  EXPECT_EQ(schema_uri.collection, "ac.foundation.dataset.sampleSchema");
  const std::string pattern = file_url((dir.path / "features-{000000..000003}.tar").string());
  Dataset<FeatureSample> ds(pattern);
  auto entry = alice.run(index.insert_dataset(ds, DatasetPublishOptions("synthetic-features-v1")
                                                      .with_schema_ref(schema_uri.str())
                                                      .with_description("Synthetic features")
                                                      .with_tags("features", "synthetic")
                                                      .with_license("MIT")
                                                      .with_metadata("split", "train")
                                                      .with_metadata("samples", 1000)));
  EXPECT_EQ(entry.name(), "synthetic-features-v1");
  EXPECT_EQ(entry.schema_ref(), schema_uri.str());
  EXPECT_EQ(entry.data_urls(), std::vector<std::string>{pattern});
  EXPECT_EQ(entry.metadata(), (json::object{{"split", "train"}, {"samples", 1000}}));

  // The raw record has Python atdata 0.2's shape with {"$bytes"} metadata.
  atproto::Record raw =
      alice.run(alice.client.get_record(entry.uri().authority, entry.uri().collection, entry.uri().rkey));
  EXPECT_EQ(raw.value.at("$type"), "ac.foundation.dataset.record");
  EXPECT_EQ(raw.value.at("storage").at("urls").at(0), json::value(pattern));
  EXPECT_TRUE(raw.value.at("metadata").as_object().contains("$bytes"));

  // List: the entry is there, with its URI.
  auto listed = alice.run(index.list_datasets());
  auto it = std::find_if(listed.begin(), listed.end(), [&](const auto& e) { return e.uri() == entry.uri(); });
  ASSERT_NE(it, listed.end());
  EXPECT_EQ(it->name(), "synthetic-features-v1");
  auto schemas = alice.run(index.list_schemas());
  EXPECT_TRUE(
      std::any_of(schemas.begin(), schemas.end(), [&](const auto& s) { return s.uri() == schema_uri; }));

  // decode_schema → a run-time type equal to the struct's.
  auto schema = alice.run(index.decode_schema(it->schema_ref()));
  EXPECT_EQ(*schema, schema_of<FeatureSample>());

  // Load and iterate batches of 32, values equal.
  DynamicDataset dyn = alice.run(to_dynamic_dataset(alice.client, it->uri()));
  auto loader = dyn.ordered(32);
  std::size_t seen = 0;
  std::size_t batches =
      drain(alice, loader, [&](const DynamicBatch& b, std::size_t bi) { expect_dynamic_batch(b, bi, seen); });
  EXPECT_EQ(batches, 32u);  // 31 × 32 + 8
  EXPECT_EQ(seen, kSamples);

  // The typed path over the same record.
  Dataset<FeatureSample> typed = alice.run(to_dataset<FeatureSample>(alice.client, it->uri()));
  auto tl = typed.ordered(unbatched);
  std::size_t n = 0;
  while (auto s = alice.run(tl.next())) {
    EXPECT_EQ(s->source, feature_sample(n).source);
    ++n;
  }
  EXPECT_EQ(n, kSamples);
}

TEST(AtmospherePds, CompleteExampleWithBlobStorage) {
  Account alice("alice");
  TempDir dir;
  auto shards = write_feature_shards(dir.path, kSamples, 250);
  std::vector<SharedBytes> blobs;
  for (const auto& p : shards) {
    std::ifstream f(p, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), {});
    blobs.push_back(SharedBytes::copy_of(std::string_view(bytes)));
  }
  SchemaPublisher sp(alice.client);
  AtUri schema = alice.run(sp.publish<FeatureSample>());
  DatasetPublisher dp(alice.client);
  AtUri uri = alice.run(dp.publish_with_blobs(
      blobs, schema,
      DatasetPublishOptions("small-dataset").with_metadata("samples", 1000).with_max_in_flight(3)));
  DatasetLoader dl(alice.client);
  EXPECT_EQ(alice.run(dl.get_storage_type(uri)), "blobs");
  auto refs = alice.run(dl.get_blobs(uri));
  ASSERT_EQ(refs.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(refs[i].cid(), atproto::raw_cid(blobs[i].span())) << "blob order must follow input order";
    EXPECT_EQ(refs[i].ref.at("mimeType"), "application/x-tar");
  }
  auto urls = alice.run(dl.get_blob_urls(uri));
  ASSERT_EQ(urls.size(), 4u);
  EXPECT_NE(
      urls[0].find("/xrpc/com.atproto.sync.getBlob?did=" + alice.client.did() + "&cid=" + refs[0].cid()),
      std::string::npos);
  EXPECT_THROW(alice.run(dl.get_urls(uri)), RecordError);
  EXPECT_EQ(alice.run(dl.get_metadata(uri)), (json::object{{"samples", 1000}}));

  DynamicDataset dyn = alice.run(to_dynamic_dataset(alice.client, uri));
  auto loader = dyn.ordered(32);
  std::size_t seen = 0;
  EXPECT_EQ(
      drain(alice, loader, [&](const DynamicBatch& b, std::size_t bi) { expect_dynamic_batch(b, bi, seen); }),
      32u);
  EXPECT_EQ(seen, kSamples);
}

TEST(AtmospherePds, DatasetPublisherPublishesADatasetWithAutoSchemaAndMetadata) {
  Account alice("alice");
  TempDir dir;
  auto shards = write_feature_shards(dir.path, 10, 10);
  const auto meta_path = dir.path / "meta.msgpack";
  {
    auto bytes = encode_metadata(json::object{{"split", "train"}, {"samples", 10}});
    std::ofstream f(meta_path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  DatasetOptions dopt;
  dopt.metadata_url = file_url(meta_path.string());
  Dataset<FeatureSample> ds(file_url(shards.at(0)), dopt);

  DatasetPublisher dp(alice.client);
  DatasetPublishOptions bad;
  bad.name = "x";
  bad.auto_publish_schema = false;
  EXPECT_THROW(dp.publish(ds, bad), InvalidArgument);  // before any I/O

  DatasetPublishOptions po;
  po.name = "auto-schema-dataset";
  po.tags.push_back("auto");
  AtUri uri = alice.run(dp.publish(ds, po));
  DatasetLoader dl(alice.client);
  DatasetRecord rec = alice.run(dl.get(uri));
  EXPECT_EQ(rec.storage.urls, std::vector<std::string>{file_url(shards.at(0))});
  EXPECT_EQ(AtUri::parse(rec.schema_ref).collection, "ac.foundation.dataset.sampleSchema");
  EXPECT_EQ(get_metadata(rec), (json::object{{"split", "train"}, {"samples", 10}}));
  SchemaLoader sl(alice.client);
  EXPECT_EQ(*alice.run(sl.decode(AtUri::parse(rec.schema_ref))), schema_of<FeatureSample>());

  // to_dataset hands the record's metadataUrl to the Dataset.
  DatasetPublisher pub(alice.client);
  AtUri with_url = alice.run(
      pub.publish_with_urls(std::vector<std::string>{file_url(shards.at(0))}, rec.schema_ref,
                            DatasetPublishOptions("with-metadata-url").with_metadata_url(dopt.metadata_url)));
  Dataset<FeatureSample> back = alice.run(to_dataset<FeatureSample>(alice.client, with_url));
  EXPECT_EQ(back.options().metadata_url, dopt.metadata_url);
  auto md = alice.run(back.fetch_metadata());
  ASSERT_TRUE(md.has_value());
  EXPECT_TRUE(md->is_map());
}

TEST(AtmospherePds, LoadersRejectOtherRecordTypes) {
  Account alice("alice");
  SchemaPublisher sp(alice.client);
  AtUri schema = alice.run(sp.publish<FeatureSample>(SchemaPublishOptions().with_name("WrongTypeProbe")));
  DatasetLoader dl(alice.client);
  try {
    alice.run(dl.get(schema));
    FAIL();
  } catch (const RecordError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a dataset record"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ac.foundation.dataset.sampleSchema"), std::string::npos);
  }
  LensLoader ll(alice.client);
  EXPECT_THROW(alice.run(ll.get(schema)), RecordError);
  AtUri missing{alice.client.did(), "ac.foundation.dataset.record", "3zzzzzzzzzzzz"};
  EXPECT_THROW(alice.run(dl.get(missing)), XrpcError);
}

TEST(AtmospherePds, LensPublishFromCodeReferences) {
  Account alice("alice");
  SchemaPublisher sp(alice.client);
  AtUri a = alice.run(sp.publish<FeatureSample>(SchemaPublishOptions().with_name("LensSource")));
  AtUri b = alice.run(sp.publish<FeatureSample>(SchemaPublishOptions().with_name("LensTarget")));
  AtUri c = alice.run(sp.publish<FeatureSample>(SchemaPublishOptions().with_name("LensOther")));
  LensPublisher lp(alice.client);
  AtUri l1 =
      alice.run(lp.publish(LensPublishOptions("simplify", a, b)
                               .with_description("Extract label only")
                               .with_getter_code(CodeReference("https://github.com/org/repo", "abc123def456",
                                                               "transforms.simplify:simplify_getter"))
                               .with_putter_code(CodeReference("https://github.com/org/repo", "abc123def456",
                                                               "transforms.simplify:simplify_putter"))));
  Lens<FeatureSample, std::int64_t> label_only{
      "label_only", [](const FeatureSample& s) { return s.label; }, {}, "examples/lenses.hpp:label_only", ""};
  AtUri l2 = alice.run(lp.publish_from_lens(
      label_only, LensFromCodeOptions(a, c).with_code("https://github.com/org/repo", "0123456789abcdef")));
  LensLoader ll(alice.client);
  LensRecord r1 = alice.run(ll.get(l1));
  EXPECT_EQ(r1.getter_code->path, "transforms.simplify:simplify_getter");
  LensRecord r2 = alice.run(ll.get(l2));
  EXPECT_EQ(r2.name, "label_only");
  EXPECT_EQ(r2.getter_code->path, "examples/lenses.hpp:label_only");
  EXPECT_EQ(r2.putter_code->path, "atdata.lens:_trivial_put");

  auto from_a = alice.run(ll.find_by_schemas(a.str()));
  EXPECT_EQ(from_a.size(), 2u);
  auto a_to_b = alice.run(ll.find_by_schemas(a.str(), b.str()));
  ASSERT_EQ(a_to_b.size(), 1u);
  EXPECT_EQ(a_to_b[0].uri(), l1);
}

TEST(AtmospherePds, SecondAccountsDatasetsByDid) {
  Account bob("bob");
  AtmosphereIndex bob_index(bob.client);
  AtUri schema =
      bob.run(bob_index.publish_schema<FeatureSample>(SchemaPublishOptions().with_name("BobSample")));
  std::vector<std::string> urls{"https://example.com/bob-{000000..000001}.tar"};
  auto entry = bob.run(bob_index.insert_dataset_urls(
      urls, DatasetPublishOptions("bobs-dataset").with_schema_ref(schema.str())));

  Account alice("alice");
  AtmosphereIndex index(alice.client);
  auto listed = alice.run(index.list_datasets(bob.client.did()));
  auto it = std::find_if(listed.begin(), listed.end(), [&](const auto& e) { return e.uri() == entry.uri(); });
  ASSERT_NE(it, listed.end());
  EXPECT_EQ(it->uri().authority, bob.client.did());
  EXPECT_EQ(it->name(), "bobs-dataset");
  // Alice's own listing does not contain Bob's entry.
  auto own = alice.run(index.list_datasets());
  EXPECT_TRUE(std::none_of(own.begin(), own.end(), [&](const auto& e) { return e.uri() == entry.uri(); }));
  // And Alice can read Bob's schema.
  auto decoded = alice.run(index.decode_schema(it->schema_ref()));
  EXPECT_EQ(decoded->name(), "BobSample");
}

TEST(AtmospherePds, BulkPublishInterruptedAndRerunGivesExactlyTheRecords) {
  Account bob("bob");
  constexpr std::size_t kN = 2000;
  // A per-run salt keeps reruns of the test suite apart (the job key hashes content).
  const std::string salt = unique_collection("bulk");
  std::vector<DatasetRecord> records(kN);
  for (std::size_t i = 0; i < kN; ++i) {
    records[i].name = "bulk-" + std::to_string(i);
    records[i].schema_ref = "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k";
    records[i].storage =
        StorageLocation::external({"https://example.com/" + salt + "/" + std::to_string(i) + ".tar"});
  }
  BulkPublisher bulk(bob.client);
  BulkOptions opts;
  opts.max_in_flight = 4;
  opts.on_progress = [&](const BulkProgress& p) {
    if (p.written >= 700) throw std::runtime_error("simulated crash");
  };
  EXPECT_THROW(bob.run(bulk.publish_datasets(records, opts)), std::runtime_error);

  const std::string job = bulk_job_key("ac.foundation.dataset.record", [&] {
    std::vector<json::object> o;
    for (const auto& r : records) o.push_back(r.to_record());
    return o;
  }());
  auto partial = bob.run(bulk.existing_keys("ac.foundation.dataset.record", job));
  EXPECT_GE(partial.size(), 700u);
  EXPECT_LT(partial.size(), kN);

  BulkProgress last;
  opts.on_progress = [&](const BulkProgress& p) { last = p; };
  BulkResult r = bob.run(bulk.publish_datasets(records, opts));
  EXPECT_EQ(r.job_key, job);
  EXPECT_EQ(r.skipped, partial.size());
  EXPECT_EQ(r.written + r.skipped, kN);
  EXPECT_TRUE(last.done());
  ASSERT_EQ(r.uris.size(), kN);

  auto keys = bob.run(bulk.existing_keys("ac.foundation.dataset.record", job));
  EXPECT_EQ(keys.size(), kN);  // exactly: nothing written twice
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(std::unique(keys.begin(), keys.end()), keys.end());

  // A third run writes nothing.
  BulkResult again = bob.run(bulk.publish_datasets(records, opts));
  EXPECT_EQ(again.written, 0u);
  EXPECT_EQ(again.skipped, kN);

  // Spot-check one record's content.
  DatasetLoader dl(bob.client);
  DatasetRecord rec = bob.run(dl.get(r.uris[1234]));
  EXPECT_EQ(rec.name, "bulk-1234");
}

}  // namespace
}  // namespace atdata::test
