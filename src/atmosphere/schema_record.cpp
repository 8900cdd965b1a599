#include "atdata/atmosphere/schema_record.hpp"

#include <algorithm>

#include <boost/json/array.hpp>

#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/error.hpp"
#include "atmosphere/json_reader.hpp"

namespace atdata::atmosphere {

namespace json = boost::json;
using detail::ObjectReader;

namespace {

constexpr std::string_view kWhat = "schema record";
// Nested `items` deeper than this is hostile, not a real schema.
constexpr int kMaxDepth = 32;

std::string type_tag(SchemaFieldKind k) {
  std::string s(nsid::kSchemaType);
  s += '#';
  s += to_string(k);
  return s;
}

std::optional<SchemaFieldKind> parse_kind(std::string_view s) {
  if (s == "primitive") return SchemaFieldKind::primitive;
  if (s == "ndarray") return SchemaFieldKind::ndarray;
  if (s == "array") return SchemaFieldKind::array;
  if (s == "ref") return SchemaFieldKind::ref;
  return std::nullopt;
}

std::optional<Primitive> parse_primitive(std::string_view s) {
  if (s == "str") return Primitive::str;
  if (s == "int") return Primitive::int_;
  if (s == "float") return Primitive::float_;
  if (s == "bool") return Primitive::bool_;
  if (s == "bytes") return Primitive::bytes;
  return std::nullopt;
}

SchemaFieldType field_type_from_json(const json::value& v, const std::string& path, int depth) {
  if (depth > kMaxDepth)
    throw RecordError(path, std::string(kWhat) + ": member '" + path + "' is nested too deeply");
  ObjectReader r(v, kWhat, path);
  std::string kind_text;
  std::string kind_member = "$type";
  auto type = r.optional_string("$type");
  if (type && type->find('#') != std::string::npos) {
    kind_text = type->substr(type->rfind('#') + 1);
  } else {
    kind_member = "kind";
    auto k = r.optional_string("kind");
    if (!k) {
      if (type) r.fail("$type", "has no '#<kind>' suffix and there is no 'kind' member: '" + *type + "'");
      detail::fail_missing(kWhat, r.member_path("$type"));
    }
    kind_text = *k;
  }
  auto kind = parse_kind(kind_text);
  if (!kind) r.fail(kind_member, "is invalid: Unknown field type kind: " + kind_text);

  SchemaFieldType ft;
  ft.kind = *kind;
  switch (*kind) {
    case SchemaFieldKind::primitive: {
      // Python atdata's reader defaults a missing primitive to "str".
      std::string name = r.optional_string("primitive").value_or("str");
      auto p = parse_primitive(name);
      if (!p) r.fail("primitive", "is invalid: Unknown primitive type: " + name);
      ft.primitive = *p;
      break;
    }
    case SchemaFieldKind::ndarray: {
      ft.dtype = r.optional_string("dtype");
      if (const json::array* shape = r.optional_array("shape")) {
        std::vector<std::optional<std::int64_t>> dims;
        dims.reserve(shape->size());
        for (std::size_t i = 0; i < shape->size(); ++i) {
          const json::value& d = (*shape)[i];
          if (d.is_null()) {
            dims.emplace_back();
          } else if (d.is_int64()) {
            dims.emplace_back(d.get_int64());
          } else {
            detail::fail_type(kWhat, detail::index_path(r.member_path("shape"), i), "an integer or null", d);
          }
        }
        ft.shape = std::move(dims);
      }
      break;
    }
    case SchemaFieldKind::array:
      if (const json::value* items = r.find("items"); items && !items->is_null()) {
        ft.items = std::make_shared<const SchemaFieldType>(
            field_type_from_json(*items, r.member_path("items"), depth + 1));
      }
      break;
    case SchemaFieldKind::ref:
      ft.ref = r.optional_string("ref").value_or("");
      break;
  }
  return ft;
}

// Later upstream JSON-Schema property → field type (mirrors its reader: an
// ndarray `$ref`, string/byte, integer, number, boolean, array; anything else
// is read as a string).
SchemaFieldType json_schema_prop_to_field_type(const json::value& v, const std::string& path, int depth) {
  if (depth > kMaxDepth)
    throw RecordError(path, std::string(kWhat) + ": member '" + path + "' is nested too deeply");
  ObjectReader r(v, kWhat, path);
  if (auto ref = r.optional_string("$ref"); ref && ref->find("ndarray") != std::string::npos) {
    SchemaFieldType ft = SchemaFieldType::ndarray(std::nullopt);
    // Not in the lexicon, but keep a dtype if a writer recorded one.
    if (auto dt = r.optional_string("dtype")) ft.dtype = *dt;
    return ft;
  }
  std::string type = r.optional_string("type").value_or("");
  if (type == "string") {
    auto format = r.optional_string("format");
    auto enc = r.optional_string("contentEncoding");
    return SchemaFieldType::of((format == "byte" || enc == "base64") ? Primitive::bytes : Primitive::str);
  }
  if (type == "integer") return SchemaFieldType::of(Primitive::int_);
  if (type == "number") return SchemaFieldType::of(Primitive::float_);
  if (type == "boolean") return SchemaFieldType::of(Primitive::bool_);
  if (type == "array") {
    const json::value* items = r.find("items");
    if (items && !items->is_null()) {
      return SchemaFieldType::array(
          json_schema_prop_to_field_type(*items, r.member_path("items"), depth + 1));
    }
    return SchemaFieldType::array(SchemaFieldType::of(Primitive::str));
  }
  return SchemaFieldType::of(Primitive::str);
}

void read_json_schema_fields(const ObjectReader& r, SchemaRecord& out) {
  if (!r.optional_object("schema")) detail::fail_missing(kWhat, "schema");
  ObjectReader s(*r.find("schema"), kWhat, "schema");
  const json::value* body_v = r.find("schema");
  std::string body_path = "schema";
  if (const json::value* nested = s.find("schemaBody"); nested && !nested->is_null()) {
    body_v = nested;
    body_path = "schema.schemaBody";
  }
  ObjectReader body(*body_v, kWhat, body_path);
  const json::object* props = body.optional_object("properties");
  if (!props) detail::fail_missing(kWhat, body.member_path("properties"));
  std::vector<std::string> required;
  if (const json::array* req = body.optional_array("required")) {
    for (std::size_t i = 0; i < req->size(); ++i) {
      required.push_back(
          detail::string_at((*req)[i], kWhat, detail::index_path(body.member_path("required"), i)));
    }
  }
  std::string props_path = body.member_path("properties");
  for (const auto& kv : *props) {
    SchemaFieldDef f;
    f.name = std::string(kv.key());
    f.field_type = json_schema_prop_to_field_type(kv.value(), detail::join_path(props_path, kv.key()), 0);
    f.optional = std::find(required.begin(), required.end(), f.name) == required.end();
    if (const json::object* po = kv.value().if_object()) {
      if (auto d = po->if_contains("description"); d && d->is_string())
        f.description = std::string(d->get_string());
    }
    out.fields.push_back(std::move(f));
  }
  out.format = SchemaFormat::json_schema;
}

// Where the seed-era ndarray shim lives: JSON-Schema properties of ndarray
// fields `$ref` its `ndarray` definition (the later upstream writer's form).
constexpr std::string_view kNdarrayShimRef =
    "https://foundation.ac/schemas/atdata-ndarray-bytes/1.0.0#/$defs/ndarray";
constexpr std::string_view kJsonSchemaDraft7 = "http://json-schema.org/draft-07/schema#";

bool has_ndarray(const SchemaFieldType& ft) {
  if (ft.kind == SchemaFieldKind::ndarray) return true;
  return ft.kind == SchemaFieldKind::array && ft.items && has_ndarray(*ft.items);
}

// The JSON-Schema property for a field type: what read_json_schema_fields
// (and the later upstream reader) maps back to the same type.
json::object json_schema_property(const SchemaFieldType& ft) {
  json::object p;
  switch (ft.kind) {
    case SchemaFieldKind::primitive:
      switch (ft.primitive) {
        case Primitive::str:
          p["type"] = "string";
          break;
        case Primitive::int_:
          p["type"] = "integer";
          break;
        case Primitive::float_:
          p["type"] = "number";
          break;
        case Primitive::bool_:
          p["type"] = "boolean";
          break;
        case Primitive::bytes:
          p["type"] = "string";
          p["format"] = "byte";
          p["contentEncoding"] = "base64";
          break;
      }
      break;
    case SchemaFieldKind::ndarray:
      p["$ref"] = kNdarrayShimRef;
      if (ft.dtype) p["dtype"] = *ft.dtype;
      break;
    case SchemaFieldKind::array:
      p["type"] = "array";
      if (ft.items) p["items"] = json_schema_property(*ft.items);
      break;
    case SchemaFieldKind::ref:
      p["$ref"] = ft.ref;
      break;
  }
  return p;
}

// The lexicon's `schema` member (`#jsonSchemaFormat`) for the field list.
json::object json_schema_of(const std::vector<SchemaFieldDef>& fields) {
  json::object props;
  json::array required;
  bool ndarrays = false;
  for (const SchemaFieldDef& f : fields) {
    json::object p = json_schema_property(f.field_type);
    if (!f.description.empty()) p["description"] = f.description;
    props[f.name] = std::move(p);
    if (!f.optional) required.emplace_back(f.name);
    ndarrays = ndarrays || has_ndarray(f.field_type);
  }
  json::object s;
  s["$type"] = std::string(nsid::kSampleSchema) + "#jsonSchemaFormat";
  s["$schema"] = kJsonSchemaDraft7;
  s["type"] = "object";
  s["properties"] = std::move(props);
  if (!required.empty()) s["required"] = std::move(required);
  if (ndarrays) s["arrayFormatVersions"] = json::object{{"ndarrayBytes", "1.0.0"}};
  return s;
}

}  // namespace

std::string_view to_string(SchemaFieldKind k) noexcept {
  switch (k) {
    case SchemaFieldKind::primitive:
      return "primitive";
    case SchemaFieldKind::ndarray:
      return "ndarray";
    case SchemaFieldKind::array:
      return "array";
    case SchemaFieldKind::ref:
      return "ref";
  }
  return "";
}

std::string_view to_string(Primitive p) noexcept {
  switch (p) {
    case Primitive::str:
      return "str";
    case Primitive::int_:
      return "int";
    case Primitive::float_:
      return "float";
    case Primitive::bool_:
      return "bool";
    case Primitive::bytes:
      return "bytes";
  }
  return "";
}

SchemaFieldType SchemaFieldType::of(Primitive p) {
  SchemaFieldType ft;
  ft.kind = SchemaFieldKind::primitive;
  ft.primitive = p;
  return ft;
}

SchemaFieldType SchemaFieldType::ndarray(std::optional<std::string> dtype,
                                         std::optional<std::vector<std::optional<std::int64_t>>> shape) {
  SchemaFieldType ft;
  ft.kind = SchemaFieldKind::ndarray;
  ft.dtype = std::move(dtype);
  ft.shape = std::move(shape);
  return ft;
}

SchemaFieldType SchemaFieldType::array(SchemaFieldType items) {
  SchemaFieldType ft;
  ft.kind = SchemaFieldKind::array;
  ft.items = std::make_shared<const SchemaFieldType>(std::move(items));
  return ft;
}

SchemaFieldType SchemaFieldType::array_of_any() {
  SchemaFieldType ft;
  ft.kind = SchemaFieldKind::array;
  return ft;
}

SchemaFieldType SchemaFieldType::reference(std::string schema_uri) {
  SchemaFieldType ft;
  ft.kind = SchemaFieldKind::ref;
  ft.ref = std::move(schema_uri);
  return ft;
}

bool operator==(const SchemaFieldType& a, const SchemaFieldType& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case SchemaFieldKind::primitive:
      return a.primitive == b.primitive;
    case SchemaFieldKind::ndarray:
      return a.dtype == b.dtype && a.shape == b.shape;
    case SchemaFieldKind::ref:
      return a.ref == b.ref;
    case SchemaFieldKind::array:
      if (!a.items || !b.items) return !a.items && !b.items;
      return *a.items == *b.items;
  }
  return false;
}

