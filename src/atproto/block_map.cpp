#include "atdata/atproto/block_map.hpp"

namespace atdata::atproto {

BlockMap BlockMap::from_car(CarReader& reader) {
  BlockMap map;
  while (auto b = reader.next()) map.insert(b->cid, b->data);
  return map;
}

void BlockMap::insert(std::span<const std::byte> cid, std::span<const std::byte> data) {
  blocks_.emplace(key(cid), data);
}

std::optional<std::span<const std::byte>> BlockMap::find(std::span<const std::byte> cid) const {
  const auto it = blocks_.find(key(cid));
  if (it == blocks_.end()) return std::nullopt;
  return it->second;
}

}  // namespace atdata::atproto
