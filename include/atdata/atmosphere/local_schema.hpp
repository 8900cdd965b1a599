#pragma once
// Schemas in the local index, as Python atdata's `Index.publish_schema` stores
// them: under the reference `local://schemas/<kind>@<version>`, where the kind
// is Python's `module.Class` (C++ code states it: SchemaPublishOptions::name),
// as JSON text laid out by Python's `json.dumps` (", " and ": " separators,
// ASCII only), with `local#…` field types and `description: null` when none.

#include <string>
#include <string_view>

#include "atdata/atmosphere/schema_record.hpp"

namespace atdata::atmosphere {

class LocalSchemaRef {
 public:
  LocalSchemaRef(std::string kind, std::string version)
      : kind_(std::move(kind)), version_(std::move(version)) {}

  // "local://schemas/<kind>@<version>", split at the last '@'. Throws
  // InvalidArgument with Python's messages ("Invalid local schema reference:
  // …", "Schema reference must include version (@version): …").
  static LocalSchemaRef parse(std::string_view ref);

  const std::string& kind() const noexcept { return kind_; }
  const std::string& version() const noexcept { return version_; }
  std::string str() const { return "local://schemas/" + kind_ + "@" + version_; }
  // The key suffix after "LocalSchema:".
  std::string key() const { return kind_ + "@" + version_; }

 private:
  std::string kind_, version_;
};

// The stored JSON text. `record.name` should be the bare class name (Python
// stores `T.__name__`); ndarray fields keep their dtype, never a shape.
std::string local_schema_json(const SchemaRecord& record);

// Reads stored JSON text (Python's or ours). Throws atdata::RecordError naming
// the member that is missing or mistyped, DecodeError when it is not JSON.
SchemaRecord parse_local_schema_json(std::string_view text);

// Python's json.dumps(value) with default arguments (", " / ": ", non-ASCII
// as \uXXXX escapes with surrogate pairs).
std::string python_json_dumps(const boost::json::value& value);

}  // namespace atdata::atmosphere
