// LocalIndex over a real redis-server, sharing the keyspace with Python
// atdata: a hash written the way Python writes it (the spec's worked example,
// byte for byte) is read exactly; what this index writes is byte-identical to
// what Python writes; its fixes of Python's quirks hold; many coroutines and
// two processes insert without losing anything.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "atdata/atmosphere/local_index.hpp"
#include "atdata/atmosphere/schema_mapping.hpp"
#include "atdata/core/sample_schema.hpp"
#include "atdata/error.hpp"
#include "atdata/net/redis.hpp"
#include "support/hex.hpp"
#include "support/net_run.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace atdata::atmosphere;
using atdata::net::RedisClient;
using atdata::net::RedisConfig;
using atdata::net::RedisRequest;
using atdata::net::RespValue;
using atdata::test::from_hex;
using atdata::test::run_io;

constexpr const char* kRef = "local://schemas/test_module.TestSample@1.0.0";
constexpr const char* kCid = "bafyreihq4r3uv4x7msyzynaysmcqglilpfpom5snnr3ej4ln6pwm6udigm";

std::string redis_url() {
  if (const char* e = std::getenv("ATDATA_REDIS_URL"); e && *e) return e;
  std::ifstream in(
      (std::filesystem::path(ATDATA_STORAGE_RUN_DIR).parent_path() / "redis-run" / "url").string());
  std::string url;
  std::getline(in, url);
  return url;
}

// Each test works in a database of its own, so that its listings see only
// its keys while ctest runs the cases in parallel processes. Databases 0 and
// 31 belong to the Redis client's tests, 9 to the doc snippet.
int database_of(const std::string& test) {
  static const char* const kTests[] = {
      "ReadsWhatPythonWrote", "WritesWhatPythonWrites", "QuirksFixedAndBadEntriesSkippedNotFatal",
      "ConcurrentCoroutinesAndBulkInsertsLoseNothing", "TwoProcessesInsertIntoOneIndex"};
  for (int i = 0; i < static_cast<int>(std::size(kTests)); ++i) {
    if (test == kTests[i]) return i + 1;
  }
  throw std::logic_error("give " + test + " a database in database_of()");
}

class LocalIndexRedis : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = redis_url();
    if (base_.empty()) GTEST_SKIP() << "no redis-server (run through ctest: the redis fixture starts one)";
    db_ = database_of(::testing::UnitTest::GetInstance()->current_test_info()->name());
    url_ = base_ + "/" + std::to_string(db_);
    raw_ = std::make_unique<RedisClient>(ioc_.get_executor(), RedisConfig::from_url(url_));
    run_io(ioc_, raw_->command("FLUSHDB"));
  }

  LocalIndexConfig config() const { return LocalIndexConfig().with_redis_url(url_); }

  std::map<std::string, std::string> hgetall(const std::string& key) {
    RespValue v = run_io(ioc_, raw_->command("HGETALL", key));
    std::map<std::string, std::string> m;
    for (std::size_t i = 0; i + 1 < v.array().size(); i += 2) {
      m[std::string(v.array()[i].str())] = std::string(v.array()[i + 1].str());
    }
    return m;
  }

  asio::io_context ioc_;
  std::string base_, url_;
  int db_ = 0;
  std::unique_ptr<RedisClient> raw_;
};

