// Value DOM, SampleSchema and DynamicSample: schema-driven and schemaless
// decoding, exact re-packing, error reporting.

#include <gtest/gtest.h>

#include "atdata/core/dynamic_sample.hpp"
#include "atdata/core/sample.hpp"
#include "support/hex.hpp"
#include "support/spec_examples.hpp"

using namespace atdata;
using atdata::test::from_hex;
using atdata::test::to_hex;

namespace {

std::shared_ptr<const SampleSchema> worked_schema() {
  return std::make_shared<const SampleSchema>(
      "Worked", std::vector<FieldDef>{
                    {"image", FieldType::ndarray("float32"), false},
                    {"label", FieldType::primitive(FieldKind::str), false},
                    {"score", FieldType::primitive(FieldKind::float_), false},
                    {"ok", FieldType::primitive(FieldKind::bool_), false},
                    {"raw", FieldType::primitive(FieldKind::bytes), false},
                    {"tags", FieldType::list(FieldType::primitive(FieldKind::str)), false},
                    {"extra", FieldType::primitive(FieldKind::str), true},
                    {"count", FieldType::primitive(FieldKind::int_), false},
                    {"neg", FieldType::primitive(FieldKind::int_), false},
                });
}

SharedBytes hexsb(std::string_view hex) {
  return SharedBytes::copy_of(from_hex(hex));
}

}  // namespace

TEST(Value, MetadataMapEncoding) {
  const Value v(Map{{"split", Value("train")}, {"samples", Value(10000)}});
  const auto packed = msgpack::pack_value(v);
  EXPECT_EQ(to_hex(packed), "82a573706c6974a5747261696ea773616d706c6573cd2710");
  const auto back = msgpack::unpack_value(SharedBytes::copy_of(packed));
  EXPECT_EQ(back, v);
  EXPECT_EQ(back.find("samples")->as_int(), 10000);
  EXPECT_EQ(back.find("nope"), nullptr);
  EXPECT_EQ(to_display_string(back), R"({"split": "train", "samples": 10000})");
}

TEST(Value, KindsAndConversions) {
  EXPECT_EQ(Value(std::uint64_t{5}), Value(5));  // normalized integer storage
  EXPECT_EQ(Value(std::numeric_limits<std::uint64_t>::max()).as_uint(),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_THROW(Value(std::numeric_limits<std::uint64_t>::max()).as_int(), TypeError);
  EXPECT_THROW(Value(-1).as_uint(), TypeError);
  EXPECT_THROW(Value("x").as_int(), TypeError);
  EXPECT_EQ(Value(3).as_double(), 3.0);
  EXPECT_EQ(Value(300).get<std::int16_t>(), 300);
  EXPECT_THROW(Value(300).get<std::int8_t>(), TypeError);
  EXPECT_EQ((Value(List{Value(1), Value(2)}).get<std::vector<int>>()), (std::vector<int>{1, 2}));
  EXPECT_EQ(Value(nullptr).get<std::optional<int>>(), std::nullopt);
  EXPECT_EQ(Value(7).get<std::optional<int>>(), 7);
  EXPECT_EQ(Value(std::bit_cast<double>(std::uint64_t{0x7ff8000000000001})),
            Value(std::bit_cast<double>(std::uint64_t{0x7ff8000000000001})));
  EXPECT_FALSE(Value(0.0) == Value(-0.0));
  try {
    (void)Value("x").as_bool();
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "expected bool, got str");
  }
}

TEST(Value, DomReadsEveryFamilyAndRejectsBadMaps) {
  const auto v =
      msgpack::unpack_value(hexsb("87a169ca3fc00000a16acd0100a16bd0dfa16cc0a16dc3a16ec40101a16fdc0001a0"));
  const auto& m = v.as_map();
  ASSERT_EQ(m.size(), 7u);
  EXPECT_EQ(m[0].second.as_double(), 1.5);
  EXPECT_EQ(m[1].second.as_int(), 256);
  EXPECT_EQ(m[2].second.as_int(), -33);
  EXPECT_TRUE(m[3].second.is_null());
  EXPECT_TRUE(m[4].second.as_bool());
  EXPECT_TRUE(m[5].second.is_bytes());
  EXPECT_EQ(m[6].second.as_list()[0].as_str(), "");
  // Re-encoding uses the Python families (float64, smallest ints, fixarray).
  EXPECT_EQ(to_hex(msgpack::pack_value(v)),
            "87a169cb3ff8000000000000a16acd0100a16bd0dfa16cc0a16dc3a16ec40101a16f91a0");
  EXPECT_THROW(msgpack::unpack_value(hexsb("810101")), DecodeError);  // int key
  EXPECT_THROW(msgpack::unpack_value(hexsb("c0c0")), DecodeError);    // trailing
  EXPECT_THROW(msgpack::unpack_value(hexsb("dd7fffffff")), DecodeError);
}

