#include "atdata/atproto/dag_cbor.hpp"

#include "atdata/atproto/cid.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "atdata/error.hpp"
#include "firehose_fixtures.hpp"

namespace atdata::atproto {
namespace {

namespace fs = std::filesystem;
using atdata::test::firehose_dir;
using atdata::test::frame_files;
using atdata::test::index_types;
using atdata::test::read_bytes;

std::vector<std::byte> B(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int x : v) out.push_back(static_cast<std::byte>(x));
  return out;
}

void expect_decode_error(const std::vector<std::byte>& b, const DagCborLimits& limits = {}) {
  EXPECT_THROW(dag_cbor_decode(b, limits), DecodeError);
}

TEST(DagCbor, FirehoseFramesDecodeAndReencodeExactly) {
  auto types = index_types();
  auto files = frame_files();
  ASSERT_GE(files.size(), 20u);
  int frames = 0, commits = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    auto data = read_bytes(path);
    ASSERT_FALSE(data.empty());
    std::span<const std::byte> all(data);
    auto header = dag_cbor_decode_prefix(all);
    auto body = dag_cbor_decode_prefix(all.subspan(header.end));
    EXPECT_EQ(header.end + body.end, data.size());
    ASSERT_EQ(header.value.kind(), DagCborValue::Kind::map);
    ASSERT_EQ(body.value.kind(), DagCborValue::Kind::map);
    const auto* op = header.value.find("op");
    ASSERT_NE(op, nullptr);
    auto name = path.filename().string();
    if (name.rfind("error-", 0) == 0) {
      EXPECT_EQ(op->as_int(), -1);
      EXPECT_NE(body.value.find("error"), nullptr);
    } else {
      EXPECT_EQ(op->as_int(), 1);
      const auto* t = header.value.find("t");
      ASSERT_NE(t, nullptr);
      if (name.rfind("frame-", 0) == 0) {
        ++frames;
        ASSERT_TRUE(types.count(name));
        EXPECT_EQ(t->as_text(), types[name]);
      }
      if (t->as_text() == "#commit") {
        ++commits;
        const auto* blocks = body.value.find("blocks");
        ASSERT_NE(blocks, nullptr);
        EXPECT_EQ(blocks->kind(), DagCborValue::Kind::bytes);
        EXPECT_GT(blocks->as_bytes().size(), 0u);
        const auto* commit = body.value.find("commit");
        ASSERT_NE(commit, nullptr);
        ASSERT_EQ(commit->kind(), DagCborValue::Kind::link);
        EXPECT_EQ(commit->link_string().rfind("bafyrei", 0), 0u);
      }
    }
    auto out = dag_cbor_encode(header.value);
    dag_cbor_encode(body.value, out);
    EXPECT_EQ(out, data);
  }
  EXPECT_EQ(frames, static_cast<int>(std::count_if(types.begin(), types.end(), [](const auto& kv) {
              return kv.first.rfind("frame-", 0) == 0;
            })));
  EXPECT_GT(commits, 0);
}

