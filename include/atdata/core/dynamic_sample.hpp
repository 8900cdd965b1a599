#pragma once
// DynamicSample: a packed sample decoded without a C++ type — either against
// a run-time SampleSchema (e.g. one read back from an ATProto sampleSchema
// record) or with no schema at all (`atdata cat`: fields in stored order,
// bin left as bytes). Fields are (name, Value) pairs; packing writes them
// back byte-identically to Python.
//
// With a schema, decoding follows the same rules as the typed path:
// unknown key / missing required field / wrong kind → SchemaError naming the
// field; optional fields may be null or missing (→ null); ndarray fields are
// decoded from bin (zero-copy when given SharedBytes); `any` fields decode
// generically. Fields are stored in schema order whatever the map order.

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atdata/core/msgpack.hpp"
#include "atdata/core/sample_schema.hpp"
#include "atdata/core/shared_bytes.hpp"
#include "atdata/core/value.hpp"

namespace atdata {

struct DynamicField {
  std::string name;
  Value value;
};

class DynamicSample {
 public:
  // Schemaless, no fields.
  DynamicSample() = default;
  // Every schema field present and null (set them before packing).
  explicit DynamicSample(std::shared_ptr<const SampleSchema> schema);

  // Against a schema. SharedBytes: ndarray/bytes values share its owner.
  static DynamicSample unpack(std::shared_ptr<const SampleSchema> schema, const SharedBytes& packed);
  static DynamicSample unpack(std::shared_ptr<const SampleSchema> schema, std::span<const std::byte> packed);
  // Without a schema: the map's entries in stored order, values decoded
  // generically (bin → Bytes, even if it holds an .npy array).
  static DynamicSample unpack(const SharedBytes& packed);
  static DynamicSample unpack(std::span<const std::byte> packed);
  // From an already-decoded msgpack reader positioned at the map.
  static DynamicSample unpack_from(std::shared_ptr<const SampleSchema> schema, msgpack::Reader& r);

  // Null for a schemaless sample.
  const std::shared_ptr<const SampleSchema>& schema() const noexcept { return schema_; }

  // Fields in schema order (or stored order when schemaless).
  std::span<const DynamicField> fields() const noexcept { return fields_; }
  auto begin() const noexcept { return fields_.begin(); }
  auto end() const noexcept { return fields_.end(); }
  std::size_t size() const noexcept { return fields_.size(); }
  const DynamicField& field(std::size_t i) const { return fields_.at(i); }

  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }
  const Value* find(std::string_view name) const noexcept;
  // SchemaError naming the field when there is no such field.
  const Value& at(std::string_view name) const;
  // Converted with Value::get<T>; a kind mismatch is a SchemaError naming the field.
  template <class T>
  T get(std::string_view name) const {
    const Value& v = at(name);
    try {
      return v.template get<T>();
    } catch (const TypeError& e) {
      throw SchemaError(std::string(name), e.what());
    }
  }

  // With a schema: the field must exist (SchemaError otherwise); the value is
  // checked against the field type when packing. Schemaless: replaces or
  // appends.
  void set(std::string_view name, Value value);

  // Packs every field in order. With a schema, each value is validated first
  // (null in a non-optional field, wrong kind → SchemaError).
  void pack_into(std::vector<std::byte>& out) const;
  std::vector<std::byte> pack() const;

  // All fields as a Value map (stored order), e.g. for display.
  Value to_value() const;

  friend bool operator==(const DynamicSample& a, const DynamicSample& b) noexcept;

 private:
  std::shared_ptr<const SampleSchema> schema_;
  std::vector<DynamicField> fields_;
};

// Decodes one value of a field type from the reader (what DynamicSample does
// per field); exposed for lens/record code that decodes typed values.
Value read_typed_value(msgpack::Reader& r, const FieldType& type, bool optional, std::string_view field);
// SchemaError unless `v` is valid for the field type (null only if optional).
void check_value(const Value& v, const FieldType& type, bool optional, std::string_view field);

}  // namespace atdata
