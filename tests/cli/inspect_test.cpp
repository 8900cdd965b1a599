#include "inspect.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common.hpp"

namespace {

using namespace atdata;
namespace fs = std::filesystem;

struct CliRun {
  int status;
  std::string out, err;
  std::vector<boost::json::object> lines() const {
    std::vector<boost::json::object> v;
    std::istringstream s(out);
    std::string line;
    while (std::getline(s, line)) v.push_back(boost::json::parse(line).as_object());
    return v;
  }
};

CliRun frame(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int rc = cli::run_frame(args, out, err);
  return {rc, out.str(), err.str()};
}
CliRun repo(std::vector<std::string> args) {
  std::ostringstream out, err;
  const int rc = cli::run_repo(args, out, err);
  return {rc, out.str(), err.str()};
}

const fs::path kData = fs::path(ATDATA_TEST_DATA_DIR);
std::string firehose(const std::string& name) {
  return (kData / "firehose" / name).string();
}

std::vector<std::string> all_frames() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kData / "firehose"))
    if (e.path().extension() == ".bin") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CliFrame, EveryCapturedFrameDecodesAndVerifies) {
  auto args = all_frames();
  args.push_back("--did-doc");
  args.push_back(firehose("dids.json"));
  const CliRun r = frame(args);
  EXPECT_EQ(r.status, cli::kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), all_frames().size());
  int signed_ok = 0;
  for (const auto& l : lines) {
    SCOPED_TRACE(boost::json::serialize(l).substr(0, 200));
    EXPECT_TRUE(l.at("verify").at("ok").as_bool());
    const auto& t = l.at("header").as_object();
    if (t.contains("t") && (t.at("t") == "#commit" || t.at("t") == "#sync")) {
      EXPECT_EQ(l.at("verify").at("signature"), "ok");
      // Blocks are printed as records keyed by CID.
      const auto& blocks = l.at("body").at("blocks").as_object();
      EXPECT_GE(blocks.size(), 1u);
      EXPECT_EQ(blocks.begin()->key().substr(0, 4), "bafy");
      ++signed_ok;
    }
  }
  EXPECT_EQ(signed_ok, 19);
}

TEST(CliFrame, RecordsAreThePdsRecords) {
  const CliRun r = frame({firehose("frame-005.bin"), "--no-verify"});
  ASSERT_EQ(r.status, cli::kExitOk) << r.err;
  const auto lines = r.lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_FALSE(lines[0].contains("verify"));
  const auto& body = lines[0].at("body").as_object();
  const std::string cid(body.at("ops").at(0).at("cid").at("$link").as_string());
  const auto& record = body.at("blocks").at(cid).as_object();
  EXPECT_EQ(record.at("$type"), "ac.foundation.dataset.record");
  EXPECT_EQ(body.at("ops").at(0).at("path"), "ac.foundation.dataset.record/mydataset1");
}

TEST(CliFrame, WithoutKeysSignaturesAreNotChecked) {
  const CliRun r = frame({firehose("frame-004.bin")});
  EXPECT_EQ(r.status, cli::kExitOk) << r.err;
  EXPECT_EQ(r.lines().at(0).at("verify").at("signature"), "not checked (no --did-doc)");
}

TEST(CliFrame, FailedChecksAndBadInputExitNonZeroWithOneLine) {
  const fs::path dir = fs::temp_directory_path() / ("atdata_frame_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ifstream in(firehose("frame-004.bin"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  // The last byte is inside prevData, the body's last field in canonical
  // order: undoing the ops no longer gives that tree.
  std::string bad = bytes;
  bad.back() = static_cast<char>(bad.back() ^ 1);
  std::ofstream(dir / "bad.bin", std::ios::binary) << bad;
  std::ofstream(dir / "cut.bin", std::ios::binary) << bytes.substr(0, 100);

  CliRun r = frame({(dir / "bad.bin").string(), "--did-doc", firehose("dids.json")});
  EXPECT_EQ(r.status, cli::kExitError);
  ASSERT_EQ(r.lines().size(), 1u);
  EXPECT_FALSE(r.lines()[0].at("verify").at("ok").as_bool());
  EXPECT_EQ(r.lines()[0].at("verify").at("check"), "mst_proof");
  EXPECT_EQ(r.lines()[0].at("verify").at("subject"), "prevData");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  r = frame({(dir / "cut.bin").string()});
  EXPECT_EQ(r.status, cli::kExitError);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("at byte"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;

  // The other account's document only: no key for this repo.
  r = frame({firehose("frame-020.bin"), "--did-doc", (kData / "repo" / "alice-did.json").string()});
  EXPECT_EQ(r.status, cli::kExitError);
  EXPECT_EQ(r.lines().at(0).at("verify").at("check"), "key");

  r = frame({});
  EXPECT_EQ(r.status, cli::kExitUsage);
  r = frame({"--help"});
  EXPECT_EQ(r.status, cli::kExitOk);
  EXPECT_NE(r.out.find("usage: atdata frame"), std::string::npos);
  fs::remove_all(dir);
}

TEST(CliRepo, WalksToExactlyWhatListRecordsReturned) {
  const CliRun r = repo(
      {(kData / "repo" / "alice.car").string(), "--did-doc", (kData / "repo" / "alice-did.json").string()});
  ASSERT_EQ(r.status, cli::kExitOk) << r.err;
  auto lines = r.lines();
  ASSERT_GE(lines.size(), 2u);
  const auto last = lines.back();
  lines.pop_back();
  EXPECT_TRUE(last.at("verify").at("ok").as_bool());
  EXPECT_EQ(last.at("verify").at("signature"), "ok");
  EXPECT_EQ(last.at("verify").at("records").to_number<std::size_t>(), lines.size());

  std::map<std::string, boost::json::object> listed;  // "collection/rkey" -> {cid, value}
  std::ifstream f(kData / "repo" / "alice-listRecords.jsonl");
  std::string line;
  while (std::getline(f, line)) {
    const auto page = boost::json::parse(line);
    for (const auto& rec : page.at("records").as_array()) {
      const std::string uri(rec.at("uri").as_string());
      const auto path = uri.substr(uri.find('/', 5) + 1);
      listed[path] = rec.as_object();
    }
  }
  ASSERT_EQ(listed.size(), lines.size());
  for (const auto& l : lines) {
    const std::string path =
        std::string(l.at("collection").as_string()) + "/" + std::string(l.at("rkey").as_string());
    SCOPED_TRACE(path);
    ASSERT_TRUE(listed.count(path));
    EXPECT_EQ(l.at("cid"), listed[path].at("cid"));
    EXPECT_EQ(l.at("value"), listed[path].at("value"));
  }
}

TEST(CliRepo, WrongKeyOrDamagedExportFails) {
  CliRun r = repo({(kData / "repo" / "alice.car").string(), "--did-doc", firehose("dids.json")});
  EXPECT_EQ(r.status, cli::kExitError);
  EXPECT_EQ(r.lines().back().at("verify").at("check"), "key");

  const fs::path dir = fs::temp_directory_path() / ("atdata_repo_cli_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ifstream in(kData / "repo" / "alice.car", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::string bad = bytes;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x10);
  std::ofstream(dir / "bad.car", std::ios::binary) << bad;
  r = repo({(dir / "bad.car").string()});
  EXPECT_EQ(r.status, cli::kExitError);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  r = repo({"--help"});
  EXPECT_EQ(r.status, cli::kExitOk);
  fs::remove_all(dir);
}

}  // namespace
