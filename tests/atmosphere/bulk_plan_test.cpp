#include "atdata/atmosphere/bulk_plan.hpp"

#include <gtest/gtest.h>

#include <set>

#include <boost/json/parse.hpp>

#include "atdata/error.hpp"

namespace {

namespace json = boost::json;
using namespace atdata::atmosphere;

std::vector<json::object> records(int n, const char* created) {
  std::vector<json::object> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(json::object{{"$type", "ac.foundation.dataset.record"},
                               {"name", "rec-" + std::to_string(i)},
                               {"createdAt", created}});
  }
  return out;
}

TEST(BulkPlan, JobKeyIsDeterministicAndIgnoresCreatedAt) {
  auto a = records(50, "2026-01-17T23:41:50+00:00");
  auto b = records(50, "2027-03-01T00:00:00.5+00:00");
  const std::string ka = bulk_job_key("ac.foundation.dataset.record", a);
  EXPECT_EQ(ka.size(), 13u);
  EXPECT_EQ(ka.find_first_not_of("234567abcdefghijklmnopqrstuvwxyz"), std::string::npos);
  EXPECT_EQ(ka, bulk_job_key("ac.foundation.dataset.record", b));
  EXPECT_NO_THROW(check_job_key(ka));
}

TEST(BulkPlan, JobKeyChangesWithContentOrderAndCollection) {
  auto a = records(5, "x");
  const std::string k = bulk_job_key("c", a);
  auto changed = a;
  changed[3]["name"] = "other";
  auto reordered = a;
  std::swap(reordered[0], reordered[1]);
  auto shorter = a;
  shorter.pop_back();
  std::set<std::string> keys{k, bulk_job_key("c", changed), bulk_job_key("c", reordered),
                             bulk_job_key("c", shorter), bulk_job_key("d", a)};
  EXPECT_EQ(keys.size(), 5u);
}

TEST(BulkPlan, RkeysAreOrderedAndRecognised) {
  EXPECT_EQ(bulk_rkey("abc", 0), "abc-000000");
  EXPECT_EQ(bulk_rkey("abc", 1999), "abc-001999");
  EXPECT_EQ(bulk_rkey("abc", 12345678), "abc-12345678");
  EXPECT_LT(bulk_rkey("abc", 9), bulk_rkey("abc", 10));
  EXPECT_TRUE(is_bulk_rkey_of("abc-000042", "abc"));
  EXPECT_FALSE(is_bulk_rkey_of("abcd-000042", "abc"));
  EXPECT_FALSE(is_bulk_rkey_of("abc-00004x", "abc"));
  EXPECT_FALSE(is_bulk_rkey_of("abc-0042", "abc"));
  EXPECT_FALSE(is_bulk_rkey_of("3lc2q7xyzab2k", "abc"));
}

TEST(BulkPlan, JobKeyValidation) {
  EXPECT_THROW(check_job_key(""), atdata::InvalidArgument);
  EXPECT_THROW(check_job_key("Upper"), atdata::InvalidArgument);
  EXPECT_THROW(check_job_key("a-b"), atdata::InvalidArgument);
  EXPECT_THROW(check_job_key(std::string(65, 'a')), atdata::InvalidArgument);
  EXPECT_NO_THROW(check_job_key("nightly2026"));
}

}  // namespace
