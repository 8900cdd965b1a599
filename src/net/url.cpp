#include "atdata/net/url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <algorithm>
#include <cctype>

#include "atdata/error.hpp"

namespace atdata::net {

namespace urls = boost::urls;

std::string HttpUrl::origin() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return scheme + "://" + h + ":" + std::to_string(port);
}

std::string HttpUrl::host_header() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const bool default_port = (tls() && port == 443) || (!tls() && port == 80);
  return default_port ? h : h + ":" + std::to_string(port);
}

HttpUrl HttpUrl::parse(std::string_view s) {
  auto r = urls::parse_uri(s);
  if (!r) throw InvalidArgument("invalid URL '" + std::string(s) + "': " + r.error().message());
  const urls::url_view u = *r;
  HttpUrl out;
  if (u.scheme_id() == urls::scheme::http) {
    out.scheme = "http";
    out.port = 80;
  } else if (u.scheme_id() == urls::scheme::https) {
    out.scheme = "https";
    out.port = 443;
  } else {
    throw InvalidArgument("unsupported URL scheme in '" + std::string(s) + "' (only http and https)");
  }
  if (!u.has_authority() || u.encoded_host().empty()) {
    throw InvalidArgument("URL '" + std::string(s) + "' has no host");
  }
  if (u.has_userinfo())
    throw InvalidArgument("URLs with user info are not supported (put credentials in headers)");
  switch (u.host_type()) {
    case urls::host_type::ipv4:
      out.host = u.host_address();
      out.host_is_ip = true;
      break;
    case urls::host_type::ipv6:
      out.host = u.host_ipv6_address().to_string();
      out.host_is_ip = true;
      break;
    case urls::host_type::name:
      out.host = u.host();
      std::transform(out.host.begin(), out.host.end(), out.host.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      break;
    default:
      throw InvalidArgument("unsupported host in URL '" + std::string(s) + "'");
  }
  if (u.has_port() && !u.port().empty()) {
    // Checked by hand: port_number() silently wraps values above 65535.
    unsigned long port = 0;
    for (char c : u.port()) {
      port = port * 10 + static_cast<unsigned long>(c - '0');
      if (port > 65535) break;
    }
    if (port == 0 || port > 65535) throw InvalidArgument("invalid port in URL '" + std::string(s) + "'");
    out.port = static_cast<std::uint16_t>(port);
  }
  out.target = std::string(u.encoded_target());
  if (out.target.empty() || out.target.front() != '/') out.target.insert(0, "/");
  return out;
}

std::string websocket_to_http_url(std::string_view url) {
  const auto colon = url.find("://");
  std::string scheme(url.substr(0, colon == std::string_view::npos ? 0 : colon));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view rest = colon == std::string_view::npos ? std::string_view{} : url.substr(colon);
  if (scheme == "ws") return "http" + std::string(rest);
  if (scheme == "wss") return "https" + std::string(rest);
  if (scheme == "http" || scheme == "https") return std::string(url);
  throw InvalidArgument("unsupported WebSocket URL scheme in '" + std::string(url) +
                        "' (ws, wss, http, https)");
}

std::string resolve_url(std::string_view base, std::string_view reference) {
  auto b = urls::parse_uri(base);
  if (!b) throw InvalidArgument("invalid base URL '" + std::string(base) + "'");
  auto ref = urls::parse_uri_reference(reference);
  if (!ref) throw InvalidArgument("invalid URL reference '" + std::string(reference) + "'");
  urls::url dest;
  auto rr = urls::resolve(*b, *ref, dest);
  if (!rr)
    throw InvalidArgument("cannot resolve '" + std::string(reference) + "' against '" + std::string(base) +
                          "'");
  return std::string(dest.buffer());
}

}  // namespace atdata::net
