// msgpack DOM and schemaless DynamicSample decoding of arbitrary bytes: any
// input either decodes or throws atdata::Error; no crash, no unbounded
// allocation. A decoded sample re-packs to bytes that decode to the same sample.
#include <cstddef>
#include <cstdint>
#include <span>

#include "atdata/core/dynamic_sample.hpp"
#include "atdata/core/value.hpp"
#include "atdata/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  try {
    (void)atdata::msgpack::unpack_value(bytes);
  } catch (const atdata::Error&) {
  }
  try {
    auto s = atdata::DynamicSample::unpack(atdata::SharedBytes::copy_of(bytes));
    auto again = atdata::DynamicSample::unpack(s.pack());
    if (again.pack() != s.pack()) __builtin_trap();
  } catch (const atdata::Error&) {
  }
  return 0;
}
