#pragma once
// Unsigned LEB128 as multiformats restricts it (CIDs, CAR lengths): at most
// 9 bytes (63 bits) and minimal, so every value has exactly one encoding.
// One reader for both users; each turns a failure into its own error.

#include <cstddef>
#include <cstdint>
#include <span>

namespace atdata::atproto::detail {

struct Varint {
  enum class Status { ok, truncated, too_long, overlong };
  Status status = Status::ok;
  std::uint64_t value = 0;
  std::size_t end = 0;  // just past the varint (when ok)
};

inline Varint read_varint(std::span<const std::byte> in, std::size_t pos) noexcept {
  Varint out;
  for (unsigned i = 0;; ++i) {
    if (i == 9) return {Varint::Status::too_long, 0, pos};
    if (pos >= in.size()) return {Varint::Status::truncated, 0, pos};
    const auto b = static_cast<std::uint8_t>(in[pos++]);
    out.value |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 0) return {Varint::Status::overlong, 0, pos};
      out.end = pos;
      return out;
    }
  }
}

}  // namespace atdata::atproto::detail
