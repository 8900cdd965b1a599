#pragma once
// ATProto identifier syntax (atproto.com/specs: nsid, did, handle, record-key).
// The client checks identifiers before they go into URLs and paths, so a
// hostile record or caller cannot steer a request somewhere else.

#include <string_view>

namespace atdata::atproto {

// "com.atproto.repo.createRecord": ≥ 3 dot-separated segments, domain
// authority (letters, digits, hyphens; no leading/trailing hyphen), a name
// segment of letters and digits that does not start with a digit; ≤ 317 chars.
bool is_valid_nsid(std::string_view s) noexcept;

// "did:<method>:<id>": method lower-case letters, id of [A-Za-z0-9._:%-],
// not ending in ':' or '%'; ≤ 2048 chars.
bool is_valid_did(std::string_view s) noexcept;

// A domain name of ≥ 2 labels (1–63 chars of letters, digits, hyphens, no
// leading/trailing hyphen), last label not starting with a digit; ≤ 253 chars.
bool is_valid_handle(std::string_view s) noexcept;

// TID (timestamp identifier, a repo `rev`): 13 chars of base32-sortable
// [2-7a-z], the first in [2-7a-j] (the top bit of the 64-bit value is 0).
bool is_valid_tid(std::string_view s) noexcept;

// Record key: 1–512 chars of [A-Za-z0-9._:~-], not "." or "..".
bool is_valid_rkey(std::string_view s) noexcept;

}  // namespace atdata::atproto
