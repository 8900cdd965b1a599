#include "atdata/atproto/xrpc_error.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace atdata::atproto {

std::string_view default_xrpc_error_name(int status) noexcept {
  switch (status) {
    case 400:
      return "InvalidRequest";
    case 401:
      return "AuthenticationRequired";
    case 403:
      return "Forbidden";
    case 404:
      return "XRPCNotSupported";
    case 406:
      return "NotAcceptable";
    case 413:
      return "PayloadTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 429:
      return "RateLimitExceeded";
    case 500:
      return "InternalServerError";
    case 501:
      return "MethodNotImplemented";
    case 502:
      return "UpstreamFailure";
    case 503:
      return "NotEnoughResources";
    case 504:
      return "UpstreamTimeout";
    default:
      return status >= 500 ? "InternalServerError" : "Unknown";
  }
}

namespace {
std::string printable_excerpt(std::string_view body, std::size_t max) {
  std::string out;
  for (char c : body.substr(0, max)) {
    auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : (c == '\n' || c == '\t' ? ' ' : '?'));
  }
  if (body.size() > max) out += "...";
  return out;
}
}  // namespace

XrpcError make_xrpc_error(int status, std::string nsid, std::string_view body) {
  std::string error, message;
  if (!body.empty() && body.size() <= 1024 * 1024) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (!ec && v.is_object()) {
      const auto& o = v.as_object();
      if (const auto* e = o.if_contains("error"); e && e->is_string()) error = std::string(e->as_string());
      if (const auto* m = o.if_contains("message"); m && m->is_string())
        message = std::string(m->as_string());
      // Server messages are short; cap them anyway so what() stays bounded.
      if (message.size() > 2000) message = printable_excerpt(message, 2000);
      if (error.size() > 200) error = printable_excerpt(error, 200);
    } else {
      message = printable_excerpt(body, 200);
    }
  }
  if (error.empty()) error = std::string(default_xrpc_error_name(status));
  return XrpcError(status, std::move(nsid), std::move(error), std::move(message));
}

}  // namespace atdata::atproto
