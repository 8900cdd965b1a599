#include "load.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include <boost/json.hpp>

#include "atdata/dataset/write.hpp"
#include "atdata/io/tar_writer.hpp"

namespace {

using namespace atdata;
namespace fs = std::filesystem;

struct Row {
  std::int64_t id;
  std::string text;
};
BOOST_DESCRIBE_STRUCT(Row, (), (id, text))

struct Run {
  int status;
  std::string out, err;
};

Run load(std::vector<std::string> args) {
  std::ostringstream out, err;
  int rc = cli::run_load(args, out, err, cli::ProgressMode::off);
  return {rc, out.str(), err.str()};
}

// Five shards of 30 rows: ids 0…149.
std::string make_shards() {
  const fs::path dir = fs::temp_directory_path() / ("atdata_load_cli_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (int k = 0; k < 5; ++k) {
    TarWriter w((dir / ("part-" + std::to_string(k) + ".tar")).string());
    for (int i = 0; i < 30; ++i)
      write_sample(w, Row{k * 30 + i, std::string(50, 'x')}, "r" + std::to_string(k * 30 + i));
    w.close();
  }
  return (dir / "part-{0..4}.tar").string();
}

TEST(Load, SummaryLineCountsEverything) {
  const std::string url = make_shards();
  auto r = load({url, "--batch-size", "8", "--in-flight", "3", "--threads", "2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.rfind("loaded 150 samples in 19 batches from 5/5 shards, ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" 0 retries"), std::string::npos) << r.out;
}

TEST(Load, JsonSummaryAndLimit) {
  const std::string url = make_shards();
  auto r = load({url, "--batch-size", "10", "--limit", "35", "--json", "--shuffle", "--seed", "3"});
  ASSERT_EQ(r.status, 0) << r.err;
  boost::json::object o = boost::json::parse(r.out).as_object();
  EXPECT_EQ(o.at("samples").to_number<std::uint64_t>() % 10, 0u);  // whole batches: 40 of 150
  EXPECT_EQ(o.at("batches").to_number<std::uint64_t>(), 4u);
  EXPECT_EQ(o.at("shards_total").to_number<std::uint64_t>(), 5u);
  EXPECT_GT(o.at("bytes").to_number<std::uint64_t>(), 0u);
  EXPECT_EQ(o.at("retries").to_number<std::uint64_t>(), 0u);
}

TEST(Load, MissingShardIsAnErrorWithItsName) {
  auto r = load({"/nonexistent/atdata-load-{0..1}.tar"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("/nonexistent/atdata-load-0.tar"), std::string::npos) << r.err;
}

TEST(Load, SkipBadShardsGoesOn) {
  const std::string url = make_shards();
  const std::string with_missing = url.substr(0, url.size() - std::string("part-{0..4}.tar").size()) +
                                   "part-{0..5}.tar";  // part-5 does not exist
  auto r = load({with_missing, "--skip-bad-shards", "--json"});
  // A missing file is a permanent error: it is skipped like any failed shard.
  ASSERT_EQ(r.status, 0) << r.err;
  boost::json::object o = boost::json::parse(r.out).as_object();
  EXPECT_EQ(o.at("samples").to_number<std::uint64_t>(), 150u);
  EXPECT_EQ(o.at("shards_skipped").to_number<std::uint64_t>(), 1u);
}

TEST(Load, UsageErrors) {
  EXPECT_EQ(load({}).status, 2);
  EXPECT_EQ(load({"a.tar", "--in-flight", "0"}).status, 2);
  EXPECT_EQ(load({"a.tar", "--cache-max-gb", "1"}).status, 2);
}

}  // namespace
