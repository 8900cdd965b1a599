#pragma once
// Standard base64 (RFC 4648 §4) for the ATProto `{"$bytes": …}` form.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atdata::atmosphere::detail {

// With '=' padding, like Python's base64.b64encode.
std::string base64_encode(std::span<const std::byte> data);

// Accepts padded and unpadded input; nullopt on any other character, a
// misplaced '=', a length of 4k+1, or non-zero trailing bits.
std::optional<std::vector<std::byte>> base64_decode(std::string_view s);

}  // namespace atdata::atmosphere::detail