std::string bytes(std::string_view hex) {
  auto b = from_hex(hex);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

const std::string kUrlsMsgpack = "91b773333a2f2f6275636b65742f646174617365742e746172";
const std::string kMetaMsgpack = "81a776657273696f6ea3312e30";
const std::string kPythonSchema =
    R"({"name": "Sample", "version": "1.0.0", "fields": [{"name": "name", "fieldType": {"$type": )"
    R"("local#primitive", "primitive": "str"}, "optional": false}, {"name": "value", "fieldType": )"
    R"({"$type": "local#primitive", "primitive": "int"}, "optional": false}], "description": null, )"
    R"("createdAt": "2026-01-17T23:41:50.123456+00:00"})";

TEST_F(LocalIndexRedis, ReadsWhatPythonWrote) {
  RedisRequest req;
  req.push("HSET", std::string("LocalDatasetEntry:") + kCid, "name", "test-dataset", "schema_ref", kRef,
           "data_urls", bytes(kUrlsMsgpack), "cid", kCid, "metadata", bytes(kMetaMsgpack));
  req.push("SET", "LocalSchema:m.Sample@1.0.0", kPythonSchema);
  // Keys Python's listing ignores, and which must not disturb ours.
  req.push("SET", "LocalDatasetEntryArchive:x", "1");
  req.push("SET", "other_key", "1");
  run_io(ioc_, raw_->exec(req));

  LocalIndex index(ioc_.get_executor(), config());
  EXPECT_EQ(index.backend(), "redis");
  LocalDatasetEntry e = run_io(ioc_, index.get_entry(kCid));
  EXPECT_EQ(e.name(), "test-dataset");
  EXPECT_EQ(e.schema_ref(), kRef);
  EXPECT_EQ(e.data_urls(), std::vector<std::string>{"s3://bucket/dataset.tar"});
  json::object meta;
  meta["version"] = "1.0";
  ASSERT_TRUE(e.metadata());
  EXPECT_EQ(*e.metadata(), meta);
  auto all = run_io(ioc_, index.entries());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].cid(), kCid);

  Index& i = index;
  SchemaRecord s = run_io(ioc_, i.get_schema("local://schemas/m.Sample@1.0.0"));
  EXPECT_EQ(s.name, "Sample");
  ASSERT_EQ(s.fields.size(), 2u);
  EXPECT_EQ(s.fields[1].field_type.primitive, Primitive::int_);
  auto decoded = run_io(ioc_, i.decode_schema("local://schemas/m.Sample@1.0.0"));
  EXPECT_EQ(decoded->name(), "Sample");
  auto schemas = run_io(ioc_, i.list_schemas());
  ASSERT_EQ(schemas.size(), 1u);
  EXPECT_EQ(schemas[0].ref(), "local://schemas/m.Sample@1.0.0");
}

TEST_F(LocalIndexRedis, WritesWhatPythonWrites) {
  LocalIndex index(ioc_.get_executor(), config());
  json::object meta;
  meta["version"] = "1.0";
  run_io(ioc_, index.add_entry(LocalDatasetEntry("test-dataset", kRef, {"s3://bucket/dataset.tar"}, meta)));
  auto h = hgetall(std::string("LocalDatasetEntry:") + kCid);
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h["name"], "test-dataset");
  EXPECT_EQ(h["schema_ref"], kRef);
  EXPECT_EQ(h["data_urls"], bytes(kUrlsMsgpack));
  EXPECT_EQ(h["cid"], kCid);
  EXPECT_EQ(h["metadata"], bytes(kMetaMsgpack));
  RespValue type = run_io(ioc_, raw_->command("TYPE", std::string("LocalDatasetEntry:") + kCid));
  EXPECT_EQ(type.str(), "hash");

  SchemaRecord r;
  r.name = "Sample";
  r.fields.push_back(SchemaFieldDef{"name", SchemaFieldType::of(Primitive::str), false, {}});
  r.fields.push_back(SchemaFieldDef{"value", SchemaFieldType::of(Primitive::int_), false, {}});
  atdata::SampleSchema schema = to_sample_schema(r);
  SchemaPublishOptions o;
  o.name = "m.Sample";
  Index& i = index;
  const std::string ref = run_io(ioc_, i.publish_schema(schema, std::move(o)));
  EXPECT_EQ(ref, "local://schemas/m.Sample@1.0.0");
  RespValue stored = run_io(ioc_, raw_->command("GET", "LocalSchema:m.Sample@1.0.0"));
  // Byte-identical but for the creation time.
  const std::string text(stored.str());
  const std::size_t at = text.find("\"createdAt\": \"");
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(text.substr(0, at), kPythonSchema.substr(0, kPythonSchema.find("\"createdAt\": \"")));
}

