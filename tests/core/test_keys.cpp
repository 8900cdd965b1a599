// Default sample keys: Python uuid.uuid1(0, 0) strings.

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>

#include "atdata/core/keys.hpp"

using atdata::KeyGenerator;

TEST(Keys, SpecExampleMapping) {
  // 360b4925-e85b-11f1-8000-000000000000: time_hi 0x1f1, time_mid 0xe85b,
  // time_low 0x360b4925 → timestamp 0x1f1e85b360b4925, i.e. Unix time
  // 1795561387157328500 ns (2026-11-24T23:03:07.1573285Z).
  EXPECT_EQ(KeyGenerator::format(0x1f1e85b360b4925ULL), "360b4925-e85b-11f1-8000-000000000000");
  EXPECT_EQ(KeyGenerator::timestamp_from_unix_ns(1795561387157328500ULL), 0x1f1e85b360b4925ULL);
  EXPECT_EQ(KeyGenerator::timestamp_from_unix_ns(1795561387157328599ULL), 0x1f1e85b360b4925ULL);  // floor
  EXPECT_EQ(KeyGenerator::format(0), "00000000-0000-1000-8000-000000000000");
  EXPECT_EQ(KeyGenerator::format(0x0fffffffffffffffULL), "ffffffff-ffff-1fff-8000-000000000000");
}

TEST(Keys, FormatAndMonotonic) {
  const std::regex re("^[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-8000-000000000000$");
  std::uint64_t prev = 0;
  for (int i = 0; i < 10000; ++i) {
    const auto t = KeyGenerator::next_timestamp();
    EXPECT_GT(t, prev);
    prev = t;
  }
  const auto k = atdata::make_uuid1_key();
  EXPECT_TRUE(std::regex_match(k, re)) << k;
  // The timestamp is "now" (after 2026-01-01 in UUID time).
  EXPECT_GT(KeyGenerator::next_timestamp(),
            KeyGenerator::timestamp_from_unix_ns(1767225600ULL * 1000000000ULL));
}

TEST(Keys, UniqueAcrossThreads) {
  constexpr int kThreads = 4, kPer = 5000;
  std::vector<std::vector<std::string>> keys(kThreads);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&keys, t] {
      for (int i = 0; i < kPer; ++i) keys[static_cast<std::size_t>(t)].push_back(KeyGenerator::next());
    });
  }
  for (auto& th : ts) th.join();
  std::set<std::string> all;
  for (const auto& v : keys) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPer));
}
