#pragma once
// Text codecs several layers need (the ATProto `{"$bytes": …}` form in
// atproto and atmosphere, strict text checks in DAG-CBOR and lexicon
// validation): one implementation, here at the bottom of the stack.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atdata::detail {

// Standard base64 (RFC 4648 §4); `pad` adds '=' (Python's b64encode does,
// the ATProto data model's canonical form does not).
std::string base64_encode(std::span<const std::byte> data, bool pad = true);

// Accepts padded and unpadded input; nullopt on any other character, a
// misplaced '=', a length of 4k+1, or non-zero trailing bits.
std::optional<std::vector<std::byte>> base64_decode(std::string_view s);

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s) noexcept;

}  // namespace atdata::detail
