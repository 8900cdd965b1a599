// Rate limits of the real PDS (a second instance, started with
// PDS_RATE_LIMITS_ENABLED=true by the pds_rl fixture): the RateLimit-* headers
// the client keeps for pacing, and the server's own 429 RateLimitExceeded.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <iostream>
#include <optional>
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

// createSession allows 30 logins per identifier in 5 minutes (recipe §5): the
// budget counts down in the headers and the next login is refused by the
// server. The reset is minutes away, beyond max_retry_wait, so the client
// reports the server's error at once instead of sleeping.
TEST(PdsRateLimits, LoginBudgetCountsDownThenTheServerRefuses) {
  const auto& acc = PdsEnv::get().accounts.at("carol");
  asio::io_context io;
  AtmosphereClient client(io.get_executor(), PdsEnv::get().client_options());
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

// Writes carry a budget the bulk publisher paces by. What the reference PDS
// reports on applyWrites is its tightest limiter, the global per-IP one
// (3000 requests / 5 min, one point per call): each batch spends from it.
TEST(PdsRateLimits, BulkWritesSpendTheBudgetTheServerReports) {
  const auto& acc = PdsEnv::get().accounts.at("dave");
  asio::io_context io;
  AtmosphereClient client(io.get_executor(), PdsEnv::get().client_options());
  run_io(io, client.login(acc.handle, acc.password));
  const std::string coll = test::unique_collection("paced");
  std::vector<boost::json::object> records;
  records.reserve(300);
  for (int i = 0; i < 300; ++i) records.push_back({{"$type", coll}, {"i", i}});
  atmosphere::BulkPublisher bulk(client);
  std::vector<std::int64_t> remaining;
  atmosphere::BulkOptions o;
  o.max_in_flight = 1;  // one batch at a time, so each sees the previous one's headers
  o.max_ops_per_batch = 100;
  o.on_progress = [&](const atmosphere::BulkProgress&) {
    if (auto r = client.rate_limit().remaining) remaining.push_back(*r);
  };
  auto r = run_io(io, bulk.publish_records(coll, records, o));
  EXPECT_EQ(r.written, 300u);
  const RateLimitInfo rl = client.rate_limit();
  ASSERT_TRUE(rl.limit && rl.remaining && rl.reset);
  ASSERT_GE(remaining.size(), 3u);
  EXPECT_EQ(*rl.limit, 3000);
  EXPECT_EQ(rl.policy, "3000;w=300");
  for (std::size_t i = 1; i < remaining.size(); ++i) EXPECT_LT(remaining[i], remaining[i - 1]);
  std::cout << "budget after the bulk publish: limit " << *rl.limit << ", remaining " << *rl.remaining
            << ", policy " << rl.policy << "\n";
}

}  // namespace
}  // namespace atdata::atproto
