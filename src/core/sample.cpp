#include "atdata/core/sample.hpp"

namespace atdata::detail {

void throw_field_type(std::string_view field, const char* expected, const msgpack::Reader& r) {
  throw SchemaError(std::string(field), std::string("expected ") + expected + ", got msgpack " +
                                            r.peek_name() + " (at byte " + std::to_string(r.offset()) + ")");
}

void throw_field_range(std::string_view field, const msgpack::Integer& v, const char* ctype) {
  const std::string s = v.negative ? std::to_string(v.as_signed_unchecked()) : std::to_string(v.bits);
  throw SchemaError(std::string(field), "integer " + s + " does not fit in " + ctype);
}

void throw_field_array(std::string_view field, const DecodeError& e, std::size_t bin_offset) {
  // Keep DecodeError (the bytes are malformed), but say which field and where
  // the array starts in the packed sample.
  // e.what() carries the offset inside the array bytes; add the field name and
  // where its bin value starts in the packed sample.
  throw DecodeError("field '" + std::string(field) + "' (bin value at byte " + std::to_string(bin_offset) +
                    "): " + e.what());
}

void throw_unknown_field(std::string_view key) {
  throw SchemaError(std::string(key), "unknown field (not declared in the sample type)");
}

void throw_missing_field(std::string_view field) {
  throw SchemaError(std::string(field), "missing required field");
}

void throw_key_not_str(const msgpack::Reader& r) {
  throw DecodeError(std::string("packed sample: map key must be str, got ") + r.peek_name(), r.offset());
}

}  // namespace atdata::detail
