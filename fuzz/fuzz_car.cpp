// CAR files from getRepo and from firehose frames: parse (with and without
// block verification) or throw atdata::Error; every dag-cbor block decodes
// or throws.
#include <cstddef>
#include <cstdint>
#include <span>

#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/error.hpp"

using namespace atdata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  for (bool verify : {true, false}) {
    try {
      atproto::CarOptions opts;
      opts.verify = verify;
      opts.max_blocks = 10'000;
      atproto::CarReader reader(in, opts);
      const auto roots = reader.roots();
      auto blocks = atproto::BlockMap::from_car(reader);
      for (const auto& r : roots) {
        if (auto b = blocks.find(r)) {
          try {
            (void)atproto::dag_cbor_decode(*b);
          } catch (const Error&) {
          }
        }
      }
    } catch (const Error&) {
    }
  }
  return 0;
}
