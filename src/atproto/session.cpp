#include "atdata/atproto/session.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <vector>

#include "atdata/error.hpp"

namespace atdata::atproto {

namespace {

constexpr std::string_view kSep = ":::";

std::vector<std::string_view> split_fields(std::string_view s) {
  std::vector<std::string_view> out;
  for (;;) {
    auto pos = s.find(kSep);
    if (pos == std::string_view::npos) {
      out.push_back(s);
      return out;
    }
    out.push_back(s.substr(0, pos));
    s.remove_prefix(pos + kSep.size());
    if (out.size() > 16) return out;  // hostile input: enough to reject it
  }
}

}  // namespace

std::string normalize_service_url(std::string_view url) {
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.size() >= 5 && url.substr(url.size() - 5) == "/xrpc") {
    url.remove_suffix(5);
    while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  }
  if (url.empty()) return std::string(kDefaultService);
  return std::string(url);
}

std::string format_session_string(const Session& s, bool endpoint_with_xrpc) {
  std::string out;
  out.reserve(s.handle.size() + s.did.size() + s.access_jwt.size() + s.refresh_jwt.size() +
              s.pds_endpoint.size() + 20);
  out.append(s.handle).append(kSep).append(s.did).append(kSep).append(s.access_jwt).append(kSep);
  out.append(s.refresh_jwt).append(kSep).append(s.pds_endpoint);
  if (endpoint_with_xrpc) out.append("/xrpc");
  return out;
}

Session parse_session_string(std::string_view s) {
  auto f = split_fields(s);
  if (f.size() != 4 && f.size() != 5) {
    throw AuthError("malformed session string: expected 5 (or legacy 4) ':::'-separated fields, got " +
                    (f.size() > 16 ? std::string("more than 16") : std::to_string(f.size())));
  }
  static constexpr const char* kNames[] = {"handle", "did", "accessJwt", "refreshJwt", "pdsEndpoint"};
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i].empty())
      throw AuthError(std::string("malformed session string: field '") + kNames[i] + "' is empty");
  }
  Session out;
  out.handle = f[0];
  out.did = f[1];
  out.access_jwt = f[2];
  out.refresh_jwt = f[3];
  out.pds_endpoint = normalize_service_url(f.size() == 5 ? f[4] : kDefaultService);
  if (out.did.rfind("did:", 0) != 0) throw AuthError("malformed session string: field 'did' is not a DID");
  return out;
}

std::string base64url_encode(std::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  std::uint32_t buf = 0;
  int bits = 0;
  for (char c : data) {
    buf = (buf << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      out.push_back(kAlphabet[(buf >> (bits - 6)) & 63]);
      bits -= 6;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buf << (6 - bits)) & 63]);
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buf = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-' || c == '+')
      v = 62;
    else if (c == '_' || c == '/')
      v = 63;
    else
      return std::nullopt;
    buf = ((buf << 6) | static_cast<std::uint32_t>(v)) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buf >> (bits - 8)) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::optional<std::int64_t> jwt_expiry(std::string_view jwt) {
  auto a = jwt.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  auto b = jwt.find('.', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  auto payload = base64url_decode(jwt.substr(a + 1, b - a - 1));
  if (!payload || payload->size() > 64 * 1024) return std::nullopt;
  boost::system::error_code ec;
  auto v = boost::json::parse(*payload, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto* exp = v.as_object().if_contains("exp");
  if (!exp) return std::nullopt;
  if (exp->is_int64()) return exp->as_int64();
  if (exp->is_uint64() && exp->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(exp->as_uint64());
  if (exp->is_double()) {
    double d = exp->as_double();
    if (d >= 0 && d < 1e15) return static_cast<std::int64_t>(d);  // NaN fails both tests
  }
  return std::nullopt;
}

}  // namespace atdata::atproto
