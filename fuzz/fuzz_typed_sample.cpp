// unpack<T> of a struct with every field kind from arbitrary bytes: decode
// or atdata::Error (naming the field); a decoded sample re-packs and decodes
// to equal bytes.
#include <boost/describe.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "atdata/core/sample.hpp"
#include "atdata/error.hpp"

struct Everything {
  std::string name;
  std::int64_t i = 0;
  std::uint8_t small = 0;
  double x = 0;
  float f = 0;
  bool flag = false;
  atdata::Bytes raw;
  atdata::NDArray array;
  std::vector<std::string> tags;
  std::optional<std::string> note;
  std::optional<atdata::NDArray> mask;
};
BOOST_DESCRIBE_STRUCT(Everything, (), (name, i, small, x, f, flag, raw, array, tags, note, mask))

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = atdata::SharedBytes::copy_of(std::as_bytes(std::span(data, size)));
  try {
    auto s = atdata::unpack<Everything>(bytes);
    auto packed = atdata::pack(s);
    auto again = atdata::pack(atdata::unpack<Everything>(std::span<const std::byte>(packed)));
    if (again != packed) __builtin_trap();
  } catch (const atdata::Error&) {
  }
  return 0;
}
