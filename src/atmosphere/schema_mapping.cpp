#include "atdata/atmosphere/schema_mapping.hpp"

#include "atdata/error.hpp"

namespace atdata::atmosphere {

namespace {

// Deeper list nesting than this is not a real sample type.
constexpr int kMaxDepth = 32;

SchemaFieldType record_type_of(const atdata::FieldType& t, const std::string& field, int depth) {
  if (depth > kMaxDepth)
    throw TypeError("Unsupported type for schema field: " + field + " (nested too deeply)");
  switch (t.kind) {
    case atdata::FieldKind::str:
      return SchemaFieldType::of(Primitive::str);
    case atdata::FieldKind::int_:
      return SchemaFieldType::of(Primitive::int_);
    case atdata::FieldKind::float_:
      return SchemaFieldType::of(Primitive::float_);
    case atdata::FieldKind::bool_:
      return SchemaFieldType::of(Primitive::bool_);
    case atdata::FieldKind::bytes:
      return SchemaFieldType::of(Primitive::bytes);
    case atdata::FieldKind::ndarray:
      return SchemaFieldType::ndarray(t.dtype.empty() ? std::string("float32") : t.dtype);
    case atdata::FieldKind::list:
      if (!t.items) return SchemaFieldType::array_of_any();
      return SchemaFieldType::array(record_type_of(*t.items, field, depth + 1));
    case atdata::FieldKind::any:
      break;
  }
  throw TypeError("Unsupported type for schema field: " + field + " (" + t.describe() + ")");
}

atdata::FieldType sample_type_of(const SchemaFieldType& t, const std::string& field, int depth) {
  if (depth > kMaxDepth) throw SchemaError(field, "field type nested too deeply");
  switch (t.kind) {
    case SchemaFieldKind::primitive:
      switch (t.primitive) {
        case Primitive::str:
          return atdata::FieldType::primitive(atdata::FieldKind::str);
        case Primitive::int_:
          return atdata::FieldType::primitive(atdata::FieldKind::int_);
        case Primitive::float_:
          return atdata::FieldType::primitive(atdata::FieldKind::float_);
        case Primitive::bool_:
          return atdata::FieldType::primitive(atdata::FieldKind::bool_);
        case Primitive::bytes:
          return atdata::FieldType::primitive(atdata::FieldKind::bytes);
      }
      break;
    case SchemaFieldKind::ndarray:
      return atdata::FieldType::ndarray(t.dtype.value_or(""));
    case SchemaFieldKind::array:
      if (!t.items) return atdata::FieldType::list_of_any();
      return atdata::FieldType::list(sample_type_of(*t.items, field, depth + 1));
    case SchemaFieldKind::ref:
      throw SchemaError(field,
                        "Schema references ('ref') are not yet supported for dynamic type generation. "
                        "Referenced schema: " +
                            t.ref);
  }
  throw SchemaError(field, "Unknown field type kind");
}

}  // namespace

SchemaRecord schema_record_from(const SampleSchema& schema, const SchemaPublishOptions& options) {
  SchemaRecord rec;
  rec.name = options.name.empty() ? schema.name() : options.name;
  rec.version = options.version;
  rec.description = options.description;
  rec.metadata = options.metadata;
  rec.fields.reserve(schema.size());
  for (const auto& f : schema.fields()) {
    rec.fields.push_back(SchemaFieldDef{f.name, record_type_of(f.type, f.name, 0), f.optional, {}});
  }
  return rec;
}

SampleSchema to_sample_schema(const SchemaRecord& record) {
  if (record.name.empty()) throw SchemaError("", "Schema must have a 'name' field");
  if (record.fields.empty()) throw SchemaError("", "Schema must have at least one field");
  std::vector<atdata::FieldDef> fields;
  fields.reserve(record.fields.size());
  for (std::size_t i = 0; i < record.fields.size(); ++i) {
    const SchemaFieldDef& f = record.fields[i];
    if (f.name.empty())
      throw SchemaError("fields[" + std::to_string(i) + "]", "Each field must have a 'name'");
    fields.push_back(atdata::FieldDef{f.name, sample_type_of(f.field_type, f.name, 0), f.optional});
  }
  try {
    return SampleSchema(record.name, std::move(fields), record.version);
  } catch (const InvalidArgument& e) {
    // Duplicate field names (possible in a hand-made record).
    throw SchemaError("", e.what());
  }
}

}  // namespace atdata::atmosphere
