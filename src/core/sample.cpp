#include "atdata/core/sample.hpp"

#include <algorithm>
#include <cstring>

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
  // its bin value starts in the packed sample; e.what() carries the offset
  // inside the array bytes.
  throw DecodeError(std::string(field), "bin value at byte " + std::to_string(bin_offset) + ": " + e.what(),
                    std::nullopt);
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

namespace {
struct ArrayHeaderMemo {
  bool valid = false;
  std::size_t header_len = 0;  // bytes before the data (whole .npy/compact header)
  std::size_t nbytes = 0;      // data bytes that must follow
  std::byte header[256];
  Dtype dtype;
  std::array<std::int64_t, NDArray::kInlineRank> shape{};
  std::size_t ndim = 0;
};
thread_local ArrayHeaderMemo t_memo;
}  // namespace

NDArray decode_array_memo(const SharedBytes& bin) {
  auto& m = t_memo;
  if (m.valid && bin.size() >= m.header_len && bin.size() - m.header_len == m.nbytes &&
      std::memcmp(bin.data(), m.header, m.header_len) == 0) {
    return NDArray::view(m.dtype, std::span<const std::int64_t>(m.shape.data(), m.ndim),
                         bin.slice(m.header_len, m.nbytes));
  }
  NDArray a = decode_array(bin);
  // Remember only plain zero-copy results whose data is the buffer's tail
  // (C order; Fortran-order inputs are transposed copies and are not cached).
  if (a.is_view() && a.ndim() <= NDArray::kInlineRank && a.nbytes() > 0 && a.nbytes() <= bin.size()) {
    const std::size_t hl = bin.size() - a.nbytes();
    if (hl <= sizeof m.header && a.bytes().data() == bin.data() + hl) {
      m.valid = true;
      m.header_len = hl;
      m.nbytes = a.nbytes();
      std::memcpy(m.header, bin.data(), hl);
      m.dtype = a.dtype();
      m.ndim = a.ndim();
      std::copy(a.shape().begin(), a.shape().end(), m.shape.begin());
    }
  }
  return a;
}

}  // namespace atdata::detail
