#include "atdata/atmosphere/backfill.hpp"

#include <boost/json.hpp>

#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/commit.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/mst.hpp"
#include "atdata/atproto/signing_key.hpp"
#include "atdata/atproto/xrpc_client.hpp"
#include "atdata/error.hpp"

namespace atdata::atmosphere {

namespace asio = boost::asio;
namespace json = boost::json;
using atproto::RecordChange;

bool is_dataset_collection(std::string_view c) noexcept {
  return c.starts_with("ac.foundation.dataset.") || c.starts_with("science.alt.dataset.");
}

namespace {

asio::awaitable<std::vector<RecordChange>> by_list_records(atproto::AtmosphereClient& client,
                                                           std::string did) {
  atproto::QueryParams params;
  params.emplace_back("repo", did);
  // On the repository's own PDS (the client's may be another one).
  const std::string pds = co_await client.resolve_pds(did);
  atproto::XrpcClient x(client.http(), pds);
  const json::value desc = co_await x.query("com.atproto.repo.describeRepo", params);
  std::vector<std::string> collections;
  if (const auto* o = desc.if_object()) {
    if (const auto* cs = o->if_contains("collections"); cs && cs->is_array()) {
      for (const auto& c : cs->get_array()) {
        if (c.is_string() && is_dataset_collection(c.get_string())) collections.emplace_back(c.get_string());
      }
    }
  }
  std::vector<RecordChange> out;
  const std::string prefix = "at://" + did + "/";
  for (const auto& collection : collections) {
    atproto::ListRecordsOptions o;
    o.repo = did;
    o.limit = 100;
    auto pager = client.list_all_records(collection, o);
    while (auto page = co_await pager.next()) {
      for (auto& r : page->records) {
        RecordChange c;
        c.collection = collection;
        const auto slash = r.uri.rfind('/');
        c.rkey = slash == std::string::npos ? std::string() : r.uri.substr(slash + 1);
        c.cid = std::move(r.cid);
        if (r.value.is_object()) c.record = std::move(r.value.as_object());
        out.push_back(std::move(c));
      }
    }
  }
  co_return out;
}

asio::awaitable<std::vector<RecordChange>> by_get_repo(atproto::AtmosphereClient& client, std::string did,
                                                       std::uint64_t max_bytes) {
  const std::string pds = co_await client.resolve_pds(did);
  const atproto::DidDocument doc = co_await client.resolve_did(did);
  atproto::XrpcClient x(client.http(), pds);
  atproto::QueryParams params;
  params.emplace_back("did", did);
  auto stream = co_await x.query_stream("com.atproto.sync.getRepo", params);
  const SharedBytes car = co_await stream.read_all(max_bytes);

  atproto::CarReader reader(car.span());
  if (reader.roots().size() != 1)
    throw DecodeError("getRepo " + did + ": the CAR must have exactly one root");
  const auto root = reader.roots().front();
  const atproto::BlockMap blocks = atproto::BlockMap::from_car(reader);
  const auto commit_block = blocks.find(root);
  if (!commit_block)
    throw VerifyError(VerifyError::Check::block_missing, did, "getRepo: the commit block is missing");
  const atproto::Commit commit = atproto::decode_commit(*commit_block);
  atproto::check_commit_did(commit, did);
  atproto::verify_commit_signature(commit, atproto::PublicKey::from_did_document(json::parse(doc.raw)));

  std::vector<RecordChange> out;
  atproto::mst_walk(blocks, commit.data, [&](std::string_view key, std::span<const std::byte> cid) {
    const auto slash = key.find('/');
    const std::string_view collection = key.substr(0, slash);
    if (!is_dataset_collection(collection)) return;
    const auto block = blocks.find(cid);
    if (!block)
      throw VerifyError(VerifyError::Check::block_missing, std::string(key), "getRepo: record block missing");
    RecordChange c;
    c.collection = std::string(collection);
    c.rkey = std::string(key.substr(slash + 1));
    c.cid = atproto::format_binary_cid(cid);
    json::value v = atproto::dag_cbor_to_json(atproto::dag_cbor_decode(*block));
    if (v.is_object()) c.record = std::move(v.as_object());
    out.push_back(std::move(c));
  });
  co_return out;
}

}  // namespace

asio::awaitable<std::vector<RecordChange>> fetch_repo_records(atproto::AtmosphereClient& client,
                                                              std::string did, BackfillMethod method,
                                                              std::uint64_t max_car_bytes) {
  if (method == BackfillMethod::get_repo)
    co_return co_await by_get_repo(client, std::move(did), max_car_bytes);
  co_return co_await by_list_records(client, std::move(did));
}

asio::awaitable<std::vector<std::string>> list_repos_by_collection(atproto::AtmosphereClient& client,
                                                                   std::string host, std::string collection) {
  atproto::XrpcClient x(client.http(), std::move(host));
  std::vector<std::string> dids;
  std::string cursor;
  for (;;) {
    atproto::QueryParams params;
    params.emplace_back("collection", collection);
    params.emplace_back("limit", "1000");
    if (!cursor.empty()) params.emplace_back("cursor", cursor);
    const json::value page = co_await x.query("com.atproto.sync.listReposByCollection", params);
    const auto* o = page.if_object();
    if (!o) break;
    std::size_t n = 0;
    if (const auto* repos = o->if_contains("repos"); repos && repos->is_array()) {
      for (const auto& r : repos->get_array()) {
        const auto* ro = r.if_object();
        if (!ro) continue;
        if (const auto* d = ro->if_contains("did"); d && d->is_string()) {
          dids.emplace_back(d->get_string());
          ++n;
        }
      }
    }
    const auto* next = o->if_contains("cursor");
    if (n == 0 || !next || !next->is_string() || next->get_string().empty()) break;
    cursor = std::string(next->get_string());
  }
  co_return dids;
}

}  // namespace atdata::atmosphere
