// Records against the real PDS: CRUD, errors, pagination over > 250 records,
// applyWrites splitting, and reading another account's repo via identity.

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include <set>

#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/error.hpp"
#include "pds/pds_env.hpp"
#include "support/net_run.hpp"

namespace atdata::atproto {
namespace {

using test::PdsEnv;
using test::run_io;
namespace asio = boost::asio;

std::string rkey_of(const std::string& uri) {
  return uri.substr(uri.rfind('/') + 1);
}

ListRecordsOptions list_opts(int limit, std::string repo = {}, bool reverse = false) {
  ListRecordsOptions o;
  o.limit = limit;
  o.repo = std::move(repo);
  o.reverse = reverse;
  return o;
}

struct LoggedIn {
  asio::io_context io;
  AtmosphereClient client;
  explicit LoggedIn(const std::string& who = "alice")
      : client(io.get_executor(), PdsEnv::get().client_options()) {
    const auto& a = PdsEnv::get().accounts.at(who);
    run_io(io, client.login(a.handle, a.password));
  }
};

TEST(PdsRecords, CreateGetPutDelete) {
  LoggedIn s;
  auto& c = s.client;
  const auto coll = test::unique_collection("crud");
  boost::json::object rec{{"$type", coll}, {"name", "first"}, {"n", 1}};
  auto ref = run_io(s.io, c.create_record(coll, rec));
  EXPECT_EQ(ref.uri.rfind("at://" + c.did() + "/" + coll + "/", 0), 0u) << ref.uri;
  EXPECT_EQ(ref.cid.rfind("bafyrei", 0), 0u) << ref.cid;
  const auto rkey = rkey_of(ref.uri);
  EXPECT_EQ(rkey.size(), 13u);  // a TID

  auto got = run_io(s.io, c.get_record(c.did(), coll, rkey));
  EXPECT_EQ(got.uri, ref.uri);
  EXPECT_EQ(got.cid, ref.cid);
  EXPECT_EQ(got.value.at("name").as_string(), "first");
  // by handle too
  EXPECT_EQ(run_io(s.io, c.get_record(c.handle(), coll, rkey)).cid, ref.cid);

  auto put = run_io(s.io, c.put_record(coll, rkey, {{"$type", coll}, {"name", "second"}}));
  EXPECT_EQ(put.uri, ref.uri);
  EXPECT_NE(put.cid, ref.cid);
  EXPECT_EQ(run_io(s.io, c.get_record(c.did(), coll, rkey)).value.at("name").as_string(), "second");

  // swapRecord with a stale CID is refused by the server.
  try {
    PutRecordOptions po;
    po.swap_record = ref.cid;
    run_io(s.io, c.put_record(coll, rkey, {{"name", "third"}}, po));
    FAIL() << "stale swapRecord accepted";
  } catch (const XrpcError& e) {
    EXPECT_EQ(e.error(), "InvalidSwap");
  }

  // A chosen rkey.
  CreateRecordOptions co;
  co.rkey = "self";
  auto named = run_io(s.io, c.create_record(coll, {{"x", 1}}, co));
  EXPECT_EQ(rkey_of(named.uri), "self");

  run_io(s.io, c.delete_record(coll, rkey));
  try {
    run_io(s.io, c.get_record(c.did(), coll, rkey));
    FAIL() << "deleted record still readable";
  } catch (const XrpcError& e) {
    EXPECT_EQ(e.error(), "RecordNotFound");
  }
  run_io(s.io, c.delete_record(coll, rkey));  // deleting twice is fine
}

TEST(PdsRecords, UnknownRecordIsRecordNotFoundWithTheServersMessage) {
  LoggedIn s;
  try {
    run_io(s.io, s.client.get_record(s.client.did(), "ac.foundation.dataset.record", "3zzzzzzzzzzzz"));
    FAIL();
  } catch (const XrpcError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.error(), "RecordNotFound");
    EXPECT_EQ(e.message().rfind("Could not locate record", 0), 0u) << e.message();
  }
  // Invalid identifiers never reach the network.
  EXPECT_THROW(run_io(s.io, s.client.get_record(s.client.did(), "not an nsid", "x")), InvalidArgument);
  EXPECT_THROW(run_io(s.io, s.client.get_record(s.client.did(), "a.b.c", "../x")), InvalidArgument);
  EXPECT_THROW(run_io(s.io, s.client.list_records("a.b.c", list_opts(101))), InvalidArgument);
}

TEST(PdsRecords, PaginationOverMoreThan250Records) {
  LoggedIn s;
  auto& c = s.client;
  const auto coll = test::unique_collection("paged");
  std::vector<WriteOp> ops;
  for (int i = 0; i < 260; ++i) ops.push_back(WriteOp::create(coll, {{"$type", coll}, {"i", i}}));
  auto results = run_io(s.io, c.apply_writes(ops));
  ASSERT_EQ(results.size(), 260u);

  // One page.
  auto first = run_io(s.io, c.list_records(coll, list_opts(100)));
  EXPECT_EQ(first.records.size(), 100u);
  ASSERT_TRUE(first.cursor);
  // Newest first: the last created record leads.
  EXPECT_EQ(first.records.front().uri, results.back().uri);
  EXPECT_EQ(first.records.front().value.at("i").as_int64(), 259);

  // Every page, descending, then ascending.
  for (bool reverse : {false, true}) {
    auto pager = c.list_all_records(coll, list_opts(100, "", reverse));
    std::set<std::string> uris;
    std::vector<std::int64_t> order;
    int pages = 0;
    for (;;) {
      auto page = run_io(s.io, pager.next());
      if (!page) break;
      ++pages;
      for (const auto& r : page->records) {
        EXPECT_FALSE(r.cid.empty());
        uris.insert(r.uri);
        order.push_back(r.value.at("i").as_int64());
      }
    }
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(uris.size(), 260u);
    ASSERT_EQ(order.size(), 260u);
    for (std::size_t i = 0; i < order.size(); ++i) {
      EXPECT_EQ(order[i], reverse ? static_cast<std::int64_t>(i) : static_cast<std::int64_t>(259 - i));
    }
    EXPECT_TRUE(pager.done());
    EXPECT_FALSE(run_io(s.io, pager.next()));
  }
}

TEST(PdsRecords, ApplyWritesSplitsByCountAndBytes) {
  LoggedIn s;
  auto& c = s.client;
  const auto coll = test::unique_collection("batch");
  // 450 writes of ~1 KB: more than 200 ops and far more than 150 KiB in total.
  std::vector<WriteOp> ops;
  for (int i = 0; i < 450; ++i) {
    ops.push_back(WriteOp::create(coll, {{"$type", coll}, {"i", i}, {"pad", std::string(1000, 'x')}},
                                  "k" + std::to_string(1000 + i)));
  }
  auto bodies = build_apply_writes_bodies(c.did(), ops);
  EXPECT_GE(bodies.size(), 4u);  // ~140 per 150 KiB body
  auto results = run_io(s.io, c.apply_writes(ops));
  ASSERT_EQ(results.size(), 450u);
  EXPECT_EQ(rkey_of(results[0].uri), "k1000");
  EXPECT_EQ(rkey_of(results[449].uri), "k1449");

  // Mixed ops in one call: update one, delete one, create one.
  std::vector<WriteOp> mixed{WriteOp::update(coll, "k1000", {{"$type", coll}, {"i", -1}}),
                             WriteOp::remove(coll, "k1001"),
                             WriteOp::create(coll, {{"$type", coll}, {"i", 999}})};
  auto r2 = run_io(s.io, c.apply_writes(mixed));
  ASSERT_EQ(r2.size(), 3u);
  EXPECT_TRUE(r2[1].uri.empty());
  EXPECT_EQ(run_io(s.io, c.get_record(c.did(), coll, "k1000")).value.at("i").as_int64(), -1);
  EXPECT_THROW(run_io(s.io, c.get_record(c.did(), coll, "k1001")), XrpcError);

  std::size_t n = 0;
  auto pager = c.list_all_records(coll);
  while (auto page = run_io(s.io, pager.next())) n += page->records.size();
  EXPECT_EQ(n, 450u);  // 450 - 1 deleted + 1 created
}

TEST(PdsRecords, SecondAccountsRecordsViaIdentityResolution) {
  const auto& env = PdsEnv::get();
  LoggedIn bob("bob");
  const auto coll = test::unique_collection("shared");
  std::vector<WriteOp> ops;
  for (int i = 0; i < 5; ++i) ops.push_back(WriteOp::create(coll, {{"$type", coll}, {"i", i}}));
  auto written = run_io(bob.io, bob.client.apply_writes(ops));
  ASSERT_EQ(written.size(), 5u);

  // Alice reads Bob's repo: the request goes to the PDS named in Bob's DID
  // document (resolved through the PLC), without Alice's token.
  LoggedIn alice("alice");
  auto page = run_io(alice.io, alice.client.list_records(coll, list_opts(100, env.accounts.at("bob").did)));
  ASSERT_EQ(page.records.size(), 5u);
  EXPECT_EQ(page.records[0].uri, written[4].uri);
  auto by_handle = run_io(alice.io, alice.client.list_records(coll, list_opts(100, "bob.test")));
  EXPECT_EQ(by_handle.records.size(), 5u);
  auto one = run_io(alice.io, alice.client.get_record("bob.test", coll, rkey_of(written[2].uri)));
  EXPECT_EQ(one.value.at("i").as_int64(), 2);
  EXPECT_GE(alice.client.identity().stats().network_lookups, 2u);  // handle + DID document

  // An anonymous client can read too.
  asio::io_context io;
  AtmosphereClient anon(io.get_executor(), env.client_options());
  auto anon_page = run_io(io, anon.list_records(coll, list_opts(100, "bob.test")));
  EXPECT_EQ(anon_page.records.size(), 5u);
}

}  // namespace
}  // namespace atdata::atproto
