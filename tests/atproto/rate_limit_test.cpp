#include "atdata/atproto/rate_limit.hpp"

#include <gtest/gtest.h>

namespace atdata::atproto {
namespace {

using namespace std::chrono;
const system_clock::time_point kNow = system_clock::time_point(seconds(1'800'000'000));

TEST(RateLimit, PdsHeadersWithEpochReset) {
  auto r = parse_rate_limit("3000", "2999", "1800000300", "3000;w=300", kNow);
  EXPECT_EQ(r.limit, 3000);
  EXPECT_EQ(r.remaining, 2999);
  ASSERT_TRUE(r.reset);
  EXPECT_EQ(*r.reset - kNow, seconds(300));
  EXPECT_EQ(r.policy, "3000;w=300");
  EXPECT_TRUE(r.known());
}

TEST(RateLimit, DeltaResetAndGarbage) {
  auto r = parse_rate_limit(" 10 ", "x", "60", std::nullopt, kNow);
  EXPECT_EQ(r.limit, 10);
  EXPECT_FALSE(r.remaining);
  EXPECT_EQ(*r.reset - kNow, seconds(60));
  EXPECT_FALSE(parse_rate_limit(std::nullopt, std::nullopt, std::nullopt, std::nullopt, kNow).known());
  EXPECT_FALSE(parse_rate_limit(std::nullopt, std::nullopt, "-5", std::nullopt, kNow).reset);
  EXPECT_FALSE(
      parse_rate_limit(std::nullopt, std::nullopt, "99999999999999999999", std::nullopt, kNow).reset);
}

TEST(RetryAfter, SecondsAndHttpDate) {
  EXPECT_EQ(parse_retry_after("120", kNow), milliseconds(120'000));
  EXPECT_EQ(parse_retry_after("0", kNow), milliseconds(0));
  EXPECT_FALSE(parse_retry_after("-1", kNow));
  EXPECT_FALSE(parse_retry_after("soon", kNow));
  auto when = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  ASSERT_TRUE(when);
  EXPECT_EQ(system_clock::to_time_t(*when), 784111777);
  // a date in the past means "now"
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kNow), milliseconds(0));
  auto later = system_clock::from_time_t(784111777 - 30);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", later), milliseconds(30'000));
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
}

TEST(Backoff, ExponentialCappedWithJitter) {
  EXPECT_EQ(backoff_delay(0, milliseconds(100), seconds(10), 0.0), milliseconds(50));
  EXPECT_EQ(backoff_delay(0, milliseconds(100), seconds(10), 1.0), milliseconds(100));
  EXPECT_EQ(backoff_delay(3, milliseconds(100), seconds(10), 1.0), milliseconds(800));
  EXPECT_EQ(backoff_delay(30, milliseconds(100), seconds(10), 1.0), milliseconds(10'000));
  EXPECT_EQ(backoff_delay(1000, milliseconds(100), seconds(10), 0.0), milliseconds(5'000));
}

}  // namespace
}  // namespace atdata::atproto
