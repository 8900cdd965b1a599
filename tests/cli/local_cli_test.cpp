// `atdata local …` over an SQLite index file: insert (with a schema file in
// Python's local JSON form), ls/show/schemas in text and JSON, the exit
// status of a missing entry, and `atdata cat local:NAME` reading the shards
// the entry points at with its schema.

#include "local.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cat.hpp"
#include "common.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace atdata;

struct CliRun {
  int status;
  std::string out, err;
};

CliRun local(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int rc = cli::run_local(args, out, err);
  return {rc, out.str(), err.str()};
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

class LocalCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("local-cli-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    db_ = (dir_ / "index.sqlite").string();
    schema_file_ = (dir_ / "schema.json").string();
    // test_samples.tar's fields, in Python's local schema form.
    std::ofstream(schema_file_)
        << R"({"name": "TestSample", "version": "1.0.0", "fields": [)"
           R"({"name": "id", "fieldType": {"$type": "local#primitive", "primitive": "int"}, "optional": false}, )"
           R"({"name": "name", "fieldType": {"$type": "local#primitive", "primitive": "str"}, "optional": false}, )"
           R"({"name": "value", "fieldType": {"$type": "local#primitive", "primitive": "int"}, "optional": false}], )"
           R"("description": null})";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
  std::string db_, schema_file_;
};

TEST_F(LocalCli, InsertListShowSchemasAndCat) {
  const std::string url = std::string(ATDATA_TEST_DATA_DIR) + "/test_samples.tar";
  CliRun ins = local({"insert", url, "--name", "samples", "--schema", schema_file_, "--kind",
                      "tests.TestSample", "--metadata", R"({"split": "test"})", "--db", db_});
  ASSERT_EQ(ins.status, 0) << ins.err;
  const std::string cid = lines(ins.out).at(0);
  EXPECT_EQ(cid.rfind("bafyrei", 0), 0u) << cid;

  CliRun ls = local({"ls", "--db", db_});
  ASSERT_EQ(ls.status, 0) << ls.err;
  EXPECT_EQ(lines(ls.out),
            std::vector<std::string>{cid + "\tsamples\tlocal://schemas/tests.TestSample@1.0.0\t" + url});

  CliRun js = local({"ls", "--json", "--db", db_});
  json::value v = json::parse(lines(js.out).at(0));
  EXPECT_EQ(v.at("cid").as_string(), cid);
  EXPECT_EQ(v.at("metadata").at("split"), "test");

  CliRun show = local({"show", cid, "--json", "--db", db_});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_EQ(json::parse(show.out).at("name"), "samples");
  CliRun by_name = local({"show", "samples", "--json", "--db", db_});
  EXPECT_EQ(json::parse(by_name.out).at("cid").as_string(), cid);

  CliRun schemas = local({"schemas", "--db", db_});
  EXPECT_EQ(lines(schemas.out),
            std::vector<std::string>{"local://schemas/tests.TestSample@1.0.0\tTestSample\t1.0.0\t3 fields"});

  CliRun missing = local({"show", "nope", "--db", db_});
  EXPECT_EQ(missing.status, cli::kExitNotFound);
  EXPECT_NE(missing.err.find("No entry with name: nope"), std::string::npos) << missing.err;

  // cat resolves local:NAME through the index the environment names.
  ::setenv("ATDATA_LOCAL_INDEX", db_.c_str(), 1);
  ::unsetenv("ATDATA_REDIS_URL");
  std::ostringstream out, err;
  const int rc = cli::run_cat({"local:samples", "--limit", "2"}, out, err);
  ::unsetenv("ATDATA_LOCAL_INDEX");
  ASSERT_EQ(rc, 0) << err.str();
  EXPECT_EQ(lines(out.str()),
            (std::vector<std::string>{
                R"({"__key__": "sample_000000", "id": 0, "name": "test_sample_0", "value": 0})",
                R"({"__key__": "sample_000001", "id": 1, "name": "test_sample_1", "value": 10})",
            }));
}

TEST_F(LocalCli, UsageErrors) {
  EXPECT_EQ(local({}).status, cli::kExitUsage);
  EXPECT_EQ(local({"frobnicate", "--db", db_}).status, cli::kExitUsage);
  EXPECT_EQ(local({"insert", "--name", "x", "--db", db_}).status, cli::kExitUsage);           // no URL
  EXPECT_EQ(local({"insert", "a.tar", "--name", "x", "--db", db_}).status, cli::kExitUsage);  // no schema
  EXPECT_EQ(local({"ls", "--db", db_, "--redis", "redis://127.0.0.1"}).status, cli::kExitUsage);
}

}  // namespace
