// Boost.Describe struct → schema record (publisher mapping), and schema record
// → run-time SampleSchema (decode_schema) usable to decode packed samples.

#include "atdata/atmosphere/schema_mapping.hpp"

#include <gtest/gtest.h>

#include <boost/describe.hpp>
#include <boost/json/parse.hpp>

#include "atdata/core/dynamic_sample.hpp"
#include "atdata/core/typed_ndarray.hpp"
#include "atdata/error.hpp"

namespace fx {

struct FeatureSample {
  atdata::NDArrayOf<float> features;
  std::int64_t label = 0;
  std::string source;
  std::vector<std::string> tags;
  std::optional<std::string> note;
};
BOOST_DESCRIBE_STRUCT(FeatureSample, (), (features, label, source, tags, note))

struct AllTypes {
  std::string s;
  int i = 0;
  std::uint8_t u8 = 0;
  float f = 0;
  double d = 0;
  bool b = false;
  atdata::Bytes by;
  std::vector<std::byte> raw;
  atdata::NDArray arr;
  atdata::NDArrayOf<std::uint8_t> img;
  atdata::NDArrayOf<double> f64;
  std::vector<std::vector<double>> nested;
  std::optional<atdata::NDArray> maybe_arr;
  std::optional<std::vector<std::int32_t>> maybe_ints;
  std::vector<atdata::NDArrayOf<std::int16_t>> arrs;
};
BOOST_DESCRIBE_STRUCT(AllTypes, (),
                      (s, i, u8, f, d, b, by, raw, arr, img, f64, nested, maybe_arr, maybe_ints, arrs))

struct WithAny {
  std::string name;
  atdata::Value anything;
};
BOOST_DESCRIBE_STRUCT(WithAny, (), (name, anything))

}  // namespace fx

namespace {

namespace json = boost::json;
using namespace atdata::atmosphere;

// The `fields` of the sampleSchema example (a FeatureSample as Python publishes it).
constexpr const char* kFeatureFields = R"([
    {"name": "features",
     "fieldType": {"$type": "ac.foundation.dataset.schemaType#ndarray", "dtype": "float32"},
     "optional": false},
    {"name": "label",
     "fieldType": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "int"},
     "optional": false},
    {"name": "source",
     "fieldType": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "str"},
     "optional": false},
    {"name": "tags",
     "fieldType": {"$type": "ac.foundation.dataset.schemaType#array",
                   "items": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "str"}},
     "optional": false},
    {"name": "note",
     "fieldType": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "str"},
     "optional": true}
  ])";

TEST(SchemaMapping, DescribedStructGivesTheSpecExampleFields) {
  SchemaRecord rec = schema_record_of<fx::FeatureSample>(SchemaPublishOptions()
                                                             .with_description("Feature vectors with labels")
                                                             .with_metadata("source", "training"));
  EXPECT_EQ(rec.name, "FeatureSample");
  EXPECT_EQ(rec.version, "1.0.0");
  json::object out = rec.to_record();
  EXPECT_EQ(out.at("fields"), json::parse(kFeatureFields));
  EXPECT_EQ(out.at("description"), "Feature vectors with labels");
  EXPECT_EQ(out.at("metadata"), json::parse(R"({"source":"training"})"));

  SchemaRecord named = schema_record_of<fx::FeatureSample>(
      SchemaPublishOptions().with_name("CustomName").with_version("2.0.0"));
  EXPECT_EQ(named.name, "CustomName");
  EXPECT_EQ(named.version, "2.0.0");
}

TEST(SchemaMapping, EveryFieldKind) {
  SchemaRecord rec = schema_record_of<fx::AllTypes>();
  ASSERT_EQ(rec.fields.size(), 15u);
  auto type = [&](std::size_t i) { return rec.fields[i].field_type; };
  EXPECT_EQ(type(0), SchemaFieldType::of(Primitive::str));
  EXPECT_EQ(type(1), SchemaFieldType::of(Primitive::int_));
  EXPECT_EQ(type(2), SchemaFieldType::of(Primitive::int_));
  EXPECT_EQ(type(3), SchemaFieldType::of(Primitive::float_));
  EXPECT_EQ(type(4), SchemaFieldType::of(Primitive::float_));
  EXPECT_EQ(type(5), SchemaFieldType::of(Primitive::bool_));
  EXPECT_EQ(type(6), SchemaFieldType::of(Primitive::bytes));
  EXPECT_EQ(type(7), SchemaFieldType::of(Primitive::bytes));
  EXPECT_EQ(type(8), SchemaFieldType::ndarray("float32"));  // untyped NDArray: the publisher default
  EXPECT_EQ(type(9), SchemaFieldType::ndarray("uint8"));    // the true name (no seed "int8" quirk)
  EXPECT_EQ(type(10), SchemaFieldType::ndarray("float64"));
  EXPECT_EQ(type(11), SchemaFieldType::array(SchemaFieldType::array(SchemaFieldType::of(Primitive::float_))));
  EXPECT_EQ(type(12), SchemaFieldType::ndarray("float32"));
  EXPECT_EQ(type(13), SchemaFieldType::array(SchemaFieldType::of(Primitive::int_)));
  EXPECT_EQ(type(14), SchemaFieldType::array(SchemaFieldType::ndarray("int16")));
  for (std::size_t i = 0; i < rec.fields.size(); ++i)
    EXPECT_EQ(rec.fields[i].optional, i == 12 || i == 13) << i;
  // And back: a run-time schema with the same kinds.
  atdata::SampleSchema s = to_sample_schema(rec);
  EXPECT_EQ(s, atdata::schema_of<fx::AllTypes>());
}