TEST(DynamicSample, DecodesAgainstSchemaAndRepacks) {
  const auto sb = hexsb(test::worked_example_hex());
  const auto s = DynamicSample::unpack(worked_schema(), sb);
  ASSERT_EQ(s.size(), 9u);
  EXPECT_EQ(s.field(0).name, "image");
  const NDArray& img = s.at("image").as_ndarray();
  EXPECT_EQ(img.shape()[0], 3);
  EXPECT_TRUE(img.bytes().data() >= sb.data() && img.bytes().data() < sb.data() + sb.size());
  EXPECT_EQ(s.get<std::string>("label"), "cat");
  EXPECT_EQ(s.get<double>("score"), 0.5);
  EXPECT_EQ(s.get<bool>("ok"), true);
  EXPECT_EQ(to_hex(s.get<Bytes>("raw").span()), "0001");
  EXPECT_EQ(s.get<std::vector<std::string>>("tags"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.get<std::optional<std::string>>("extra"), std::nullopt);
  EXPECT_EQ(s.get<int>("count"), 300);
  EXPECT_EQ(s.get<std::int64_t>("neg"), -40);
  EXPECT_EQ(to_hex(s.pack()), test::worked_example_hex());
  // Field errors name the field.
  try {
    (void)s.get<int>("label");
    FAIL();
  } catch (const SchemaError& e) {
    EXPECT_EQ(e.field(), "label");
  }
  EXPECT_THROW((void)s.at("nope"), SchemaError);
}

TEST(DynamicSample, SchemalessKeepsStoredOrderAndBytes) {
  const auto s = DynamicSample::unpack(hexsb(test::worked_example_hex()));
  EXPECT_EQ(s.schema(), nullptr);
  ASSERT_EQ(s.size(), 9u);
  std::vector<std::string> names;
  for (const auto& f : s) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"image", "label", "score", "ok", "raw", "tags", "extra", "count",
                                             "neg"}));
  EXPECT_TRUE(s.at("image").is_bytes());  // no schema: bin stays bytes
  EXPECT_EQ(s.at("image").as_bytes().size(), 140u);
  EXPECT_EQ(to_hex(s.pack()), test::worked_example_hex());
  // Any map order is kept as stored.
  const auto r = DynamicSample::unpack(hexsb("82a16201a16102"));
  EXPECT_EQ(r.field(0).name, "b");
  EXPECT_EQ(to_hex(r.pack()), "82a16201a16102");
  EXPECT_EQ(to_display_string(r.to_value()), R"({"b": 1, "a": 2})");
}

TEST(DynamicSample, SchemaOrderAndOptionalMissing) {
  auto schema = std::make_shared<const SampleSchema>(
      "S", std::vector<FieldDef>{{"a", FieldType::primitive(FieldKind::int_), false},
                                 {"b", FieldType::ndarray(), true},
                                 {"c", FieldType::list_of_any(), false}});
  // Map order b/c/a → stored in schema order; missing optional → null.
  const auto s = DynamicSample::unpack(schema, hexsb("82a16393c0a178cb3ff8000000000000a16105"));
  EXPECT_EQ(s.field(0).name, "a");
  EXPECT_EQ(s.field(0).value.as_int(), 5);
  EXPECT_TRUE(s.at("b").is_null());
  EXPECT_EQ(s.at("c").as_list().size(), 3u);
  EXPECT_EQ(to_hex(s.pack()), "83a16105a162c0a16393c0a178cb3ff8000000000000");
}

TEST(DynamicSample, SchemaErrors) {
  auto schema = worked_schema();
  auto expect_field = [&](std::string_view hex, const std::string& field) {
    try {
      (void)DynamicSample::unpack(schema, hexsb(hex));
      ADD_FAILURE() << "no SchemaError for " << hex;
    } catch (const SchemaError& e) {
      EXPECT_EQ(e.field(), field) << e.what();
    }
  };
  expect_field("81a3626164c0", "bad");                        // unknown key
  expect_field("81a56c6162656ca3636174", "image");            // missing required
  expect_field("81a56c6162656c01", "label");                  // int for str
  expect_field("81a56c6162656cc0", "label");                  // null in required
  expect_field("81a474616773920102", "tags");                 // list[str] of ints
  expect_field("81a5636f756e74cb3ff8000000000000", "count");  // float for int
  // Packing validates values too.
  DynamicSample d(schema);
  try {
    (void)d.pack();
    FAIL();
  } catch (const SchemaError& e) {
    EXPECT_EQ(e.field(), "image");
  }
  EXPECT_THROW(d.set("nope", Value(1)), SchemaError);
  d.set("label", Value(5));
  EXPECT_THROW(check_value(d.at("label"), FieldType::primitive(FieldKind::str), false, "label"), SchemaError);
}

TEST(DynamicSample, BuildAndPackMatchesTypedSchema) {
  auto schema = worked_schema();
  DynamicSample d(schema);
  const float data[] = {1, 2, 3};
  d.set("image", Value(NDArray::from_span(std::span<const float>(data))));
  d.set("label", "cat");
  d.set("score", 0.5);
  d.set("ok", true);
  d.set("raw", Value(Bytes::copy_of(std::string_view("\x00\x01", 2))));
  d.set("tags", Value(List{Value("a"), Value("b")}));
  d.set("count", 300);
  d.set("neg", -40);
  EXPECT_EQ(to_hex(d.pack()), test::worked_example_hex());
}

TEST(SampleSchema, Validation) {
  EXPECT_THROW(SampleSchema("S", {{"a", FieldType::any(), false}, {"a", FieldType::any(), false}}),
               InvalidArgument);
  EXPECT_THROW(SampleSchema("S", {{"", FieldType::any(), false}}), InvalidArgument);
  EXPECT_THROW(FieldType::primitive(FieldKind::list), InvalidArgument);
  SampleSchema s("S", {{"a", FieldType::any(), true}, {"b", FieldType::any(), false}});
  EXPECT_EQ(s.first_required_after_optional(), 1u);
  EXPECT_EQ(primitive_kind_from_name("float"), FieldKind::float_);
  EXPECT_EQ(primitive_kind_from_name("complex"), std::nullopt);
  EXPECT_EQ(FieldType::list(FieldType::list(FieldType::ndarray("int8"))).describe(),
            "list[list[ndarray[int8]]]");
  EXPECT_EQ(FieldType::list(FieldType::primitive(FieldKind::str)),
            FieldType::list(FieldType::primitive(FieldKind::str)));
  EXPECT_FALSE(FieldType::list_of_any() == FieldType::list(FieldType::any()));
}
