// The ATProto commands of the `atdata` CLI against the real PDS: bulk
// publishing with progress and resume, dataset records with external URLs and
// with blobs, listing, and the one-line errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "atdata/atmosphere/dataset_loader.hpp"
#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/index.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "cat.hpp"
#include "common.hpp"
#include "pds/atmosphere_fixture.hpp"
#include "publish.hpp"
#include "records.hpp"

namespace atdata::test {
namespace {

using namespace atdata::atmosphere;
using cli::ProgressMode;

struct Cli {
  std::ostringstream out, err;
  int status = -1;
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    std::istringstream in(out.str());
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }
};

// The CLI logs in from the environment, as a user's shell would set it.
void login_env(const std::string& who) {
  const auto& env = PdsEnv::get();
  const auto& a = env.accounts.at(who);
  ::setenv("ATDATA_PDS_URL", env.pds_url.c_str(), 1);
  ::setenv("ATDATA_PLC_URL", env.plc_url.c_str(), 1);
  ::setenv("ATDATA_HANDLE", a.handle.c_str(), 1);
  ::setenv("ATDATA_PASSWORD", a.password.c_str(), 1);
  ::unsetenv("ATDATA_SESSION");
  // No session file of the user running the tests is ever read.
  ::setenv("ATDATA_CONFIG_DIR", "/nonexistent/atdata-cli-publish-test", 1);
}

TEST(CliPds, PublishRecordsShowsProgressAndResumesWithoutDuplicates) {
  login_env("alice");
  TempDir dir;
  const std::string coll = unique_collection("clibulk");
  const std::string file = (dir.path / "records.jsonl").string();
  {
    std::ofstream f(file);
    for (int i = 0; i < 450; ++i)
      f << R"({"$type":")" << coll << R"(","i":)" << i << "}\n" << (i % 100 ? "" : "\n");
  }
  Cli first;
  first.status =
      cli::run_publish_records({coll, file, "--max-ops", "100"}, first.out, first.err, ProgressMode::lines);
  ASSERT_EQ(first.status, 0) << first.err.str();
  const auto uris = first.lines();
  ASSERT_EQ(uris.size(), 450u);
  EXPECT_NE(first.err.str().find("450/450 records 100%"), std::string::npos) << first.err.str();
  EXPECT_NE(first.err.str().find("450 written, 0 already present, 5 applyWrites calls"), std::string::npos)
      << first.err.str();
  // The URIs come back in input order: record i at line i.
  Account alice("alice");
  auto rec = alice.run(
      alice.client.get_record(AtUri::parse(uris[123]).authority, coll, AtUri::parse(uris[123]).rkey));
  EXPECT_EQ(rec.value.at("i").as_int64(), 123);

  Cli again;
  again.status =
      cli::run_publish_records({coll, file, "--no-progress"}, again.out, again.err, ProgressMode::lines);
  ASSERT_EQ(again.status, 0) << again.err.str();
  EXPECT_EQ(again.lines(), uris);
  EXPECT_EQ(again.err.str().find("records 100%"), std::string::npos);  // --no-progress
  EXPECT_NE(again.err.str().find("0 written, 450 already present"), std::string::npos) << again.err.str();
  atproto::ListRecordsOptions lo;
  lo.limit = 100;
  std::size_t n = 0;
  std::string cursor;
  do {
    lo.cursor = cursor;
    auto page = alice.run(alice.client.list_records(coll, lo));
    n += page.records.size();
    cursor = page.records.empty() ? "" : page.cursor.value_or("");
  } while (!cursor.empty());
  EXPECT_EQ(n, 450u);
}

TEST(CliPds, PublishDatasetWithUrlsAndWithBlobsThenList) {
  login_env("alice");
  Account alice("alice");
  SchemaPublisher sp(alice.client);
  const std::string schema =
      alice.run(sp.publish<FeatureSample>(SchemaPublishOptions().with_name("CliSample"))).str();
  TempDir dir;
  write_feature_shards(dir.path, 30, 10);
  const std::string pattern = (dir.path / "features-{000000..000002}.tar").string();

  Cli ext;
  ext.status = cli::run_publish({"https://example.com/cli-{000000..000002}.tar", "--name", "cli-external",
                                 "--schema-uri", schema, "--tag", "a", "--tag", "b", "--license", "MIT"},
                                ext.out, ext.err, ProgressMode::lines);
  ASSERT_EQ(ext.status, 0) << ext.err.str();
  ASSERT_EQ(ext.lines().size(), 1u);
  DatasetLoader loader(alice.client);
  auto ext_rec = alice.run(loader.get(AtUri::parse(ext.lines()[0])));
  EXPECT_EQ(ext_rec.name, "cli-external");
  EXPECT_EQ(ext_rec.storage.urls, (std::vector<std::string>{"https://example.com/cli-{000000..000002}.tar"}));
  EXPECT_EQ(ext_rec.tags, (std::vector<std::string>{"a", "b"}));

  Cli blobs;
  blobs.status = cli::run_publish({pattern, "--name", "cli-blobs", "--schema-uri", schema, "--blobs"},
                                  blobs.out, blobs.err, ProgressMode::lines);
  ASSERT_EQ(blobs.status, 0) << blobs.err.str();
  EXPECT_NE(blobs.err.str().find("3/3 shards 100%"), std::string::npos) << blobs.err.str();
  const AtUri blob_uri = AtUri::parse(blobs.lines().at(0));
  EXPECT_EQ(alice.run(loader.get_storage_type(blob_uri)), "blobs");
  // The uploaded shards read back as the same samples.
  auto ds = alice.run(to_dataset<FeatureSample>(alice.client, blob_uri));
  std::size_t n = 0;
  auto it = ds.ordered(7);
  while (auto b = it.next_blocking()) {
    for (std::size_t k = 0; k < b->size(); ++k, ++n)
      EXPECT_EQ(b->column<&FeatureSample::label>()[k], static_cast<std::int64_t>(n % 10));
  }
  EXPECT_EQ(n, 30u);

  // `atdata cat` reads a dataset by its AT-URI: shards from the blobs, fields
  // typed by the record's schema.
  Cli cat;
  cat.status = cli::run_cat({blob_uri.str(), "--limit", "3"}, cat.out, cat.err);
  ASSERT_EQ(cat.status, 0) << cat.err.str();
  ASSERT_EQ(cat.lines().size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(cat.lines()[i].find("\"label\": " + std::to_string(i) + ", \"source\": \"synthetic-" +
                                  std::to_string(i) + "\""),
              std::string::npos)
        << cat.lines()[i];
  }
  EXPECT_NE(cat.lines()[1].find("\"features\": {\"dtype\": \"<f4\", \"shape\": [8], \"data\": [1.0, 1.125,"),
            std::string::npos)
      << cat.lines()[1];

  Cli ls;
  ls.status = cli::run_ls({}, ls.out, ls.err);
  ASSERT_EQ(ls.status, 0) << ls.err.str();
  EXPECT_NE(ls.out.str().find(ext.lines()[0] + "\tcli-external\t" + schema + "\thttps://example.com/cli-"),
            std::string::npos);
  EXPECT_NE(ls.out.str().find(blobs.lines()[0] + "\tcli-blobs\t" + schema + "\t3 blobs"), std::string::npos);

  // Another account's repo needs no login of its own.
  ::unsetenv("ATDATA_HANDLE");
  ::unsetenv("ATDATA_PASSWORD");
  Cli schemas;
  schemas.status =
      cli::run_ls({PdsEnv::get().accounts.at("alice").did, "--schemas"}, schemas.out, schemas.err);
  ASSERT_EQ(schemas.status, 0) << schemas.err.str();
  EXPECT_NE(schemas.out.str().find(schema + "\tCliSample\t1.0.0"), std::string::npos);
}

TEST(CliPds, ErrorsAreOneLineWithStatus) {
  login_env("alice");
  TempDir dir;
  const std::string bad = (dir.path / "bad.jsonl").string();
  std::ofstream(bad) << "{\"a\":1}\n\n[1,2]\n";

  Cli usage;
  usage.status = cli::run_publish({"x.tar", "--schema-uri", "at://did:plc:x/c/r"}, usage.out, usage.err,
                                  ProgressMode::off);
  EXPECT_EQ(usage.status, 2);
  EXPECT_EQ(usage.err.str().rfind("atdata: error: --name is required\nusage: atdata dataset publish", 0), 0u)
      << usage.err.str();

  Cli json;
  json.status = cli::run_publish_records({"test.atdata.x", bad}, json.out, json.err, ProgressMode::off);
  EXPECT_EQ(json.status, 1);
  EXPECT_EQ(json.err.str(), "atdata: error: " + bad + ":3: a record must be a JSON object\n");

  Cli missing;
  missing.status = cli::run_publish({(dir.path / "nope-{0..2}.tar").string(), "--name", "n", "--schema-uri",
                                     "at://did:plc:x/c/r", "--blobs"},
                                    missing.out, missing.err, ProgressMode::off);
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.err.str(), "atdata: error: shard file '" + (dir.path / "nope-0.tar").string() +
                                   "' does not exist or is not a regular file\n");

  ::setenv("ATDATA_PASSWORD", "wrong-password", 1);
  Cli auth;
  auth.status = cli::run_publish({"x.tar", "--name", "n", "--schema-uri", "at://did:plc:x/c/r"}, auth.out,
                                 auth.err, ProgressMode::off);
  EXPECT_EQ(auth.status, cli::kExitAuth);
  EXPECT_NE(auth.err.str().find("AuthenticationRequired"), std::string::npos) << auth.err.str();
  EXPECT_EQ(auth.err.str().find("wrong-password"), std::string::npos);  // secrets never printed
  const std::string auth_err = auth.err.str();
  EXPECT_EQ(std::count(auth_err.begin(), auth_err.end(), '\n'), 1);
}

}  // namespace
}  // namespace atdata::test
