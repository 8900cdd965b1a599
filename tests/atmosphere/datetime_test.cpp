#include "atdata/atmosphere/datetime.hpp"

#include <gtest/gtest.h>

#include "atdata/error.hpp"

namespace {

using namespace atdata::atmosphere;
namespace chr = std::chrono;

Timestamp at(int y, unsigned mo, unsigned d, int h, int mi, int s, long long us) {
  return Timestamp{chr::sys_days{chr::year{y} / mo / d}} + chr::hours{h} + chr::minutes{mi} +
         chr::seconds{s} + chr::microseconds{us};
}

TEST(CreatedAt, FormatsLikePythonIsoformat) {
  EXPECT_EQ(format_created_at(at(2026, 1, 17, 23, 41, 50, 123456)), "2026-01-17T23:41:50.123456+00:00");
  EXPECT_EQ(format_created_at(at(2026, 1, 17, 23, 41, 50, 0)), "2026-01-17T23:41:50+00:00");
  EXPECT_EQ(format_created_at(at(2026, 1, 2, 3, 4, 5, 7)), "2026-01-02T03:04:05.000007+00:00");
  EXPECT_EQ(format_created_at(at(1999, 12, 31, 0, 0, 0, 500000)), "1999-12-31T00:00:00.500000+00:00");
}

TEST(CreatedAt, NowRoundTrips) {
  Timestamp t = now_utc();
  EXPECT_EQ(parse_datetime(format_created_at(t)), t);
}

TEST(CreatedAt, ParsesAnyRfc3339Form) {
  const Timestamp want = at(2026, 1, 17, 23, 41, 50, 123456);
  EXPECT_EQ(parse_datetime("2026-01-17T23:41:50.123456+00:00"), want);
  EXPECT_EQ(parse_datetime("2026-01-17T23:41:50.123456Z"), want);
  EXPECT_EQ(parse_datetime("2026-01-17t23:41:50.123456z"), want);
  EXPECT_EQ(parse_datetime("2026-01-17 23:41:50.123456789Z"), want);  // truncated past µs
  EXPECT_EQ(parse_datetime("2026-01-18T01:41:50.123456+02:00"), want);
  EXPECT_EQ(parse_datetime("2026-01-17T18:11:50.123456-05:30"), want);
  EXPECT_EQ(parse_datetime("2026-01-17T23:41:50.1Z"), at(2026, 1, 17, 23, 41, 50, 100000));
  EXPECT_EQ(parse_datetime("2026-01-17T23:41:50Z"), at(2026, 1, 17, 23, 41, 50, 0));
  EXPECT_EQ(parse_datetime("2024-02-29T00:00:00Z"), at(2024, 2, 29, 0, 0, 0, 0));
}

TEST(CreatedAt, RejectsMalformed) {
  for (const char* bad : {"", "2026-01-17", "2026-01-17T23:41:50", "2026-01-17T23:41:50+0000",
                          "2026-1-17T23:41:50Z", "2026-01-17T23:41:50.Z", "2026-02-30T00:00:00Z",
                          "2026-13-01T00:00:00Z", "2026-01-17T24:00:00Z", "2026-01-17T23:41:50Zjunk",
                          "2026-01-17X23:41:50Z", "2026-01-17T23:41:50+24:00", "yyyy-01-17T23:41:50Z"}) {
    EXPECT_THROW(parse_datetime(bad), atdata::InvalidArgument) << bad;
  }
}

}  // namespace
