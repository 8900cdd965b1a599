#include "atdata/atmosphere/lens_record.hpp"

#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/error.hpp"
#include "atmosphere/json_reader.hpp"

namespace atdata::atmosphere {

namespace json = boost::json;
using detail::ObjectReader;

namespace {
constexpr std::string_view kWhat = "lens record";
}

json::object CodeReference::to_json() const {
  return json::object{{"repository", repository}, {"commit", commit}, {"path", path}};
}

CodeReference CodeReference::from_json(const json::value& v, std::string_view path) {
  ObjectReader r(v, kWhat, std::string(path));
  return CodeReference{r.required_string("repository"), r.required_string("commit"),
                       r.required_string("path")};
}

json::object LensRecord::to_record() const {
  json::object o;
  o["$type"] = nsid::kLens;
  o["name"] = name;
  o["sourceSchema"] = source_schema;
  o["targetSchema"] = target_schema;
  o["createdAt"] = format_created_at(created_at);
  if (!description.empty()) o["description"] = description;
  if (getter_code) o["getterCode"] = getter_code->to_json();
  if (putter_code) o["putterCode"] = putter_code->to_json();
  if (!source_schema_version.empty()) o["sourceSchemaVersion"] = source_schema_version;
  if (!target_schema_version.empty()) o["targetSchemaVersion"] = target_schema_version;
  return o;
}

LensRecord LensRecord::from_record(const json::value& record) {
  ObjectReader r(record, kWhat, "");
  detail::require_record_type(r, RecordKind::lens, "lens");
  LensRecord out;
  out.name = r.required_string("name");
  out.source_schema = r.required_string("sourceSchema");
  out.target_schema = r.required_string("targetSchema");
  out.created_at = detail::required_datetime(r, "createdAt");
  out.description = r.optional_string("description").value_or("");
  if (r.optional_object("getterCode"))
    out.getter_code = CodeReference::from_json(*r.find("getterCode"), "getterCode");
  if (r.optional_object("putterCode"))
    out.putter_code = CodeReference::from_json(*r.find("putterCode"), "putterCode");
  out.source_schema_version = r.optional_string("sourceSchemaVersion").value_or("");
  out.target_schema_version = r.optional_string("targetSchemaVersion").value_or("");
  return out;
}

}  // namespace atdata::atmosphere
