#include "atdata/atproto/event_frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/error.hpp"
#include "firehose_fixtures.hpp"

namespace atdata::atproto {
namespace {

namespace fs = std::filesystem;
using atdata::test::firehose_dir;
using atdata::test::read_bytes;

// INDEX.tsv: name, size, type, then key=value columns.
std::map<std::string, std::map<std::string, std::string>> index_rows() {
  std::map<std::string, std::map<std::string, std::string>> out;
  std::ifstream f(firehose_dir() / "INDEX.tsv");
  std::string line;
  while (std::getline(f, line)) {
    std::istringstream ls(line);
    std::string col, name;
    std::getline(ls, name, '\t');
    int i = 0;
    while (std::getline(ls, col, '\t')) {
      if (++i == 2) out[name]["type"] = col;
      const auto eq = col.find('=');
      if (i > 2 && eq != std::string::npos) out[name][col.substr(0, eq)] = col.substr(eq + 1);
    }
  }
  return out;
}

std::string str(std::string_view s) {
  return std::string(s);
}

std::vector<std::byte> frame_of(const DagCborValue& header, const DagCborValue& body) {
  auto out = dag_cbor_encode(header);
  dag_cbor_encode(body, out);
  return out;
}

DagCborValue message_header(std::string_view t) {
  return DagCborValue::make_map({"op", "t"}, {DagCborValue::make_int(1), DagCborValue::make_text(t)});
}

TEST(EventFrame, EveryCapturedFrameDecodesAsIndexed) {
  const auto rows = index_rows();
  ASSERT_GE(rows.size(), 26u);
  int commits = 0, ops = 0;
  for (const auto& [name, row] : rows) {
    SCOPED_TRACE(name);
    const auto bytes = read_bytes(firehose_dir() / name);
    const EventFrame f = decode_event_frame(bytes);
    const std::string& type = row.at("type");
    if (type == "op=-1 error") {
      ASSERT_TRUE(std::holds_alternative<ErrorFrame>(f.event));
      EXPECT_EQ(f.op, -1);
      const std::string& error = row.at("error");
      EXPECT_EQ(str(std::get<ErrorFrame>(f.event).error), error.substr(0, error.find(' ')));
      EXPECT_FALSE(f.seq());
      continue;
    }
    EXPECT_EQ(f.op, 1);
    EXPECT_EQ(str(f.type), type);
    if (row.count("seq")) {
      EXPECT_EQ(f.seq(), std::stoll(row.at("seq")));
    }
    if (type == "#commit") {
      ++commits;
      const auto& c = std::get<CommitEvent>(f.event);
      EXPECT_EQ(str(c.repo), row.at("repo"));
      EXPECT_EQ(str(c.rev), row.at("rev"));
      EXPECT_EQ(c.since ? str(*c.since) : "null", row.at("since"));
      EXPECT_EQ(std::to_string(c.blocks.size()), row.at("carBytes"));
      EXPECT_FALSE(c.too_big);
      std::string listed;
      for (const auto& op : c.ops) {
        listed += (listed.empty() ? "" : ",") + std::string(to_string(op.action)) + ":" + str(op.path);
        EXPECT_EQ(str(op.collection()), "ac.foundation.dataset.record");
        EXPECT_FALSE(op.rkey().empty());
        ++ops;
      }
      EXPECT_EQ(listed.empty() ? "(none)" : listed, row.at("ops"));
      // Ops after the first commit carry the tree's previous root.
      if (c.since) {
        EXPECT_FALSE(c.prev_data.empty());
      }
    } else if (type == "#sync") {
      const auto& s = std::get<SyncEvent>(f.event);
      EXPECT_EQ(str(s.did), row.at("did"));
      EXPECT_EQ(str(s.rev), row.at("rev"));
      EXPECT_EQ(std::to_string(s.blocks.size()), row.at("carBytes"));
    } else if (type == "#identity") {
      const auto& i = std::get<IdentityEvent>(f.event);
      EXPECT_EQ(str(i.did), row.at("did"));
      ASSERT_TRUE(i.handle);
      EXPECT_EQ(str(*i.handle), row.at("handle"));
    } else if (type == "#account") {
      const auto& a = std::get<AccountEvent>(f.event);
      EXPECT_EQ(str(a.did), row.at("did"));
      EXPECT_EQ(a.active ? "true" : "false", row.at("active"));
    } else if (type == "#info") {
      EXPECT_EQ(str(std::get<InfoEvent>(f.event).name), "OutdatedCursor");
      EXPECT_FALSE(f.seq());
    } else {
      ADD_FAILURE() << "unexpected type " << type;
    }
  }
  EXPECT_EQ(commits, 17);
  EXPECT_GE(ops, 17);
}

// A record read from a frame, turned into ATProto JSON and back, gives the
// block's exact bytes, so its CID is the one the PDS computed: what
// getRecord returns and what the frame carries are the same record.
TEST(EventFrame, RecordsRoundTripThroughAtprotoJson) {
  int records = 0;
  for (const auto& path : atdata::test::frame_files()) {
    const auto bytes = read_bytes(path);
    const EventFrame f = decode_event_frame(bytes);
    const auto* c = std::get_if<CommitEvent>(&f.event);
    if (!c) continue;
    CarReader car(c->blocks);
    const BlockMap blocks = BlockMap::from_car(car);
    for (const auto& op : c->ops) {
      if (op.cid.empty()) continue;
      SCOPED_TRACE(str(op.path));
      const auto block = blocks.find(op.cid);
      ASSERT_TRUE(block);
      const auto json = dag_cbor_to_json(dag_cbor_decode(*block));
      EXPECT_EQ(json.at("$type").as_string(), "ac.foundation.dataset.record");
      const auto again = dag_cbor_encode_json(boost::json::parse(boost::json::serialize(json)));
      ASSERT_EQ(again.size(), block->size());
      EXPECT_TRUE(std::equal(again.begin(), again.end(), block->begin()));
      EXPECT_EQ(cid_v1_sha256(kCodecDagCbor, sha256(again)), format_binary_cid(op.cid));
      ++records;
    }
  }
  EXPECT_GE(records, 15);
}

TEST(EventFrame, EveryTruncationIsDecodeError) {
  for (const char* name : {"frame-000.bin", "frame-004.bin", "error-futurecursor.bin"}) {
    SCOPED_TRACE(name);
    const auto bytes = read_bytes(firehose_dir() / name);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      std::span<const std::byte> cut(bytes.data(), n);
      EXPECT_THROW(decode_event_frame(cut), DecodeError) << "cut at " << n;
    }
  }
}

TEST(EventFrame, ByteFlipsNeverCrash) {
  const auto bytes = read_bytes(firehose_dir() / "frame-004.bin");
  int rejected = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (int bit : {0x01, 0x80}) {
      auto bad = bytes;
      bad[i] ^= static_cast<std::byte>(bit);
      try {
        (void)decode_event_frame(bad);
      } catch (const DecodeError&) {
        ++rejected;
      }
    }
  }
  // Flips inside text, bytes and CID digests still decode (the Verifier
  // catches those); structural ones must not.
  EXPECT_GT(rejected, 100);
}

