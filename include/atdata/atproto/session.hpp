#pragma once
// An ATProto login session and its portable string form, shared with the
// Python atproto SDK:  handle:::did:::accessJwt:::refreshJwt:::pds
// Sessions hold bearer tokens: nothing here prints them, and parse errors
// describe the shape of the input, never its content.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace atdata::atproto {

struct Session {
  std::string handle;
  std::string did;
  std::string access_jwt;
  std::string refresh_jwt;
  // The PDS the tokens belong to, without "/xrpc" (e.g. "https://morel.us-east.host.bsky.network").
  std::string pds_endpoint;
};

// The Python SDK's default service, and the endpoint of 4-field legacy strings.
inline constexpr std::string_view kDefaultService = "https://bsky.social";

// Exactly the SDK string. `endpoint_with_xrpc` reproduces the SDK quirk of
// exporting "<base>/xrpc" when no didDoc named the PDS.
std::string format_session_string(const Session& s, bool endpoint_with_xrpc = false);

// Splits on ":::"; 5 fields (current) or 4 (legacy: endpoint = https://bsky.social).
// A trailing "/xrpc" and "/" are removed from the endpoint. Throws AuthError
// naming the field count or the empty field; the string itself is never quoted.
Session parse_session_string(std::string_view s);

// Normalizes a service URL: strips trailing "/" and a trailing "/xrpc";
// empty means kDefaultService (as Python's AtmosphereClient(base_url="")).
std::string normalize_service_url(std::string_view url);

// The `exp` claim (Unix seconds) of a JWT, read without verifying the
// signature (the client only needs to know when to refresh). nullopt when the
// token has no readable payload or no integer `exp`.
std::optional<std::int64_t> jwt_expiry(std::string_view jwt);

// base64url (RFC 4648 §5) without padding, as used by JWTs; decode also accepts
// padding. decode returns nullopt on invalid input.
std::string base64url_encode(std::string_view data);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace atdata::atproto
