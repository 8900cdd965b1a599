// schema_mismatch: when a published schema can be read as a C++ type.
#include <gtest/gtest.h>

#include "atdata/core/sample_schema.hpp"

namespace atdata {
namespace {

SampleSchema schema(std::string name, std::vector<FieldDef> fields) {
  return SampleSchema(std::move(name), std::move(fields));
}
FieldDef field(std::string name, FieldType t, bool optional = false) {
  FieldDef f;
  f.name = std::move(name);
  f.type = std::move(t);
  f.optional = optional;
  return f;
}

TEST(SchemaMismatch, EqualSchemasAgreeWhateverTheirNamesAndOrder) {
  auto a = schema(
      "A", {field("x", FieldType::ndarray("float32")), field("y", FieldType::primitive(FieldKind::int_))});
  auto b = schema(
      "B", {field("y", FieldType::primitive(FieldKind::int_)), field("x", FieldType::ndarray("uint8"))});
  EXPECT_EQ(schema_mismatch(a, b), std::nullopt);  // dtype is informational
}

TEST(SchemaMismatch, NamesTheFirstDifferenceAndBothTypes) {
  auto reader = schema("FeatureSample", {field("label", FieldType::primitive(FieldKind::int_))});
  auto writer = schema("Other", {field("label", FieldType::primitive(FieldKind::str))});
  EXPECT_EQ(schema_mismatch(reader, writer), "field 'label': int in FeatureSample, str in Other");
  auto missing = schema("Other", {});
  EXPECT_EQ(schema_mismatch(reader, missing), "field 'label' is in FeatureSample but not in Other");
  auto extra = schema("Other", {field("label", FieldType::primitive(FieldKind::int_)),
                                field("more", FieldType::primitive(FieldKind::str))});
  EXPECT_EQ(schema_mismatch(reader, extra), "field 'more' is in Other but not in FeatureSample");
}

TEST(SchemaMismatch, OptionalityAndNestedLists) {
  auto req = schema("R", {field("n", FieldType::primitive(FieldKind::str))});
  auto opt = schema("W", {field("n", FieldType::primitive(FieldKind::str), true)});
  EXPECT_EQ(schema_mismatch(req, opt), "field 'n' is optional in W but required in R");
  EXPECT_EQ(schema_mismatch(opt, req), std::nullopt);  // a reader that allows null reads a required value

  auto lists = schema("R", {field("t", FieldType::list(FieldType::primitive(FieldKind::str)))});
  auto ints = schema("W", {field("t", FieldType::list(FieldType::primitive(FieldKind::int_)))});
  auto any = schema("W", {field("t", FieldType::list_of_any())});
  EXPECT_EQ(schema_mismatch(lists, ints), "field 't': list[str] in R, list[int] in W");
  EXPECT_EQ(schema_mismatch(lists, any), std::nullopt);
}

}  // namespace
}  // namespace atdata
