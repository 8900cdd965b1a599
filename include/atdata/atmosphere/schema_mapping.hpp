#pragma once
// Between run-time sample schemas (atdata::SampleSchema, what a C++ struct
// described with Boost.Describe says) and schema records (what is published).
//
// Publishing: str/int/float/bool/
// bytes → primitive, NDArray → ndarray with its dtype (the true numpy name; the
// uint8→"int8" substring quirk of Python atdata is not reproduced — readers ignore
// dtype), std::vector<T> → array of T, std::optional<T> → optional: true.
// A field of kind `any` (atdata::Value) has no schema type: TypeError.
//
// Reading back (`schema_to_type`): primitive → that kind, ndarray → ndarray
// (dtype kept as information), array → list of the item type (no items →
// list of anything), ref → SchemaError (not supported), a schema without name
// or fields → SchemaError with Python atdata's message.

#include <string>

#include "atdata/atmosphere/schema_options.hpp"
#include "atdata/atmosphere/schema_record.hpp"
#include "atdata/core/sample.hpp"
#include "atdata/core/sample_schema.hpp"

namespace atdata::atmosphere {

// Throws atdata::TypeError "Unsupported type for schema field: <name> (any)".
SchemaRecord schema_record_from(const SampleSchema& schema,
                                const SchemaPublishOptions& options = SchemaPublishOptions());

template <DescribedSample T>
SchemaRecord schema_record_of(const SchemaPublishOptions& options = SchemaPublishOptions()) {
  return schema_record_from(schema_of<T>(), options);
}

// decode_schema's conversion. Throws atdata::SchemaError naming the field.
SampleSchema to_sample_schema(const SchemaRecord& record);

}  // namespace atdata::atmosphere
