#pragma once
// SampleSchema: the run-time description of a sample type — what a typed C++
// struct says at compile time, and what an `ac.foundation.dataset.sampleSchema`
// record says on the network (docs/format.md). DynamicSample decodes and
// packs samples against it.
//
// Field kinds follow the schema record: the primitives str/int/float/bool/
// bytes, ndarray (dtype informational only: the payload carries its own), list
// (items recursive; no items = list of anything) and `any` (what a reader
// uses when nothing is known: values decode generically, bin stays bytes).
// Optionality is a flag on the field, not a kind: the FieldType is always the
// non-null type, as in the record.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace atdata {

enum class FieldKind : std::uint8_t { str, int_, float_, bool_, bytes, ndarray, list, any };

// "str", "int", "float", "bool", "bytes", "ndarray", "list", "any".
const char* to_string(FieldKind k) noexcept;
// The primitive names of the schema record ("str", "int", "float", "bool",
// "bytes") → kind; nullopt for anything else (decode_schema then reports
// "Unknown primitive type: …").
std::optional<FieldKind> primitive_kind_from_name(std::string_view name) noexcept;

struct FieldType {
  FieldKind kind = FieldKind::any;
  // ndarray only: numpy dtype name ("float32"). Informational.
  std::string dtype;
  // list only: the element type; null means elements of any kind.
  std::shared_ptr<const FieldType> items;

  static FieldType primitive(FieldKind k);  // str/int/float/bool/bytes
  static FieldType ndarray(std::string dtype = "float32");
  static FieldType list(FieldType items);
  static FieldType list_of_any();
  static FieldType any();

  // "str", "ndarray[float32]", "list[list[int]]", "list[any]".
  std::string describe() const;
  friend bool operator==(const FieldType& a, const FieldType& b) noexcept;
};

struct FieldDef {
  std::string name;
  FieldType type;
  bool optional = false;  // Python `T | None`: may be null, may be missing on read
  friend bool operator==(const FieldDef&, const FieldDef&) = default;
};

class SampleSchema {
 public:
  SampleSchema() = default;
  // Throws InvalidArgument on an empty or duplicate field name. Field order is
  // the packing order. Any mix of optional and required fields is accepted
  // (a C++ struct may declare them in any order); Python's schema_to_type
  // refuses a required field after an optional one — see
  // first_required_after_optional() for decode_schema parity checks.
  SampleSchema(std::string name, std::vector<FieldDef> fields, std::string version = "1.0.0");

  const std::string& name() const noexcept { return name_; }
  const std::string& version() const noexcept { return version_; }
  const std::vector<FieldDef>& fields() const noexcept { return fields_; }
  std::size_t size() const noexcept { return fields_.size(); }
  const FieldDef& field(std::size_t i) const { return fields_.at(i); }

  std::optional<std::size_t> index_of(std::string_view name) const noexcept;
  const FieldDef* find(std::string_view name) const noexcept;

  // Index of the first required field that follows an optional one.
  std::optional<std::size_t> first_required_after_optional() const noexcept;

  friend bool operator==(const SampleSchema&, const SampleSchema&) = default;

 private:
  std::string name_;
  std::string version_ = "1.0.0";
  std::vector<FieldDef> fields_;
};

// Whether samples written with `writer` can be read as `reader` (a C++ type's
// schema, say, against a published record's): every field of each exists in
// the other under the same name, with the same kind (ndarray dtypes are
// informational and ignored; `any` matches every kind; list items compare
// recursively), and a field the reader requires is not optional in the
// writer. nullopt when they agree, else the first difference in words,
// e.g. "field 'label': int in FeatureSample, str in OtherSample".
std::optional<std::string> schema_mismatch(const SampleSchema& reader, const SampleSchema& writer);

}  // namespace atdata
