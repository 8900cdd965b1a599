// The record-level logic of the loaders, lens publisher and index entries
// (no network): storage classification and Python atdata 0.2's error texts, metadata
// decoding, code references built from a lens.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "atdata/atmosphere/dataset_loader.hpp"
#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/index.hpp"
#include "atdata/atmosphere/lens_publisher.hpp"
#include "atdata/atmosphere/metadata.hpp"
#include "atdata/error.hpp"

namespace {

namespace json = boost::json;
using namespace atdata::atmosphere;

DatasetRecord record(const char* storage) {
  json::object o = json::parse(R"({"$type":"ac.foundation.dataset.record","name":"n","schemaRef":"at://a/b/c",
      "createdAt":"2026-01-17T23:41:50Z"})")
                       .as_object();
  o["storage"] = json::parse(storage);
  return DatasetRecord::from_record(o);
}

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const atdata::RecordError& e) {
    return e.what();
  }
  return "<none>";
}

TEST(LoaderLogic, StorageTypesAndSeedErrors) {
  auto ext = record(R"({"$type":"ac.foundation.dataset.storageExternal",
      "urls":["s3://bucket/data-{000000..000009}.tar","s3://bucket/extra.tar"]})");
  auto blobs = record(R"({"$type":"ac.foundation.dataset.storageBlobs","blobs":[
      {"$type":"blob","ref":{"$link":"bafkreitest1"},"mimeType":"application/x-tar","size":1},
      {"$type":"blob","ref":{"$link":"bafkreitest2"},"mimeType":"application/x-tar","size":2}]})");
  auto unknown = record(R"({"$type":"some.unknown.storage"})");
  EXPECT_EQ(get_storage_type(ext), "external");
  EXPECT_EQ(get_storage_type(blobs), "blobs");
  EXPECT_EQ(error_of([&] { get_storage_type(unknown); }), "Unknown storage type: some.unknown.storage");
  EXPECT_EQ(get_urls(ext),
            (std::vector<std::string>{"s3://bucket/data-{000000..000009}.tar", "s3://bucket/extra.tar"}));
  EXPECT_EQ(error_of([&] { get_urls(blobs); }),
            "Dataset uses blob storage, not external URLs. Use get_blob_urls() instead.");
  EXPECT_EQ(error_of([&] { get_urls(unknown); }), "Unknown storage type: some.unknown.storage");
  ASSERT_EQ(get_blobs(blobs).size(), 2u);
  EXPECT_EQ(get_blobs(blobs)[1].cid(), "bafkreitest2");
  EXPECT_EQ(error_of([&] { get_blobs(ext); }),
            "Dataset uses external URL storage, not blobs. Use get_urls() instead.");
  // A later-namespace storage type is classified by substring, like Python atdata 0.2.
  EXPECT_EQ(get_storage_type(record(R"({"$type":"science.alt.dataset.storageBlobs","blobs":[]})")), "blobs");
}

TEST(LoaderLogic, MetadataAndIndexEntry) {
  auto rec = record(R"({"$type":"ac.foundation.dataset.storageExternal","urls":["https://a/x.tar"]})");
  EXPECT_FALSE(get_metadata(rec));
  rec.metadata = encode_metadata(json::object{{"version", "1.0"}, {"count", 100}});
  EXPECT_EQ(get_metadata(rec), (json::object{{"version", "1.0"}, {"count", 100}}));
  AtmosphereIndexEntry e(AtUri::parse("at://did:plc:abc/ac.foundation.dataset.record/123"), rec);
  EXPECT_EQ(e.uri(), "at://did:plc:abc/ac.foundation.dataset.record/123");
  EXPECT_EQ(e.name(), "n");
  EXPECT_EQ(e.schema_ref(), "at://a/b/c");
  EXPECT_EQ(e.data_urls(), std::vector<std::string>{"https://a/x.tar"});
  EXPECT_EQ(e.metadata(), (json::object{{"version", "1.0"}, {"count", 100}}));
  AtmosphereIndexEntry b(AtUri::parse("at://x/y/z"),
                         record(R"({"$type":"ac.foundation.dataset.storageBlobs","blobs":[]})"));
  EXPECT_TRUE(b.data_urls().empty());
  // Undecodable metadata bytes are a DecodeError, not a crash.
  rec.metadata = std::vector<std::byte>{std::byte{0x92}};
  EXPECT_THROW(get_metadata(rec), atdata::DecodeError);
}

TEST(LoaderLogic, ShardUrlsJoinForDatasets) {
  EXPECT_EQ(join_shard_urls(
                {"file:///a-{0..1}.tar", "https://h/xrpc/com.atproto.sync.getBlob?did=did:plc:x&cid=b"}),
            "file:///a-{0..1}.tar::https://h/xrpc/com.atproto.sync.getBlob?did=did:plc:x&cid=b");
  EXPECT_EQ(join_shard_urls({}), "");
}

TEST(LensLogic, CodeReferencesFromALens) {
  Lens<int, int> simplify{
      "simplify", [](const int& s) { return s; }, {}, "transforms.simplify:simplify_getter", ""};
  LensFromCodeOptions o;
  o.source_schema = "at://a/s/1";
  o.target_schema = "at://a/s/2";
  o.repository = "https://github.com/org/repo";
  o.commit = "abc123def456";
  LensRecord rec = LensPublisher::record_from_lens(LensCode::of(simplify), o);
  EXPECT_EQ(rec.name, "simplify");
  ASSERT_TRUE(rec.getter_code);
  EXPECT_EQ(*rec.getter_code, (CodeReference{"https://github.com/org/repo", "abc123def456",
                                             "transforms.simplify:simplify_getter"}));
  ASSERT_TRUE(rec.putter_code);
  EXPECT_EQ(rec.putter_code->path, "atdata.lens:_trivial_put");
  EXPECT_EQ(simplify.apply_put(5, 7), 7);  // trivial putter: source unchanged

  // Without repository + commit the lens would have no code references,
  // which its lexicon requires: refused, naming what is missing...
  LensFromCodeOptions bare;
  bare.name = "renamed";
  try {
    LensPublisher::record_from_lens(LensCode::of(simplify), bare);
    ADD_FAILURE() << "a lens without code references was accepted";
  } catch (const atdata::InvalidArgument& e) {
    EXPECT_EQ(
        std::string(e.what()),
        "publish_from_lens: lens 'renamed' needs a repository and a commit: the lens lexicon requires "
        "code references (getterCode and putterCode); give both, or set validate = false to publish the "
        "lens without code references");
  }
  LensCode no_getter = LensCode::of(simplify);
  no_getter.getter_path.clear();
  EXPECT_THROW(LensPublisher::record_from_lens(no_getter, o), atdata::InvalidArgument);
  // ...unless asked for: then, as the seed did, no code references (B-LP-02).
  bare.validate = false;
  LensRecord r2 = LensPublisher::record_from_lens(LensCode::of(simplify), bare);
  EXPECT_EQ(r2.name, "renamed");
  EXPECT_FALSE(r2.getter_code);
  EXPECT_FALSE(r2.putter_code);
  EXPECT_THROW(LensPublisher::record_from_lens(LensCode{}, bare = {}), atdata::InvalidArgument);
}

}  // namespace
