#pragma once
// `ac.foundation.dataset.lens` records: a transform between
// two schemas, published as references to code, never as code.

#include <optional>
#include <string>
#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "atdata/atmosphere/datetime.hpp"

namespace atdata::atmosphere {

// Not an aggregate: it is often written inline in options passed to a
// co_await'ed call, where GCC 12 corrupts aggregate temporaries.
struct CodeReference {
  CodeReference() = default;
  CodeReference(std::string repository_, std::string commit_, std::string path_)
      : repository(std::move(repository_)), commit(std::move(commit_)), path(std::move(path_)) {}

  std::string repository;  // git URL
  std::string commit;
  std::string path;  // "module.path:function"

  boost::json::object to_json() const;
  static CodeReference from_json(const boost::json::value& v, std::string_view path);
  friend bool operator==(const CodeReference&, const CodeReference&) = default;
};

struct LensRecord {
  std::string name;
  std::string source_schema;  // AT-URI
  std::string target_schema;  // AT-URI
  std::string description;    // written only when non-empty
  std::optional<CodeReference> getter_code;
  std::optional<CodeReference> putter_code;
  Timestamp created_at = now_utc();
  // Later upstream (science.alt.dataset.lens) additions; written only when non-empty.
  std::string source_schema_version;
  std::string target_schema_version;

  boost::json::object to_record() const;
  // Reads `ac.foundation.dataset.lens` and `science.alt.dataset.lens`.
  static LensRecord from_record(const boost::json::value& record);

  friend bool operator==(const LensRecord&, const LensRecord&) = default;
};

}  // namespace atdata::atmosphere
