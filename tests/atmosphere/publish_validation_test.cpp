// Every publisher checks its record against the shipped lexicon before any
// I/O. The client here is never logged in and points nowhere: a RecordError
// (or InvalidArgument) proves the check ran first, and with `validate = false`
// the same call gets as far as the network layer (AuthError).

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/describe.hpp>

#include "atdata/atmosphere/bulk.hpp"
#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/index.hpp"
#include "atdata/atmosphere/lens_publisher.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/core/ndarray.hpp"
#include "atdata/error.hpp"
#include "support/net_run.hpp"

namespace atdata::test {
namespace {

namespace json = boost::json;
using namespace atdata::atmosphere;

struct Sample {
  NDArray x;
  std::int64_t y = 0;
};
BOOST_DESCRIBE_STRUCT(Sample, (), (x, y))

// A dataset object as DatasetPublisher::publish / AtmosphereIndex::insert_dataset take it.
struct FakeDataset {
  using sample_type = Sample;
  std::string u;
  std::string url() const { return u; }
  boost::asio::awaitable<std::optional<Value>> fetch_metadata() const { co_return std::nullopt; }
};

const std::string kSchemaUri = "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k";

struct Offline {
  boost::asio::io_context io;
  atproto::AtmosphereClient client{io.get_executor(), "http://127.0.0.1:9"};
  template <class T>
  T run(boost::asio::awaitable<T> aw) {
    return run_io(io, std::move(aw));
  }
};

template <class Fn>
atdata::RecordError record_error(Fn&& fn) {
  try {
    fn();
  } catch (const atdata::RecordError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a RecordError, got: " << e.what();
    return atdata::RecordError("", "");
  }
  ADD_FAILURE() << "expected a RecordError, nothing was thrown";
  return atdata::RecordError("", "");
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

TEST(PublishValidation, DatasetShardUrlsMustBeUrlsOthersCanFetch) {
  Offline o;
  DatasetPublisher dp(o.client);
  auto publish = [&](std::string url) {
    DatasetPublishOptions opt;
    opt.name = "d";
    std::vector<std::string> urls;
    urls.push_back(std::move(url));
    return o.run(dp.publish_with_urls(std::move(urls), kSchemaUri, std::move(opt)));
  };
  auto e = record_error([&] { publish("features.tar"); });
  EXPECT_EQ(e.member(), "storage.urls[0]");
  EXPECT_EQ(
      std::string(e.what()),
      "the dataset record is not valid by the lexicon of ac.foundation.dataset.record: "
      "Record/storage/urls/0 must be a uri; 'features.tar' is not an absolute URL. Shard URLs in a dataset "
      "record must be URLs any reader can fetch, such as https://host/data-{000000..000009}.tar or "
      "s3://bucket/data.tar; to publish local shard files, upload them as PDS blobs "
      "(DatasetPublisher::publish_with_blobs, or atdata publish --blobs) (the record was not written; set "
      "the options' validate = false to write it anyway)");
  auto abs = record_error([&] { publish("/abs/path-{000000..000003}.tar"); });
  EXPECT_TRUE(contains(abs.what(),
                       "Record/storage/urls/0 must be a uri; '/abs/path-{000000..000003}.tar' is "
                       "not an absolute URL."))
      << abs.what();
  auto file = record_error([&] { publish("file:///abs/path.tar"); });
  EXPECT_TRUE(contains(file.what(),
                       "Record/storage/urls/0 must be a uri; 'file:///abs/path.tar' names a file "
                       "on this machine, not a URI others can resolve. Shard URLs"))
      << file.what();
  EXPECT_TRUE(contains(file.what(), "publish_with_blobs")) << file.what();

  // Valid URLs, and the opt-out, get as far as the (logged-out) client.
  EXPECT_THROW(publish("https://example.com/data-{000000..000003}.tar"), atdata::AuthError);
  EXPECT_THROW(publish("s3://bucket/data.tar"), atdata::AuthError);
  DatasetPublishOptions out;
  out.name = "d";
  out.validate = false;
  std::vector<std::string> local{"file:///abs/path.tar"};
  EXPECT_THROW(o.run(dp.publish_with_urls(local, kSchemaUri, out)), atdata::AuthError);
}

TEST(PublishValidation, DatasetRecordsAreCheckedBeforeUploadsAndBeforeAutoSchemas) {
  Offline o;
  DatasetPublisher dp(o.client);
  // No blobs: refused before any upload.
  DatasetPublishOptions none;
  none.name = "d";
  auto e = record_error([&] { o.run(dp.publish_with_blobs({}, kSchemaUri, none)); });
  EXPECT_EQ(e.member(), "storage.blobs");
  EXPECT_TRUE(contains(e.what(), ": Record/storage/blobs must not have fewer than 1 elements (the record"))
      << e.what();
  none.validate = false;
  EXPECT_THROW(o.run(dp.publish_with_blobs({}, kSchemaUri, none)), atdata::AuthError);

  // A bad name is found before the (here: missing) files are opened.
  DatasetPublishOptions long_name;
  long_name.name = std::string(201, 'n');
  std::vector<std::string> paths{"/nonexistent/shard-000000.tar"};
  auto n = record_error([&] { o.run(dp.publish_with_blob_files(paths, kSchemaUri, long_name)); });
  EXPECT_EQ(n.member(), "name");
  EXPECT_TRUE(contains(n.what(), ": Record/name must not be longer than 200 characters")) << n.what();

  // publish() would publish the schema first: the dataset is checked before.
  DatasetPublishOptions po;
  po.name = "d";
  auto a = record_error([&] { o.run(dp.publish(FakeDataset{"features.tar"}, po)); });
  EXPECT_EQ(a.member(), "storage.urls[0]");
  po.validate = false;
  EXPECT_THROW(o.run(dp.publish(FakeDataset{"features.tar"}, po)), atdata::AuthError);

  // The same for the index, which publishes the sample type first.
  AtmosphereIndex index(o.client);
  DatasetPublishOptions io;
  io.name = "d";
  auto i = record_error([&] { o.run(index.insert_dataset(FakeDataset{"/abs/x.tar"}, io)); });
  EXPECT_EQ(i.member(), "storage.urls[0]");
  io.schema_ref = "https://example.com/not-an-at-uri";
  auto s = record_error([&] { o.run(index.insert_dataset(FakeDataset{"https://e.com/x.tar"}, io)); });
  EXPECT_EQ(s.member(), "schemaRef");
  EXPECT_TRUE(contains(s.what(),
                       "Record/schemaRef must be a valid at-uri; this member must be the AT-URI of a "
                       "published schema record"))
      << s.what();
  io.validate = false;
  io.schema_ref.clear();  // (a schema_ref that is not an AT-URI is InvalidArgument without the lexicon check)
  EXPECT_THROW(o.run(index.insert_dataset(FakeDataset{"/abs/x.tar"}, io)), atdata::AuthError);

  // publish_record checks too.
  DatasetRecord rec;
  rec.name = "d";
  rec.schema_ref = kSchemaUri;
  rec.storage = StorageLocation::external({"https://e.com/x.tar"});
  rec.tags = std::vector<std::string>(31, "t");
  auto t = record_error([&] { o.run(dp.publish_record(rec)); });
  EXPECT_EQ(t.member(), "tags");
  EXPECT_THROW(o.run(dp.publish_record(rec, "", false)), atdata::AuthError);
  // check_draft stands in for what I/O will provide.
  DatasetRecord draft;
  draft.name = "d";
  EXPECT_NO_THROW(DatasetPublisher::check_draft(draft, 3));
  EXPECT_THROW(DatasetPublisher::check_draft(draft, 0), atdata::RecordError);  // no blobs
  EXPECT_THROW(DatasetPublisher::check_draft(draft), atdata::RecordError);     // external, no URLs
  draft.storage = StorageLocation::external({"https://e.com/x.tar"});
  EXPECT_NO_THROW(DatasetPublisher::check_draft(draft));
}

TEST(PublishValidation, SchemasAreChecked) {
  Offline o;
  SchemaPublisher sp(o.client);
  SchemaPublishOptions opt;
  opt.metadata = {{"tags", "not-a-list"}};
  auto e = record_error([&] { o.run(sp.publish<Sample>(opt)); });
  EXPECT_EQ(e.member(), "metadata.tags");
  EXPECT_EQ(std::string(e.what()),
            "the schema record is not valid by the lexicon of ac.foundation.dataset.sampleSchema: "
            "Record/metadata/tags must be an array (the record was not written; set the options' validate = "
            "false to write it anyway)");
  opt.validate = false;
  EXPECT_THROW(o.run(sp.publish<Sample>(opt)), atdata::AuthError);
  SchemaRecord rec;
  rec.name = std::string(101, 'n');
  EXPECT_EQ(record_error([&] { o.run(sp.publish_record(rec)); }).member(), "name");
  EXPECT_THROW(o.run(sp.publish_record(rec, "", false)), atdata::AuthError);
  // What the mapping writes for a real type is valid.
  SchemaPublishOptions good;
  EXPECT_THROW(o.run(sp.publish<Sample>(good)), atdata::AuthError);
}

TEST(PublishValidation, LensesNeedTheirCodeReferences) {
  Offline o;
  LensPublisher lp(o.client);
  LensPublishOptions opt;
  opt.name = "l";
  opt.source_schema = kSchemaUri;
  opt.target_schema = kSchemaUri;
  opt.getter_code = CodeReference{"https://github.com/org/repo", "abc123", "m:get"};
  auto e = record_error([&] { o.run(lp.publish(opt)); });
  EXPECT_EQ(e.member(), "putterCode");
  EXPECT_EQ(std::string(e.what()),
            "the lens record is not valid by the lexicon of ac.foundation.dataset.lens: Record must have the "
            "property \"putterCode\"; the lens lexicon requires code references for both the getter and the "
            "putter (repository, commit and path of each function) (the record was not written; set the "
            "options' validate = false to write it anyway)");
  opt.putter_code = CodeReference{"https://github.com/org/repo", std::string(41, 'c'), "m:put"};
  EXPECT_EQ(record_error([&] { o.run(lp.publish(opt)); }).member(), "putterCode.commit");
  opt.putter_code->commit = "abc123";
  EXPECT_THROW(o.run(lp.publish(opt)), atdata::AuthError);
  opt.putter_code.reset();
  opt.validate = false;
  EXPECT_THROW(o.run(lp.publish(opt)), atdata::AuthError);

  // publish_from_lens without a repository and commit: refused, not silently
  // written without its code references.
  LensCode code{"label_only", "examples/lenses.hpp:label_only", ""};
  LensFromCodeOptions fo;
  fo.source_schema = kSchemaUri;
  fo.target_schema = kSchemaUri;
  EXPECT_THROW(o.run(lp.publish_from_lens(code, fo)), atdata::InvalidArgument);
  fo.repository = "https://github.com/org/repo";
  fo.commit = "0123456789abcdef";
  EXPECT_THROW(o.run(lp.publish_from_lens(code, fo)), atdata::AuthError);
  LensFromCodeOptions bare;
  bare.validate = false;
  EXPECT_THROW(o.run(lp.publish_from_lens(code, bare)), atdata::AuthError);
}

TEST(PublishValidation, BulkChecksEveryRecordOfAKnownCollectionFirst) {
  Offline o;
  BulkPublisher bulk(o.client);
  std::vector<DatasetRecord> recs(5);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    recs[i].name = "bulk-" + std::to_string(i);
    recs[i].schema_ref = kSchemaUri;
    recs[i].storage = StorageLocation::external({"https://e.com/" + std::to_string(i) + ".tar"});
  }
  EXPECT_THROW(o.run(bulk.publish_datasets(recs)), atdata::AuthError);
  recs[3].storage = StorageLocation::external({"shard-3.tar"});
  auto e = record_error([&] { o.run(bulk.publish_datasets(recs)); });
  EXPECT_EQ(e.member(), "storage.urls[0]");
  EXPECT_TRUE(contains(e.what(),
                       "bulk publish: record #3 of 5 is not valid by the lexicon of "
                       "ac.foundation.dataset.record: Record/storage/urls/0 must be a uri; 'shard-3.tar'"))
      << e.what();
  BulkOptions opt;
  opt.validate = false;
  EXPECT_THROW(o.run(bulk.publish_datasets(recs, opt)), atdata::AuthError);

  // Raw records of a shipped collection are checked by their collection...
  std::vector<json::object> raw{json::object{{"$type", "ac.foundation.dataset.lens"}, {"name", "x"}}};
  auto r = record_error([&] { o.run(bulk.publish_records("ac.foundation.dataset.lens", raw)); });
  EXPECT_EQ(r.member(), "sourceSchema");
  std::vector<json::object> mistyped{json::object{{"$type", "ac.foundation.dataset.record"}}};
  EXPECT_EQ(
      record_error([&] { o.run(bulk.publish_records("ac.foundation.dataset.lens", mistyped)); }).member(),
      "$type");
  // ...and records of collections the library has no lexicon for are not.
  std::vector<json::object> other{json::object{{"anything", 1}}};
  EXPECT_THROW(o.run(bulk.publish_records("test.atdata.x", other)), atdata::AuthError);
}

}  // namespace
}  // namespace atdata::test