json::object SchemaFieldType::to_json() const {
  json::object o;
  o["$type"] = type_tag(kind);
  switch (kind) {
    case SchemaFieldKind::primitive:
      o["primitive"] = to_string(primitive);
      break;
    case SchemaFieldKind::ndarray:
      if (dtype) o["dtype"] = *dtype;
      if (shape && !shape->empty()) {
        json::array dims;
        for (const auto& d : *shape) {
          if (d) {
            dims.emplace_back(*d);
          } else {
            dims.emplace_back(nullptr);
          }
        }
        o["shape"] = std::move(dims);
      }
      break;
    case SchemaFieldKind::array:
      if (items) o["items"] = items->to_json();
      break;
    case SchemaFieldKind::ref:
      if (!ref.empty()) o["ref"] = ref;
      break;
  }
  return o;
}

SchemaFieldType SchemaFieldType::from_json(const json::value& v, std::string_view path) {
  return field_type_from_json(v, std::string(path), 0);
}

json::object SchemaRecord::to_record() const {
  json::object o;
  o["$type"] = nsid::kSampleSchema;
  o["name"] = name;
  o["version"] = version;
  json::array fs;
  fs.reserve(fields.size());
  for (const SchemaFieldDef& f : fields) {
    json::object fo;
    fo["name"] = f.name;
    fo["fieldType"] = f.field_type.to_json();
    fo["optional"] = f.optional;
    if (!f.description.empty()) fo["description"] = f.description;
    fs.emplace_back(std::move(fo));
  }
  o["fields"] = std::move(fs);
  // What the lexicon requires, describing the same fields: readers of the
  // seed form use `fields` and ignore these, JSON-Schema readers use these.
  o["schemaType"] = "jsonSchema";
  o["schema"] = json_schema_of(fields);
  o["createdAt"] = format_created_at(created_at);
  if (!description.empty()) o["description"] = description;
  if (!metadata.empty()) {
    json::value m(metadata);
    detail::check_no_floats(m, "metadata");
    o["metadata"] = std::move(m);
  }
  return o;
}