TEST(EventFrame, UnknownTypeIsPassedThrough) {
  auto body =
      DagCborValue::make_map({"seq", "thing"}, {DagCborValue::make_int(77), DagCborValue::make_text("x")});
  const auto bytes = frame_of(message_header("#labels"), body);
  const EventFrame f = decode_event_frame(bytes);
  ASSERT_TRUE(std::holds_alternative<UnknownEvent>(f.event));
  EXPECT_EQ(str(std::get<UnknownEvent>(f.event).type), "#labels");
  EXPECT_EQ(f.seq(), 77);
  EXPECT_EQ(str(f.body.find("thing")->as_text()), "x");
}

TEST(EventFrame, MissingOrMistypedFieldsNameTheField) {
  const auto check = [](const DagCborValue& header, const DagCborValue& body, const std::string& field) {
    const auto bytes = frame_of(header, body);
    try {
      (void)decode_event_frame(bytes);
      ADD_FAILURE() << "accepted, expected an error about " << field;
    } catch (const DecodeError& e) {
      EXPECT_EQ(e.field(), field) << e.what();
      EXPECT_TRUE(e.offset());
    }
  };
  const auto text = DagCborValue::make_text;
  const auto num = DagCborValue::make_int;
  check(message_header("#identity"), DagCborValue::make_map({"seq", "time"}, {num(1), text("t")}), "did");
  check(message_header("#identity"),
        DagCborValue::make_map({"seq", "did", "time"}, {text("1"), text("did:plc:x"), text("t")}), "seq");
  check(message_header("#identity"),
        DagCborValue::make_map({"seq", "did", "time"}, {num(-5), text("did:plc:x"), text("t")}), "seq");
  check(message_header("#account"),
        DagCborValue::make_map({"seq", "did", "time"}, {num(1), text("did:plc:x"), text("t")}), "active");
  check(DagCborValue::make_map({"op"}, {num(1)}), DagCborValue::make_map({}, {}), "t");
  check(DagCborValue::make_map({"op", "t"}, {num(2), text("#x")}), DagCborValue::make_map({}, {}), "op");
  check(DagCborValue::make_map({"op"}, {num(-1)}), DagCborValue::make_map({"message"}, {text("m")}), "error");

  // A #commit whose first op says delete but carries a CID.
  const auto bytes = read_bytes(firehose_dir() / "frame-010.bin");
  const EventFrame f = decode_event_frame(bytes);
  std::vector<std::string_view> keys = f.body.keys();
  std::vector<DagCborValue> values = f.body.items();
  const auto& commit = std::get<CommitEvent>(f.event);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] != "ops") continue;
    auto op = DagCborValue::make_map({"action", "path", "cid"}, {text("delete"), text(commit.ops[0].path),
                                                                 DagCborValue::make_link(commit.commit)});
    values[i] = DagCborValue::make_list({op});
  }
  check(f.header, DagCborValue::make_map(keys, values), "ops[0].cid");
}

