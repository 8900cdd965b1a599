#pragma once
// SharedBytes: a read-only byte range plus the owner that keeps it alive.
// It is how zero-copy flows through the layers: a shard chunk read from disk or
// the network is one SharedBytes; tar members, msgpack bin values and NDArray
// views are sub-ranges that share its owner (one atomic increment, no copy).

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "atdata/error.hpp"

namespace atdata {

class SharedBytes {
 public:
  SharedBytes() = default;
  SharedBytes(std::shared_ptr<const void> owner, std::span<const std::byte> bytes) noexcept
      : owner_(std::move(owner)), bytes_(bytes) {}

  // Takes ownership of a vector's storage.
  static SharedBytes adopt(std::vector<std::byte>&& v) {
    auto holder = std::make_shared<std::vector<std::byte>>(std::move(v));
    std::span<const std::byte> s(holder->data(), holder->size());
    return SharedBytes(std::move(holder), s);
  }
  // An owning copy of arbitrary bytes.
  static SharedBytes copy_of(std::span<const std::byte> s) {
    return adopt(std::vector<std::byte>(s.begin(), s.end()));
  }
  static SharedBytes copy_of(std::string_view s) {
    return copy_of(std::as_bytes(std::span(s.data(), s.size())));
  }
  // A non-owning view; the caller guarantees the bytes outlive every copy.
  static SharedBytes unowned(std::span<const std::byte> s) noexcept { return SharedBytes(nullptr, s); }

  std::span<const std::byte> span() const noexcept { return bytes_; }
  const std::byte* data() const noexcept { return bytes_.data(); }
  std::size_t size() const noexcept { return bytes_.size(); }
  bool empty() const noexcept { return bytes_.empty(); }
  std::string_view as_string_view() const noexcept {
    return {reinterpret_cast<const char*>(bytes_.data()), bytes_.size()};
  }
  const std::shared_ptr<const void>& owner() const noexcept { return owner_; }

  // A sub-range sharing the same owner. Bounds are checked: offsets usually
  // come from the wire.
  SharedBytes slice(std::size_t offset, std::size_t count) const {
    if (offset > bytes_.size() || count > bytes_.size() - offset) {
      throw InvalidArgument("SharedBytes::slice out of range");
    }
    return SharedBytes(owner_, bytes_.subspan(offset, count));
  }
  // A sub-range of this buffer given as a span that lies inside it.
  SharedBytes slice(std::span<const std::byte> inner) const {
    return slice(static_cast<std::size_t>(inner.data() - bytes_.data()), inner.size());
  }

  friend bool operator==(const SharedBytes& a, const SharedBytes& b) noexcept {
    return a.size() == b.size() && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size()) == 0);
  }

 private:
  std::shared_ptr<const void> owner_;
  std::span<const std::byte> bytes_;
};

}  // namespace atdata
