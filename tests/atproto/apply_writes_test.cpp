#include "atdata/atproto/apply_writes.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "atdata/error.hpp"

namespace atdata::atproto {
namespace {

std::vector<WriteOp> make_creates(std::size_t n, std::size_t payload) {
  std::vector<WriteOp> ops;
  for (std::size_t i = 0; i < n; ++i) {
    boost::json::object rec;
    rec["$type"] = "ac.foundation.dataset.record";
    rec["i"] = static_cast<std::int64_t>(i);
    rec["pad"] = std::string(payload, 'p');
    ops.push_back(WriteOp::create("ac.foundation.dataset.record", std::move(rec)));
  }
  return ops;
}

// Every body parses, respects the limits, and together they hold all ops in order.
void check_bodies(const std::vector<std::string>& bodies, std::size_t n, ApplyWritesLimits lim) {
  std::int64_t next = 0;
  for (const auto& b : bodies) {
    EXPECT_LE(b.size(), lim.max_body_bytes);
    auto v = boost::json::parse(b).as_object();
    EXPECT_EQ(v.at("repo").as_string(), "did:plc:abc");
    EXPECT_EQ(v.at("validate").as_bool(), false);
    const auto& w = v.at("writes").as_array();
    EXPECT_GE(w.size(), 1u);
    EXPECT_LE(w.size(), lim.max_ops);
    for (const auto& op : w) {
      EXPECT_EQ(op.at("$type").as_string(), "com.atproto.repo.applyWrites#create");
      EXPECT_EQ(op.at("value").at("i").as_int64(), next++);
    }
  }
  EXPECT_EQ(next, static_cast<std::int64_t>(n));
}

TEST(ApplyWrites, SplitsByCount) {
  auto ops = make_creates(450, 10);
  auto bodies = build_apply_writes_bodies("did:plc:abc", ops);
  ASSERT_EQ(bodies.size(), 3u);
  check_bodies(bodies, 450, {});
}

TEST(ApplyWrites, SplitsByBytes) {
  auto ops = make_creates(100, 4000);  // ~4.1 KB each → ~37 per 150 KiB body
  auto bodies = build_apply_writes_bodies("did:plc:abc", ops);
  EXPECT_EQ(bodies.size(), 3u);
  check_bodies(bodies, 100, {});
}

TEST(ApplyWrites, ExactFitBoundary) {
  auto ops = make_creates(2, 100);
  auto one = build_apply_writes_bodies("did:plc:abc", ops);
  ASSERT_EQ(one.size(), 1u);
  ApplyWritesLimits tight{200, one[0].size()};
  EXPECT_EQ(build_apply_writes_bodies("did:plc:abc", ops, false, tight).size(), 1u);
  tight.max_body_bytes -= 1;
  auto two = build_apply_writes_bodies("did:plc:abc", ops, false, tight);
  EXPECT_EQ(two.size(), 2u);
  check_bodies(two, 2, tight);
}

TEST(ApplyWrites, OversizedSingleOpNamed) {
  auto ops = make_creates(3, 10);
  ops.push_back(make_creates(1, 200 * 1024)[0]);
  try {
    build_apply_writes_bodies("did:plc:abc", ops);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("write #3"), std::string::npos) << e.what();
  }
}

TEST(ApplyWrites, OpJsonShapes) {
  boost::json::object v{{"a", 1}};
  auto u = write_op_json(WriteOp::update("c.o.l", "k1", v));
  EXPECT_EQ(u.at("$type").as_string(), "com.atproto.repo.applyWrites#update");
  EXPECT_EQ(u.at("rkey").as_string(), "k1");
  auto d = write_op_json(WriteOp::remove("c.o.l", "k2"));
  EXPECT_EQ(d.at("$type").as_string(), "com.atproto.repo.applyWrites#delete");
  EXPECT_FALSE(d.contains("value"));
  auto c = write_op_json(WriteOp::create("c.o.l", v));
  EXPECT_FALSE(c.contains("rkey"));
  EXPECT_TRUE(build_apply_writes_bodies("did:plc:abc", std::span<const WriteOp>{}).empty());
}

}  // namespace
}  // namespace atdata::atproto
