#pragma once
// Hex helpers for byte-level tests: expected encodings are written as the
// lowercase hex strings the spec uses.

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace atdata::test {

inline std::vector<std::byte> from_hex(std::string_view hex) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::invalid_argument("bad hex digit");
  };
  std::vector<std::byte> out;
  int hi = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n') continue;
    if (hi < 0) {
      hi = nib(c);
    } else {
      out.push_back(static_cast<std::byte>(hi * 16 + nib(c)));
      hi = -1;
    }
  }
  if (hi >= 0) throw std::invalid_argument("odd hex length");
  return out;
}

inline std::string to_hex(std::span<const std::byte> b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(b.size() * 2);
  for (auto x : b) {
    const auto v = static_cast<unsigned>(x);
    s += kHex[v >> 4];
    s += kHex[v & 15];
  }
  return s;
}

inline std::vector<std::byte> bytes_of(std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  return {p, p + s.size()};
}

}  // namespace atdata::test
