// What every publisher writes to the real PDS, read back with getRecord, is
// valid by the shipped lexicons, for atdata's validator and for the official
// one (@atproto/lexicon, run by tools/lexicon-check/check.js).

#include <gtest/gtest.h>

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <fstream>

#include <boost/json/serialize.hpp>

#include "atdata/atmosphere/bulk.hpp"
#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/index.hpp"
#include "atdata/atmosphere/lens_publisher.hpp"
#include "atdata/atmosphere/lexicon_validation.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "atdata/dataset/dataset.hpp"
#include "pds/atmosphere_fixture.hpp"

namespace atdata::test {
namespace {

namespace json = boost::json;
using namespace atdata::atmosphere;

struct CheckerRun {
  int status = -1;
  std::string output;
};

// Runs the official validator on a JSON-lines file of records.
CheckerRun run_official_checker(const std::string& file) {
  std::string cmd =
      std::string("'") + ATDATA_NODE_PROGRAM + "' '" + ATDATA_LEXICON_CHECK + "' '" + file + "' 2>&1";
  CheckerRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) r.output.append(buf.data(), n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Reads each record back and writes {"nsid", "record"} lines; our validator
// must accept each one as well.
std::string dump_records(Account& acc, const std::vector<AtUri>& uris, const std::string& path) {
  std::ofstream out(path);
  for (const AtUri& u : uris) {
    atproto::Record r = acc.run(acc.client.get_record(u.authority, u.collection, u.rkey));
    json::object line;
    line["nsid"] = u.collection;
    line["record"] = r.value;
    out << json::serialize(line) << "\n";
    if (auto p = check_record(u.collection, r.value.as_object())) {
      ADD_FAILURE() << u.str() << " as stored is not valid for atdata's validator: " << p->message;
    }
  }
  return path;
}

TEST(LexiconPds, EveryPublisherWritesRecordsTheOfficialValidatorAccepts) {
  Account alice("alice");
  std::vector<AtUri> written;

  SchemaPublisher sp(alice.client);
  SchemaPublishOptions so;
  so.name = "LexiconCheckSample";
  so.description = "Published by the lexicon check";
  so.metadata = {{"license", "MIT"}, {"tags", json::array{"lexicon"}}, {"author", "atdata-cpp"}};
  const AtUri schema = alice.run(sp.publish<FeatureSample>(so));
  written.push_back(schema);

  DatasetPublisher dp(alice.client);
  DatasetPublishOptions ext;
  ext.name = "lexicon-external";
  ext.description = "External storage";
  ext.tags = {"lexicon", "external"};
  ext.license = "MIT";
  ext.metadata = json::object{{"split", "train"}, {"samples", 20}};
  ext.metadata_url = "https://example.com/lexicon/meta.msgpack";
  written.push_back(alice.run(dp.publish_with_urls(
      {"https://example.com/lexicon/features-{000000..000001}.tar", "s3://bucket/lexicon.tar"}, schema.str(),
      ext)));

  TempDir dir;
  auto shards = write_feature_shards(dir.path, 20, 10);
  DatasetPublishOptions files;
  files.name = "lexicon-blob-files";
  written.push_back(alice.run(dp.publish_with_blob_files(shards, schema.str(), files)));
  DatasetPublishOptions bytes;
  bytes.name = "lexicon-blob-bytes";
  bytes.metadata = json::object{{"k", "v"}};
  std::vector<SharedBytes> blobs{
      SharedBytes::copy_of(std::string_view("not really a tar, a blob all the same"))};
  written.push_back(alice.run(dp.publish_with_blobs(blobs, schema.str(), bytes)));

  // Dataset.publish with an auto-published schema, and the index's insert.
  Dataset<FeatureSample> ds("https://example.com/lexicon/auto-{000000..000001}.tar");
  DatasetPublishOptions po;
  po.name = "lexicon-auto-schema";
  po.tags = {"auto"};
  const AtUri auto_ds = alice.run(dp.publish(ds, po));
  written.push_back(auto_ds);
  written.push_back(AtUri::parse(alice.run(DatasetLoader(alice.client).get(auto_ds)).schema_ref));
  AtmosphereIndex index(alice.client);
  DatasetPublishOptions io;
  io.name = "lexicon-index";
  io.metadata = json::object{{"n", 1}};
  auto entry = alice.run(index.insert_dataset_urls({"file://localhost/data/lexicon-{0..1}.tar"}, io,
                                                   schema_of<FeatureSample>()));
  written.push_back(entry.uri());
  written.push_back(AtUri::parse(entry.schema_ref()));

  LensPublisher lp(alice.client);
  LensPublishOptions lo;
  lo.name = "lexicon-lens";
  lo.source_schema = schema.str();
  lo.target_schema = entry.schema_ref();
  lo.description = "Identity";
  lo.getter_code = CodeReference{"https://github.com/org/repo", "abc123def456", "m:get"};
  lo.putter_code = CodeReference{"https://github.com/org/repo", "abc123def456", "m:put"};
  written.push_back(alice.run(lp.publish(lo)));
  Lens<FeatureSample, std::int64_t> label_only{
      "label_only", [](const FeatureSample& s) { return s.label; }, {}, "examples/lenses.hpp:label_only", ""};
  LensFromCodeOptions fo;
  fo.source_schema = schema.str();
  fo.target_schema = entry.schema_ref();
  fo.repository = "https://github.com/org/repo";
  fo.commit = "0123456789abcdef0123456789abcdef01234567";
  written.push_back(alice.run(lp.publish_from_lens(label_only, fo)));

  BulkPublisher bulk(alice.client);
  std::vector<DatasetRecord> recs(3);
  const std::string salt = unique_collection("lexbulk");
  for (std::size_t i = 0; i < recs.size(); ++i) {
    recs[i].name = "lexicon-bulk-" + std::to_string(i);
    recs[i].schema_ref = schema.str();
    recs[i].storage =
        StorageLocation::external({"https://example.com/" + salt + "/" + std::to_string(i) + ".tar"});
    recs[i].tags = {"bulk"};
  }
  BulkResult br = alice.run(bulk.publish_datasets(recs));
  ASSERT_EQ(br.uris.size(), 3u);
  for (const auto& u : br.uris) written.push_back(u);

  ASSERT_EQ(written.size(), 13u);
  const std::string file = dump_records(alice, written, (dir.path / "written.jsonl").string());
  CheckerRun r = run_official_checker(file);
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(", 13 records, 0 invalid"), std::string::npos) << r.output;
}

TEST(LexiconPds, TheOptOutWritesWhatBothValidatorsRefuse) {
  // The control for the test above: a record written with validate = false
  // that the lexicon does not allow is caught by both validators, so their
  // agreement above is not vacuous.
  Account alice("alice");
  SchemaPublisher sp(alice.client);
  const AtUri schema = alice.run(sp.publish<FeatureSample>());
  DatasetPublisher dp(alice.client);
  DatasetPublishOptions opt;
  opt.name = "lexicon-opt-out";
  opt.validate = false;
  const AtUri local = alice.run(dp.publish_with_urls({"file:///data/features.tar"}, schema.str(), opt));
  atproto::Record back = alice.run(alice.client.get_record(local.authority, local.collection, local.rkey));
  auto p = check_record(local.collection, back.value.as_object());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->message, "Record/storage/urls/0 must be a uri");

  TempDir dir;
  std::ofstream(dir.path / "bad.jsonl")
      << json::serialize(json::object{{"nsid", local.collection}, {"record", back.value}}) << "\n";
  CheckerRun r = run_official_checker((dir.path / "bad.jsonl").string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("Record/storage/urls/0 must be a uri"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace atdata::test
