// The repository MST of a real PDS: com.atproto.sync.getRepo's CAR, walked
// from the commit's `data`, must list exactly what listRecords returns (paths,
// CIDs, record values), rebuild to the same root, and prove every path.

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/mst.hpp"
#include "atdata/atproto/xrpc_client.hpp"
#include "atdata/error.hpp"
#include "atdata/net/http_client.hpp"
#include "pds/pds_env.hpp"
#include "support/net_run.hpp"

namespace atdata::atproto {
namespace {

using test::PdsEnv;
using test::run_io;
namespace asio = boost::asio;

struct Listed {
  std::string cid;
  boost::json::value value;
};

// One getRepo export, parsed: the bytes own everything the views point to.
struct RepoExport {
  SharedBytes car;
  BlockMap blocks;
  std::vector<std::byte> data;  // MST root
};

std::unique_ptr<RepoExport> get_repo(asio::io_context& io, XrpcClient& x, const std::string& did) {
  auto out = std::make_unique<RepoExport>();
  QueryParams params;
  params.emplace_back("did", did);
  auto stream = run_io(io, x.query_stream("com.atproto.sync.getRepo", params));
  out->car = run_io(io, stream.read_all(64ull * 1024 * 1024));
  CarReader reader(out->car.span());
  const auto root = reader.roots().at(0);
  out->blocks = BlockMap::from_car(reader);
  const auto commit = out->blocks.find(root);
  if (!commit) throw std::runtime_error("getRepo: no commit block");
  const auto data = dag_cbor_decode(*commit).find("data")->as_link();
  out->data.assign(data.begin(), data.end());
  return out;
}

std::map<std::string, Listed> list_everything(asio::io_context& io, AtmosphereClient& c,
                                              const std::string& did) {
  QueryParams params;
  params.emplace_back("repo", did);
  const auto desc = run_io(io, c.query("com.atproto.repo.describeRepo", params));
  std::map<std::string, Listed> out;
  for (const auto& coll : desc.at("collections").as_array()) {
    const std::string collection(coll.as_string());
    std::string cursor;
    for (;;) {
      ListRecordsOptions o;
      o.repo = did;
      o.limit = 100;
      o.cursor = cursor;
      auto page = run_io(io, c.list_records(collection, o));
      for (auto& r : page.records) {
        const std::string prefix = "at://" + did + "/";
        EXPECT_EQ(r.uri.rfind(prefix, 0), 0u) << r.uri;
        out[r.uri.substr(prefix.size())] = Listed{r.cid, std::move(r.value)};
      }
      if (page.records.empty() || !page.cursor) break;
      cursor = *page.cursor;
    }
  }
  return out;
}

TEST(PdsRepo, GetRepoTreeMatchesListRecords) {
  asio::io_context io;
  AtmosphereClient c(io.get_executor(), PdsEnv::get().client_options());
  const auto& acct = PdsEnv::get().accounts.at("bob");
  run_io(io, c.login(acct.handle, acct.password));
  const std::string did = c.did();

  const auto coll_a = test::unique_collection("mstA");
  const auto coll_b = test::unique_collection("mstB");
  std::map<std::string, std::string> created;  // path -> cid
  for (int i = 0; i < 4; ++i) {
    boost::json::object rec;
    rec["$type"] = coll_a;
    rec["n"] = i;
    rec["text"] = "record " + std::to_string(i);
    const auto ref = run_io(io, c.create_record(coll_a, rec));
    created[coll_a + "/" + ref.uri.substr(ref.uri.rfind('/') + 1)] = ref.cid;
  }
  for (const char* rkey : {"self", "other"}) {
    boost::json::object rec;
    rec["$type"] = coll_b;
    rec["name"] = rkey;
    CreateRecordOptions o;
    o.rkey = rkey;
    const auto ref = run_io(io, c.create_record(coll_b, rec, o));
    created[coll_b + "/" + rkey] = ref.cid;
  }
  run_io(io, c.delete_record(coll_b, "other"));
  created.erase(coll_b + "/other");

  XrpcClient x(std::make_shared<net::HttpClient>(io.get_executor()), PdsEnv::get().pds_url);
  // Other suites may write to the same repo meanwhile: compare only when the
  // tree did not change between the two exports around the listing.
  for (int attempt = 0;; ++attempt) {
    ASSERT_LT(attempt, 5) << "the repo kept changing";
    const auto before = get_repo(io, x, did);
    const auto listed = list_everything(io, c, did);
    const auto after = get_repo(io, x, did);
    if (before->data != after->data) continue;
    const RepoExport& repo = *after;

    std::vector<std::string> keys;
    std::vector<std::vector<std::byte>> values;
    mst_walk(repo.blocks, repo.data, [&](std::string_view k, std::span<const std::byte> v) {
      keys.emplace_back(k);
      values.emplace_back(v.begin(), v.end());
    });
    ASSERT_EQ(keys.size(), listed.size());
    ASSERT_GE(keys.size(), created.size());
    std::size_t i = 0;
    for (const auto& [path, rec] : listed) {
      ASSERT_EQ(keys[i], path);
      EXPECT_EQ(format_binary_cid(values[i]), rec.cid) << path;
      const auto block = repo.blocks.find(values[i]);
      ASSERT_TRUE(block) << path;
      EXPECT_EQ(dag_cbor_to_json(dag_cbor_decode(*block)), rec.value) << path;
      EXPECT_NO_THROW(mst_prove(repo.blocks, repo.data, path, std::span<const std::byte>(values[i]))) << path;
      ++i;
    }
    for (const auto& [path, cid] : created) {
      ASSERT_TRUE(listed.count(path)) << path;
      EXPECT_EQ(listed.at(path).cid, cid) << path;
    }

    std::vector<MstEntryView> entries;
    for (std::size_t j = 0; j < keys.size(); ++j) entries.push_back({keys[j], values[j]});
    EXPECT_EQ(format_binary_cid(mst_root_of(entries)), format_binary_cid(repo.data));

    EXPECT_NO_THROW(mst_prove(repo.blocks, repo.data, coll_b + "/other", std::nullopt));
    EXPECT_NO_THROW(mst_prove(repo.blocks, repo.data, coll_a + "/doesnotexist", std::nullopt));
    try {
      mst_prove(repo.blocks, repo.data, coll_b + "/other", std::span<const std::byte>(values[0]));
      FAIL() << "a deleted record proved present";
    } catch (const VerifyError& e) {
      EXPECT_EQ(e.check(), VerifyError::Check::mst_proof);
      EXPECT_EQ(e.subject(), coll_b + "/other");
    }
    break;
  }
}

}  // namespace
}  // namespace atdata::atproto
