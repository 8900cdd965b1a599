// The repository tree from anyone's CAR: the input is a CAR whose root is an
// MST node (or a commit, whose `data` is used). Walking it, looking keys up
// and proving them must give typed errors only, never a crash, a hang or a
// runaway allocation; whatever walks must agree with mst_get, and rebuilding
// the walked entries must give the root back (the tree is canonical).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/commit.hpp"
#include "atdata/atproto/mst.hpp"
#include "atdata/error.hpp"

using namespace atdata;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  try {
    atproto::CarOptions co;
    co.max_blocks = 10'000;
    atproto::CarReader reader(in, co);
    if (reader.roots().empty()) return 0;
    std::span<const std::byte> root = reader.roots().front();
    const auto blocks = atproto::BlockMap::from_car(reader);
    if (const auto b = blocks.find(root)) {
      try {
        root = atproto::decode_commit(*b).data;
      } catch (const Error&) {
      }
    }
    atproto::MstLimits limits;
    limits.max_nodes = 100'000;
    std::vector<std::string> keys;
    std::vector<std::vector<std::byte>> values;
    try {
      atproto::mst_walk(
          blocks, root,
          [&](std::string_view k, std::span<const std::byte> v) {
            keys.emplace_back(k);
            values.emplace_back(v.begin(), v.end());
          },
          limits);
    } catch (const Error&) {
      keys.clear();
    }
    std::vector<atproto::MstEntryView> entries;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto got = atproto::mst_get(blocks, root, keys[i], limits);
      if (!got || got->size() != values[i].size() ||
          std::memcmp(got->data(), values[i].data(), got->size()) != 0)
        std::abort();
      atproto::mst_prove(blocks, root, keys[i], std::span<const std::byte>(values[i]), limits);
      entries.push_back({keys[i], values[i]});
    }
    if (!keys.empty()) {
      const auto rebuilt = atproto::mst_root_of(entries);
      if (rebuilt.size() != root.size() || std::memcmp(rebuilt.data(), root.data(), root.size()) != 0)
        std::abort();
    }
    try {
      atproto::mst_prove(blocks, root, "com.example.fuzz/absent", std::nullopt, limits);
    } catch (const Error&) {
    }
  } catch (const Error&) {
  }
  return 0;
}
