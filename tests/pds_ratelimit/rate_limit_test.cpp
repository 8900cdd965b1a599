// Rate limits of the real PDS (a second instance, started with
// PDS_RATE_LIMITS_ENABLED=true by the pds_rl fixture): the RateLimit-* headers
// the client keeps for pacing, and the server's own 429 RateLimitExceeded.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>
#include <optional>
#include <random>
#include <vector>

#include "atdata/atmosphere/bulk.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/error.hpp"
#include "pds/pds_env.hpp"
#include "support/net_run.hpp"

namespace atdata::atproto {
namespace {

using test::PdsEnv;
using test::run_io;
namespace asio = boost::asio;

// A new account per test run: the login and repo-write budgets belong to the
// account, so nothing carries over between runs (ctest --repeat, reruns).
test::PdsAccount fresh_account(asio::io_context& io, AtmosphereClient& client, const std::string& stem) {
  std::random_device rd;
  std::string name = stem;
  for (int i = 0; i < 8; ++i) name.push_back("abcdefghijklmnopqrstuvwxyz0123456789"[rd() % 36]);
  test::PdsAccount a{name + ".test", "", name + "-pass"};
  XrpcClient x(client.http(), PdsEnv::get().pds_url);
  boost::json::object body{{"handle", a.handle}, {"email", name + "@example.com"}, {"password", a.password}};
  auto v = run_io(io, x.procedure_json("com.atproto.server.createAccount", boost::json::serialize(body)));
  a.did = std::string(v.at("did").as_string());
  return a;
}

// createSession allows 30 logins per identifier in 5 minutes (the PDS's limit): the
// budget counts down in the headers and the next login is refused by the
// server. The reset is minutes away, beyond max_retry_wait, so the client
// reports the server's error at once instead of sleeping.
TEST(PdsRateLimits, LoginBudgetCountsDownThenTheServerRefuses) {
  asio::io_context io;
  AtmosphereClient client(io.get_executor(), PdsEnv::get().client_options());
  const auto acc = fresh_account(io, client, "rl");
  std::optional<std::int64_t> last_remaining;
  int ok = 0;
  for (; ok < 40; ++ok) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      run_io(io, client.login(acc.handle, acc.password));
    } catch (const XrpcError& e) {
      EXPECT_EQ(e.status(), 429);
      EXPECT_EQ(e.error(), "RateLimitExceeded");
      EXPECT_FALSE(e.message().empty());
      EXPECT_EQ(std::string(e.what()).find(acc.password), std::string::npos);
      EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30))
          << "waited for a 5-minute reset";
      break;
    }
    const RateLimitInfo rl = client.rate_limit();
    ASSERT_TRUE(rl.limit && rl.remaining && rl.reset) << "login " << ok << " carried no RateLimit headers";
    EXPECT_EQ(*rl.limit, 30);
    EXPECT_EQ(rl.policy, "30;w=300");
    EXPECT_GT(*rl.reset, std::chrono::system_clock::now());
    if (last_remaining) {
      EXPECT_EQ(*rl.remaining, *last_remaining - 1);
    }
    last_remaining = rl.remaining;
  }
  EXPECT_EQ(ok, 30);
  ASSERT_TRUE(last_remaining);
  EXPECT_EQ(*last_remaining, 0);
}

// Writes carry the budget the bulk publisher paces by. The PDS reports its
// tightest limiter: the global per-IP one (3000 calls / 5 min) at first, the
// account's repo-write one (5000 points / h, 3 per create) once that is lower.
// 1,000 creates spend exactly 3,000 points, which pins down the points per
// create that BulkOptions::points_per_create assumes.
TEST(PdsRateLimits, BulkWritesSpendTheRepoWriteBudget) {
  asio::io_context io;
  AtmosphereClient client(io.get_executor(), PdsEnv::get().client_options());
  const auto acc = fresh_account(io, client, "bw");
  run_io(io, client.login(acc.handle, acc.password));
  const std::string coll = test::unique_collection("paced");
  std::vector<boost::json::object> records;
  records.reserve(1000);
  for (int i = 0; i < 1000; ++i) records.push_back({{"$type", coll}, {"i", i}});
  atmosphere::BulkPublisher bulk(client);
  std::vector<RateLimitInfo> seen;
  atmosphere::BulkOptions o;
  o.max_in_flight = 1;  // one batch at a time, so each sees the previous one's headers
  o.on_progress = [&](const atmosphere::BulkProgress&) { seen.push_back(client.rate_limit()); };
  auto r = run_io(io, bulk.publish_records(coll, records, o));
  EXPECT_EQ(r.written, 1000u);
  ASSERT_GE(seen.size(), 5u);
  for (std::size_t i = 1; i < seen.size(); ++i) {
    ASSERT_TRUE(seen[i].remaining && seen[i - 1].remaining);
    if (seen[i].policy == seen[i - 1].policy) {
      EXPECT_LT(*seen[i].remaining, *seen[i - 1].remaining);
    }
  }
  const RateLimitInfo rl = client.rate_limit();
  ASSERT_TRUE(rl.limit && rl.remaining && rl.reset);
  EXPECT_EQ(rl.policy, "5000;w=3600");
  EXPECT_EQ(*rl.limit, 5000);
  EXPECT_EQ(*rl.remaining, 5000 - 3 * 1000);
  EXPECT_GT(*rl.reset, std::chrono::system_clock::now());
}

}  // namespace
}  // namespace atdata::atproto