TEST_F(LocalIndexRedis, QuirksFixedAndBadEntriesSkippedNotFatal) {
  LocalIndex index(ioc_.get_executor(), config().with_redis_url(url_));
  json::object meta;
  meta["stale"] = true;
  run_io(ioc_, index.add_entry(LocalDatasetEntry("v1", kRef, {"a.tar"}, meta)));
  run_io(ioc_, index.add_entry(LocalDatasetEntry("v2", kRef, {"a.tar"})));
  const std::string cid = local_entry_cid(kRef, std::vector<std::string>{"a.tar"});
  auto h = hgetall("LocalDatasetEntry:" + cid);
  EXPECT_EQ(h.count("metadata"), 0u) << "a re-add must not keep the old metadata (Python does)";
  EXPECT_EQ(h["name"], "v2");

  // A hash with a corrupt field, and a string under the entry prefix.
  RedisRequest req;
  req.push("HSET", "LocalDatasetEntry:bafybad", "name", "bad", "schema_ref", kRef, "data_urls", "\xff\xff");
  req.push("SET", "LocalDatasetEntry:bafystring", "not a hash");
  req.push("SET", "LocalSchema:broken@1.0.0", "{not json");
  run_io(ioc_, raw_->exec(req));
  std::vector<std::string> problems;
  LocalIndexConfig c = config();
  c.on_problem = [&](const std::string& key, const std::string& p) { problems.push_back(key + " " + p); };
  LocalIndex listing(ioc_.get_executor(), std::move(c));
  auto all = run_io(ioc_, listing.entries());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name(), "v2");
  Index& i = listing;
  EXPECT_TRUE(run_io(ioc_, i.list_schemas()).empty());
  EXPECT_EQ(listing.skipped(), 3u);
  ASSERT_EQ(problems.size(), 3u);
  std::sort(problems.begin(), problems.end());
  EXPECT_NE(problems[0].find("LocalDatasetEntry:bafybad skipped: field 'data_urls'"), std::string::npos)
      << problems[0];
  EXPECT_NE(problems[1].find("WRONGTYPE"), std::string::npos) << problems[1];
}

// A coroutine function, not a lambda: its parameters live in the frame (a
// spawned lambda's captures would die with the lambda object).
asio::awaitable<void> insert_many(LocalIndex& index, int w, int n, int& done) {
  for (int i = 0; i < n; ++i) {
    const std::string u = "w" + std::to_string(w) + "-" + std::to_string(i) + ".tar";
    LocalDatasetEntry e("entry-" + u, kRef, std::vector<std::string>{u});
    co_await index.add_entry(std::move(e));
  }
  ++done;
}

TEST_F(LocalIndexRedis, ConcurrentCoroutinesAndBulkInsertsLoseNothing) {
  LocalIndex index(ioc_.get_executor(), config());
  constexpr int kWorkers = 8, kEach = 250;
  int done = 0;
  for (int w = 0; w < kWorkers; ++w) {
    asio::co_spawn(ioc_, insert_many(index, w, kEach, done), asio::detached);
  }
  // Not ioc_.run(): the client's connection keeps the context busy for as
  // long as it is open.
  ioc_.restart();  // run_io (SetUp) leaves the context stopped
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (done < kWorkers && std::chrono::steady_clock::now() < deadline)
    ioc_.run_one_for(std::chrono::seconds(1));
  ASSERT_EQ(done, kWorkers);
  std::vector<LocalDatasetEntry> bulk;
  for (int i = 0; i < 5000; ++i) {
    const std::string u = "bulk-" + std::to_string(i) + ".tar";
    bulk.emplace_back("bulk-" + std::to_string(i), kRef, std::vector<std::string>{u});
  }
  run_io(ioc_, index.add_entries(std::move(bulk)));
  auto all = run_io(ioc_, index.entries());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kWorkers * kEach + 5000));
  std::set<std::string> cids;
  for (const auto& e : all) cids.insert(e.cid());
  EXPECT_EQ(cids.size(), all.size());
}

TEST_F(LocalIndexRedis, TwoProcessesInsertIntoOneIndex) {
  std::vector<pid_t> kids;
  for (int id = 0; id < 2; ++id) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        asio::io_context ioc;
        LocalIndex index(ioc.get_executor(), config());
        for (int i = 0; i < 400; ++i) {
          const std::string u = "p" + std::to_string(id) + "-" + std::to_string(i) + ".tar";
          run_io(ioc, index.add_entry(LocalDatasetEntry("e-" + u, kRef, std::vector<std::string>{u})));
        }
      } catch (...) {
        rc = 1;
      }
      ::_exit(rc);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    ::waitpid(k, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  LocalIndex index(ioc_.get_executor(), config());
  EXPECT_EQ(run_io(ioc_, index.entries()).size(), 800u);
}

}  // namespace
