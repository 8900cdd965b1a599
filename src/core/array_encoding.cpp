#include "atdata/core/array_encoding.hpp"

#include "atdata/core/compact_array.hpp"
#include "atdata/core/npy.hpp"

namespace atdata {

ArrayEncoding detect_array_encoding(std::span<const std::byte> bytes) noexcept {
  return npy::has_magic(bytes) ? ArrayEncoding::Npy : ArrayEncoding::Compact;
}

NDArray decode_array(SharedBytes bytes) {
  if (detect_array_encoding(bytes.span()) == ArrayEncoding::Npy) return npy::decode(std::move(bytes));
  return compact::decode(std::move(bytes));
}

std::size_t encoded_array_size(const NDArray& array, ArrayEncoding encoding) {
  return encoding == ArrayEncoding::Npy ? npy::encoded_size(array) : compact::encoded_size(array);
}

std::vector<std::byte> encode_array(const NDArray& array, ArrayEncoding encoding) {
  return encoding == ArrayEncoding::Npy ? npy::encode(array) : compact::encode(array);
}

void encode_array_into(const NDArray& array, std::vector<std::byte>& out, ArrayEncoding encoding) {
  if (encoding == ArrayEncoding::Npy) {
    npy::encode_into(array, out);
  } else {
    compact::encode_into(array, out);
  }
}

}  // namespace atdata
