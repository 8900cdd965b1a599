#pragma once
// `ac.foundation.dataset.sampleSchema` records: the field
// list of a sample type, as Python atdata's publisher writes it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "atdata/atmosphere/datetime.hpp"

namespace atdata::atmosphere {

enum class SchemaFieldKind { primitive, ndarray, array, ref };
enum class Primitive { str, int_, float_, bool_, bytes };

// "primitive", "ndarray", "array", "ref" / "str", "int", "float", "bool", "bytes".
std::string_view to_string(SchemaFieldKind k) noexcept;
std::string_view to_string(Primitive p) noexcept;

// The non-null type of a field. Optionality lives on SchemaFieldDef.
struct SchemaFieldType {
  SchemaFieldKind kind = SchemaFieldKind::primitive;
  Primitive primitive = Primitive::str;  // kind == primitive
  std::optional<std::string> dtype;      // kind == ndarray; numpy name, e.g. "float32"
  // kind == ndarray; nullopt entries are unknown dimensions. Written only when non-empty.
  std::optional<std::vector<std::optional<std::int64_t>>> shape;
  std::string ref;                               // kind == ref: AT-URI of another schema
  std::shared_ptr<const SchemaFieldType> items;  // kind == array; null = unspecified item type

  static SchemaFieldType of(Primitive p);
  static SchemaFieldType ndarray(
      std::optional<std::string> dtype = std::string("float32"),
      std::optional<std::vector<std::optional<std::int64_t>>> shape = std::nullopt);
  static SchemaFieldType array(SchemaFieldType items);
  static SchemaFieldType array_of_any();
  static SchemaFieldType reference(std::string schema_uri);

  // `{"$type": "ac.foundation.dataset.schemaType#<kind>", …}`.
  boost::json::object to_json() const;
  // Accepts any `$type` prefix (kind = text after the last '#', else the `kind`
  // member). `path` names this object in errors ("fields[2].fieldType").
  static SchemaFieldType from_json(const boost::json::value& v, std::string_view path);

  friend bool operator==(const SchemaFieldType& a, const SchemaFieldType& b);
};

struct SchemaFieldDef {
  std::string name;
  SchemaFieldType field_type;
  bool optional = false;
  std::string description;  // written only when non-empty

  friend bool operator==(const SchemaFieldDef&, const SchemaFieldDef&) = default;
};

// How a schema record was stored; records read from the later JSON-Schema form
// (`schemaType: "jsonSchema"`) are converted to the field list on read.
enum class SchemaFormat { fields, json_schema };

struct SchemaRecord {
  std::string name;
  std::string version = "1.0.0";
  std::vector<SchemaFieldDef> fields;
  std::string description;  // written only when non-empty
  Timestamp created_at = now_utc();
  boost::json::object metadata;                // copied verbatim; written only when non-empty
  SchemaFormat format = SchemaFormat::fields;  // informational, set by from_record

  // The record object: Python atdata's members in its order (`fields` is what
  // its readers use), plus what the lexicon requires, `schemaType:
  // "jsonSchema"` and a JSON-Schema `schema` of the same fields. Throws
  // atdata::InvalidArgument if `metadata` holds a floating-point number (the
  // ATProto data model has none).
  boost::json::object to_record() const;

  // Reads Python atdata's form and the later `ac.foundation.dataset.schema` /
  // `science.alt.dataset.schema` forms (fields array or JSON Schema).
  // Throws atdata::RecordError naming the missing or mistyped member.
  static SchemaRecord from_record(const boost::json::value& record);

  friend bool operator==(const SchemaRecord& a, const SchemaRecord& b);
};

}  // namespace atdata::atmosphere