TEST(EventFrame, NonCanonicalBodyIsRejectedWithItsOffset) {
  // Header fine, body map with keys out of canonical order.
  std::vector<std::byte> bytes = dag_cbor_encode(message_header("#info"));
  const std::size_t body_at = bytes.size();
  for (int b : std::initializer_list<int>{0xA2, 0x67, 'm', 'e', 's', 's', 'a', 'g', 'e', 0x61, 'x', 0x64, 'n',
                                          'a', 'm', 'e', 0x61, 'y'})
    bytes.push_back(static_cast<std::byte>(b));
  try {
    (void)decode_event_frame(bytes);
    FAIL() << "accepted";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("canonical order"), std::string::npos) << e.what();
    ASSERT_TRUE(e.offset());
    EXPECT_GT(*e.offset(), body_at);
  }
}

TEST(EventFrame, OversizedFrameIsRejectedBeforeDecoding) {
  const auto bytes = read_bytes(firehose_dir() / "frame-013.bin");
  FrameOptions small;
  small.max_frame_bytes = 1000;
  EXPECT_THROW(decode_event_frame(bytes, small), DecodeError);
  EXPECT_NO_THROW(decode_event_frame(bytes));
}

TEST(DagCborJson, EncodesTheDataModelCanonically) {
  const auto enc = [](std::string_view json) {
    const auto out = dag_cbor_encode_json(boost::json::parse(json));
    std::string hex;
    for (auto b : out) {
      static const char* d = "0123456789abcdef";
      hex += d[std::to_integer<int>(b) >> 4];
      hex += d[std::to_integer<int>(b) & 15];
    }
    return hex;
  };
  EXPECT_EQ(enc(R"({"b":1,"a":2,"aa":3})"),
            "a3616102616201626161"
            "03");
  EXPECT_EQ(enc("[true,false,null,-1,-25,24]"),
            "86f5f4f620381818"
            "18");
  EXPECT_EQ(enc(R"({"$bytes":"AAE"})"), "420001");
  EXPECT_EQ(enc("9223372036854775807"), "1b7fffffffffffffff");
  EXPECT_EQ(enc(R"({"$link":"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"})"),
            "d82a582500015512"
            "20e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // Objects that only look like links or bytes are ordinary maps.
  EXPECT_EQ(enc(R"({"$link":"x","y":1})"),
            "a26179016524"
            "6c696e6b6178");
  for (const char* bad : {"1.5", "18446744073709551615", R"({"$link":"nope"})", R"({"$bytes":"!!"})",
                          R"({"a":[1,{"b":2.0}]})"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(dag_cbor_encode_json(boost::json::parse(bad)), InvalidArgument);
  }
  try {
    dag_cbor_encode_json(boost::json::parse(R"({"a":[1,{"b":2.5}]})"));
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("a[1].b"), std::string::npos) << e.what();
  }
}

// A CBOR map {"$bytes": "AAE"} is a map, but its JSON form reads back as
// bytes: the JSON data model reserves these keys. (fuzz_dag_cbor found this
// with fuzz/corpus/dag_cbor/regress-bytes-lookalike-map; the round-trip
// check there now allows exactly this.)
TEST(DagCborJson, MapsThatLookLikeBytesOrLinksReadBackAsThem) {
  const auto map = DagCborValue::make_map({"$bytes"}, {DagCborValue::make_text("AAE")});
  const auto cbor = dag_cbor_encode(map);
  const auto json = dag_cbor_to_json(dag_cbor_decode(cbor));
  EXPECT_EQ(boost::json::serialize(json), R"({"$bytes":"AAE"})");
  const auto back = dag_cbor_decode(dag_cbor_encode_json(json));
  EXPECT_EQ(back.kind(), DagCborValue::Kind::bytes);
  EXPECT_EQ(back.as_bytes().size(), 2u);
}

}  // namespace
}  // namespace atdata::atproto