SchemaRecord SchemaRecord::from_record(const json::value& record) {
  ObjectReader r(record, kWhat, "");
  detail::require_record_type(r, RecordKind::schema, "schema");
  if (const json::value* v = r.find("atdataSchemaVersion")) {
    if (!v->is_int64()) detail::fail_type(kWhat, "atdataSchemaVersion", "an integer", *v);
    if (v->get_int64() > 1) {
      r.fail("atdataSchemaVersion",
             "is " + std::to_string(v->get_int64()) + "; this reader supports schema record version 1");
    }
  }

  SchemaRecord out;
  out.name = r.required_string("name");
  out.version = r.required_string("version");
  out.created_at = detail::required_datetime(r, "createdAt");
  out.description = r.optional_string("description").value_or("");

  const json::value* fields_v = r.find("fields");
  bool json_schema = r.optional_string("schemaType") == std::string("jsonSchema");
  if ((fields_v == nullptr || fields_v->is_null()) && (json_schema || r.find("schema"))) {
    read_json_schema_fields(r, out);
  } else {
    const json::array& fs = r.required_array("fields");
    out.fields.reserve(fs.size());
    for (std::size_t i = 0; i < fs.size(); ++i) {
      ObjectReader f(fs[i], kWhat, detail::index_path("fields", i));
      SchemaFieldDef def;
      def.name = f.required_string("name");
      def.field_type = field_type_from_json(f.required("fieldType"), f.member_path("fieldType"), 0);
      def.optional = f.optional_bool("optional", false);
      def.description = f.optional_string("description").value_or("");
      out.fields.push_back(std::move(def));
    }
  }
  if (const json::object* m = r.optional_object("metadata")) out.metadata = *m;
  return out;
}

bool operator==(const SchemaRecord& a, const SchemaRecord& b) {
  return a.name == b.name && a.version == b.version && a.fields == b.fields &&
         a.description == b.description && a.created_at == b.created_at && a.metadata == b.metadata;
}

}  // namespace atdata::atmosphere
