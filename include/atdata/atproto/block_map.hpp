#pragma once
// Blocks by binary CID, the block store every repository check works on: the
// `blocks` CAR of a firehose #commit (a partial tree: the commit, the MST
// nodes on the changed paths, the new records) or a whole getRepo export.
// Zero-copy: keys and values are views into the CAR buffer, which must
// outlive the map.

#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

#include "atdata/atproto/car.hpp"

namespace atdata::atproto {

class BlockMap {
 public:
  BlockMap() = default;
  // Every block of `reader` (verified against its CID when the reader's
  // options say so, the default).
  static BlockMap from_car(CarReader& reader);

  // A second block with the same CID replaces nothing (same CID, same bytes
  // once verified).
  void insert(std::span<const std::byte> cid, std::span<const std::byte> data);
  std::optional<std::span<const std::byte>> find(std::span<const std::byte> cid) const;
  bool contains(std::span<const std::byte> cid) const { return find(cid).has_value(); }
  std::size_t size() const noexcept { return blocks_.size(); }

 private:
  static std::string_view key(std::span<const std::byte> cid) {
    return {reinterpret_cast<const char*>(cid.data()), cid.size()};
  }
  // CIDs end in a SHA-256 digest: its last 8 bytes are already a good hash.
  struct Hash {
    std::size_t operator()(std::string_view k) const noexcept {
      std::size_t h = 0;
      std::memcpy(&h, k.data() + (k.size() >= sizeof h ? k.size() - sizeof h : 0),
                  k.size() >= sizeof h ? sizeof h : k.size());
      return h;
    }
  };
  std::unordered_map<std::string_view, std::span<const std::byte>, Hash> blocks_;
};

}  // namespace atdata::atproto