TEST(DagCbor, IdentityBodyToJson) {
  auto data = read_bytes(firehose_dir() / "frame-000.bin");
  std::span<const std::byte> all(data);
  auto header = dag_cbor_decode_prefix(all);
  auto body = dag_cbor_decode(all.subspan(header.end));
  auto json = dag_cbor_to_json(body);
  auto expected =
      boost::json::parse(R"({"did":"did:plc:7tgzjy4e57zsigdlaf226lra","handle":"alice.test","seq":1,)"
                         R"("time":"2026-11-24T22:59:29.668Z"})");
  EXPECT_EQ(json, expected) << boost::json::serialize(json);
  EXPECT_EQ(dag_cbor_to_json(header.value), boost::json::parse(R"({"t":"#identity","op":1})"));
}

TEST(DagCbor, BytesAndLinksToJson) {
  auto b = B({0x43, 1, 2, 3});
  EXPECT_EQ(boost::json::serialize(dag_cbor_to_json(dag_cbor_decode(b))), R"({"$bytes":"AQID"})");
  auto b1 = B({0x41, 0xff});
  EXPECT_EQ(boost::json::serialize(dag_cbor_to_json(dag_cbor_decode(b1))), R"({"$bytes":"/w"})");
  auto b2 = B({0x42, 0xfb, 0xff});
  EXPECT_EQ(boost::json::serialize(dag_cbor_to_json(dag_cbor_decode(b2))), R"({"$bytes":"+/8"})");

  // Link to the CID of an all-zero digest with codec dag-cbor.
  std::vector<std::byte> link = B({0xd8, 0x2a, 0x58, 0x25, 0x00, 0x01, 0x71, 0x12, 0x20});
  link.resize(link.size() + 32, std::byte{0});
  auto v = dag_cbor_decode(link);
  ASSERT_EQ(v.kind(), DagCborValue::Kind::link);
  Sha256Digest zero{};
  EXPECT_EQ(v.link_string(), cid_v1_sha256(kCodecDagCbor, zero));
  EXPECT_EQ(dag_cbor_to_json(v).at("$link").as_string(), v.link_string());
  EXPECT_EQ(dag_cbor_encode(v), link);
  auto parsed = parse_binary_cid_v1_sha256(v.as_link());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->codec, kCodecDagCbor);
}

TEST(DagCbor, EncodeSortsKeysCanonically) {
  std::vector<std::string_view> keys = {"bb", "a", "b"};
  std::vector<DagCborValue> vals;
  vals.push_back(DagCborValue::make_int(1));
  vals.push_back(DagCborValue::make_int(-300));
  vals.push_back(DagCborValue::make_null());
  auto m = DagCborValue::make_map(keys, std::move(vals));
  auto out = dag_cbor_encode(m);
  EXPECT_EQ(out, B({0xa3, 0x61, 'a', 0x39, 0x01, 0x2b, 0x61, 'b', 0xf6, 0x62, 'b', 'b', 0x01}));
  auto back = dag_cbor_decode(out);
  EXPECT_EQ(back.find("a")->as_int(), -300);
  EXPECT_EQ(dag_cbor_encode(back), out);

  std::vector<DagCborValue> dup;
  dup.push_back(DagCborValue::make_int(1));
  dup.push_back(DagCborValue::make_int(2));
  EXPECT_THROW(dag_cbor_encode(DagCborValue::make_map({"a", "a"}, std::move(dup))), InvalidArgument);
}

TEST(DagCbor, IntegerRange) {
  auto max = B({0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(dag_cbor_decode(max).as_int(), INT64_MAX);
  auto min = B({0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  EXPECT_EQ(dag_cbor_decode(min).as_int(), INT64_MIN);
  EXPECT_EQ(dag_cbor_encode(dag_cbor_decode(min)), min);
  expect_decode_error(B({0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0}));
  expect_decode_error(B({0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(DagCbor, RejectsNonShortestForms) {
  expect_decode_error(B({0x18, 0x05}));
  expect_decode_error(B({0x19, 0x00, 0xff}));
  expect_decode_error(B({0x1a, 0x00, 0x00, 0xff, 0xff}));
  expect_decode_error(B({0x1b, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}));
  expect_decode_error(B({0x38, 0x05}));
  expect_decode_error(B({0x78, 0x01, 'a'}));   // long-form text length
  expect_decode_error(B({0x58, 0x00}));        // long-form bytes length
  expect_decode_error(B({0x98, 0x01, 0x01}));  // long-form list length
  // The shortest forms of the same values are accepted.
  EXPECT_EQ(dag_cbor_decode(B({0x18, 0x18})).as_int(), 24);
  EXPECT_EQ(dag_cbor_decode(B({0x61, 'a'})).as_text(), "a");
}

TEST(DagCbor, RejectsIndefiniteLengths) {
  expect_decode_error(B({0x9f, 0xff}));
  expect_decode_error(B({0x5f, 0x41, 0x00, 0xff}));
  expect_decode_error(B({0x7f, 0x61, 'a', 0xff}));
  expect_decode_error(B({0xbf, 0xff}));
  expect_decode_error(B({0xff}));
}

TEST(DagCbor, RejectsBadMapKeys) {
  expect_decode_error(B({0xa2, 0x61, 'b', 0x01, 0x61, 'a', 0x02}));       // unsorted
  expect_decode_error(B({0xa2, 0x62, 'a', 'a', 0x01, 0x61, 'b', 0x02}));  // longer first
  expect_decode_error(B({0xa2, 0x61, 'a', 0x01, 0x61, 'a', 0x02}));       // duplicate
  expect_decode_error(B({0xa1, 0x01, 0x02}));                             // int key
  expect_decode_error(B({0xa1, 0x41, 'a', 0x02}));                        // bytes key
  EXPECT_NO_THROW(dag_cbor_decode(B({0xa2, 0x61, 'b', 0x01, 0x62, 'a', 'a', 0x02})));
}

TEST(DagCbor, RejectsFloatsAndSimpleValues) {
  expect_decode_error(B({0xf9, 0x00, 0x00}));
  expect_decode_error(B({0xfa, 0x00, 0x00, 0x00, 0x00}));
  expect_decode_error(B({0xfb, 0, 0, 0, 0, 0, 0, 0, 0}));
  expect_decode_error(B({0xf7}));
  expect_decode_error(B({0xf0}));
  expect_decode_error(B({0xf8, 0x20}));
  EXPECT_FALSE(dag_cbor_decode(B({0xf4})).as_bool());
  EXPECT_TRUE(dag_cbor_decode(B({0xf5})).as_bool());
  EXPECT_TRUE(dag_cbor_decode(B({0xf6})).is_null());
}

TEST(DagCbor, RejectsBadTags) {
  expect_decode_error(B({0xc1, 0x00}));
  expect_decode_error(B({0xd8, 0x2b, 0x40}));
  expect_decode_error(B({0xd8, 0x2a, 0x61, 'a'}));  // tag 42 on text
  std::vector<std::byte> no_prefix = B({0xd8, 0x2a, 0x58, 0x24, 0x01, 0x71, 0x12, 0x20});
  no_prefix.resize(no_prefix.size() + 32, std::byte{0});
  expect_decode_error(no_prefix);
  std::vector<std::byte> short_digest = B({0xd8, 0x2a, 0x58, 0x24, 0x00, 0x01, 0x71, 0x12, 0x20});
  short_digest.resize(short_digest.size() + 31, std::byte{0});
  expect_decode_error(short_digest);
  expect_decode_error(B({0xd8, 0x2a, 0x40}));  // empty byte string
}

TEST(DagCbor, RejectsInvalidUtf8AndTrailingBytes) {
  expect_decode_error(B({0x62, 0xc0, 0x80}));        // overlong
  expect_decode_error(B({0x63, 0xed, 0xa0, 0x80}));  // surrogate
  expect_decode_error(B({0x01, 0x01}));
  auto p = dag_cbor_decode_prefix(B({0x01, 0x02}));
  EXPECT_EQ(p.end, 1u);
}

TEST(DagCbor, TruncatedFrameFailsAtEveryOffset) {
  auto data = read_bytes(firehose_dir() / "frame-004.bin");
  ASSERT_GT(data.size(), 100u);
  for (std::size_t n = 0; n < data.size(); ++n) {
    std::span<const std::byte> cut(data.data(), n);
    EXPECT_THROW(
        {
          auto h = dag_cbor_decode_prefix(cut);
          dag_cbor_decode(cut.subspan(h.end));
        },
        DecodeError)
        << "prefix of " << n << " bytes";
  }
}

TEST(DagCbor, HugeDeclaredLengthsRejectedBeforeAllocating) {
  DagCborLimits unlimited;
  unlimited.max_container_items = SIZE_MAX;
  unlimited.max_total_items = SIZE_MAX;
  auto list = B({0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  expect_decode_error(list);
  expect_decode_error(list, unlimited);
  auto map = B({0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  expect_decode_error(map, unlimited);
  auto bytes = B({0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  expect_decode_error(bytes, unlimited);
  auto text = B({0x7b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 'a'});
  expect_decode_error(text, unlimited);
  try {
    dag_cbor_decode(bytes);
    FAIL();
  } catch (const DecodeError& e) {
    EXPECT_EQ(e.offset(), 0u);
  }
}

TEST(DagCbor, ContainerLimits) {
  DagCborLimits small;
  small.max_container_items = 2;
  EXPECT_NO_THROW(dag_cbor_decode(B({0x82, 0x01, 0x02}), small));
  expect_decode_error(B({0x83, 0x01, 0x02, 0x03}), small);
  DagCborLimits total;
  total.max_total_items = 3;
  EXPECT_NO_THROW(dag_cbor_decode(B({0x82, 0x81, 0x01, 0x01}), total));
  expect_decode_error(B({0x82, 0x82, 0x01, 0x01, 0x01}), total);
}

TEST(DagCbor, DepthLimit) {
  auto nested = [](std::size_t depth) {
    std::vector<std::byte> b(depth, std::byte{0x81});
    b.push_back(std::byte{0x01});
    return b;
  };
  EXPECT_NO_THROW(dag_cbor_decode(nested(64)));
  expect_decode_error(nested(65));
  expect_decode_error(nested(100000));
  DagCborLimits shallow;
  shallow.max_depth = 2;
  EXPECT_NO_THROW(dag_cbor_decode(nested(2), shallow));
  expect_decode_error(nested(3), shallow);
  // Maps count as levels too.
  expect_decode_error(B({0xa1, 0x61, 'a', 0xa1, 0x61, 'b', 0x81, 0x01}), shallow);
}

}  // namespace
}  // namespace atdata::atproto
