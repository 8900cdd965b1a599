// Array payloads (.npy v1-v3 and the compact format) from arbitrary bytes:
// decode or atdata::Error. A decoded array converts and re-encodes exactly.
#include <cstddef>
#include <cstdint>
#include <span>

#include "atdata/core/array_encoding.hpp"
#include "atdata/core/npy.hpp"
#include "atdata/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = atdata::SharedBytes::copy_of(std::as_bytes(std::span(data, size)));
  try {
    atdata::NDArray a = atdata::decode_array(bytes);
    atdata::NDArray b = atdata::npy::decode(atdata::SharedBytes::adopt(atdata::npy::encode(a)));
    if (!(a == b)) __builtin_trap();
    if (a.dtype().is_numeric() && a.size() < (1u << 20)) (void)a.to<float>();
  } catch (const atdata::Error&) {
  }
  return 0;
}
