#pragma once
// The parts of an http(s) URL the client needs, parsed with Boost.URL.

#include <cstdint>
#include <string>
#include <string_view>

namespace atdata::net {

struct HttpUrl {
  std::string scheme;  // "http" or "https" (lower case)
  std::string host;    // name or IP literal, without IPv6 brackets
  std::uint16_t port = 0;
  std::string target;  // path + query, never empty ("/" at least); no fragment
  bool host_is_ip = false;

  bool tls() const noexcept { return scheme == "https"; }
  // "scheme://host:port": the connection-pool key and the same-origin test.
  std::string origin() const;
  // The Host header value (port omitted when it is the scheme's default).
  std::string host_header() const;
  std::string str() const { return origin() + target; }

  // Throws InvalidArgument for anything that is not an absolute http(s) URL
  // with a host. User info (user:password@) is rejected: credentials belong
  // in headers, not in URLs that end up in error messages.
  static HttpUrl parse(std::string_view url);
};

// A WebSocket URL in the form HttpUrl::parse takes: ws:// becomes http://
// and wss:// becomes https:// (the upgrade request is an HTTP/1.1 GET on the
// same host, port and target); http(s):// URLs are returned unchanged.
// Throws InvalidArgument for any other scheme.
std::string websocket_to_http_url(std::string_view url);

// RFC 3986 reference resolution, as used for a redirect's Location header.
std::string resolve_url(std::string_view base, std::string_view reference);

}  // namespace atdata::net