TEST(SchemaMapping, AnyFieldIsRejected) {
  try {
    schema_record_of<fx::WithAny>();
    FAIL();
  } catch (const atdata::TypeError& e) {
    EXPECT_NE(std::string(e.what()).find("Unsupported type for schema field: anything"), std::string::npos)
        << e.what();
  }
}

TEST(SchemaMapping, DecodeSchemaDecodesPackedSamples) {
  json::value doc =
      json::parse(std::string(R"({"$type":"ac.foundation.dataset.sampleSchema","name":"FeatureSample",
      "version":"1.0.0","createdAt":"2026-01-17T23:41:50.123456+00:00","fields":)") +
                  kFeatureFields + "}");
  auto schema =
      std::make_shared<const atdata::SampleSchema>(to_sample_schema(SchemaRecord::from_record(doc)));
  EXPECT_EQ(schema->name(), "FeatureSample");
  ASSERT_EQ(schema->size(), 5u);
  EXPECT_EQ(schema->field(0).type.kind, atdata::FieldKind::ndarray);
  EXPECT_EQ(schema->field(3).type,
            atdata::FieldType::list(atdata::FieldType::primitive(atdata::FieldKind::str)));
  EXPECT_TRUE(schema->field(4).optional);

  fx::FeatureSample s;
  const float values[] = {1.5f, -2.0f, 3.25f};
  s.features = atdata::NDArray::from_span(std::span<const float>(values));
  s.label = 7;
  s.source = "synthetic";
  s.tags = {"a", "b"};
  auto packed = atdata::pack(s);
  auto d = atdata::DynamicSample::unpack(schema, std::span<const std::byte>(packed));
  EXPECT_EQ(d.get<std::int64_t>("label"), 7);
  EXPECT_EQ(d.get<std::string>("source"), "synthetic");
  EXPECT_TRUE(d.at("note").is_null());
  const atdata::NDArray& f = d.at("features").as_ndarray();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f.to<float>().view<float>()[2], 3.25f);
}

TEST(SchemaMapping, DecodeSchemaErrors) {
  SchemaRecord rec = schema_record_of<fx::FeatureSample>();
  SchemaRecord no_name = rec;
  no_name.name.clear();
  EXPECT_THROW(
      {
        try {
          to_sample_schema(no_name);
        } catch (const atdata::SchemaError& e) {
          EXPECT_STREQ(e.what(), "Schema must have a 'name' field");
          throw;
        }
      },
      atdata::SchemaError);
  SchemaRecord no_fields = rec;
  no_fields.fields.clear();
  try {
    to_sample_schema(no_fields);
    FAIL();
  } catch (const atdata::SchemaError& e) {
    EXPECT_STREQ(e.what(), "Schema must have at least one field");
  }
  SchemaRecord with_ref = rec;
  with_ref.fields.push_back(
      {"other", SchemaFieldType::reference("at://did:plc:x/ac.foundation.dataset.sampleSchema/y")});
  try {
    to_sample_schema(with_ref);
    FAIL();
  } catch (const atdata::SchemaError& e) {
    EXPECT_EQ(e.field(), "other");
    EXPECT_NE(std::string(e.what()).find("not yet supported"), std::string::npos);
  }
  SchemaRecord dup = rec;
  dup.fields.push_back(dup.fields[0]);
  EXPECT_THROW(to_sample_schema(dup), atdata::SchemaError);
  // An array without items reads as a list of anything.
  SchemaRecord any_list = rec;
  any_list.fields.push_back({"misc", SchemaFieldType::array_of_any()});
  EXPECT_EQ(to_sample_schema(any_list).field(5).type, atdata::FieldType::list_of_any());
}

TEST(TypedNDArray, PacksLikeNDArrayAndChecksTheElementType) {
  fx::FeatureSample s;
  const float values[] = {1, 2};
  s.features = atdata::NDArray::from_span(std::span<const float>(values));
  s.label = 1;
  auto packed = atdata::pack(s);
  auto back = atdata::unpack<fx::FeatureSample>(std::span<const std::byte>(packed));
  EXPECT_EQ(back.features.values()[1], 2.0f);

  // The same fields with a float64 array do not unpack into NDArrayOf<float>.
  const double dv[] = {1, 2};
  std::vector<std::byte> bad;
  {
    atdata::msgpack::Writer w(bad);
    w.write_map_header(5);
    w.write_str("features");
    atdata::FieldCodec<atdata::NDArray>::write(w, atdata::NDArray::from_span(std::span<const double>(dv)));
    w.write_str("label");
    w.write_int(1);
    w.write_str("source");
    w.write_str("");
    w.write_str("tags");
    w.write_array_header(0);
    w.write_str("note");
    w.write_nil();
  }
  try {
    atdata::unpack<fx::FeatureSample>(std::span<const std::byte>(bad));
    FAIL();
  } catch (const atdata::SchemaError& e) {
    EXPECT_EQ(e.field(), "features");
    EXPECT_NE(std::string(e.what()).find("float32"), std::string::npos) << e.what();
  }
  EXPECT_THROW(atdata::NDArrayOf<float>(atdata::NDArray::from_span(std::span<const double>(dv))),
               atdata::TypeError);
}

}  // namespace
