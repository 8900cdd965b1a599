#pragma once
// Turning a non-2xx XRPC answer into atdata::XrpcError (pure, no I/O).

#include <string>
#include <string_view>

#include "atdata/error.hpp"

namespace atdata::atproto {

// The XRPC spec's name for a status when the body carries none
// (400 InvalidRequest, 401 AuthenticationRequired, 429 RateLimitExceeded, …).
std::string_view default_xrpc_error_name(int status) noexcept;

// Body `{"error": "<Name>", "message": "<text>"}` → XrpcError{status, nsid,
// Name, text}. A body that is not that JSON (an HTML proxy page, empty) gives
// the default name for the status and a short printable excerpt as message.
XrpcError make_xrpc_error(int status, std::string nsid, std::string_view body);

}  // namespace atdata::atproto
