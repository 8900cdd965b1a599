#include "atdata/net/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "atdata/error.hpp"

namespace atdata::net::sigv4 {

namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

// Leading/trailing blanks removed, inner runs of blanks collapsed to one
// space (also inside quotes: the get-header-value-trim vector says so).
std::string canonical_header_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool blank = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      blank = !out.empty();
      continue;
    }
    if (blank) out.push_back(' ');
    blank = false;
    out.push_back(c);
  }
  return out;
}

// name → values in order of appearance; std::map sorts the names.
std::map<std::string, std::string> header_map(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  std::map<std::string, std::string> m;
  for (const auto& [name, value] : headers) {
    std::string& v = m[lower(name)];
    if (!v.empty()) v.push_back(',');
    v += canonical_header_value(value);
  }
  return m;
}

struct UrlParts {
  std::string host;    // as the Host header carries it
  std::string target;  // path + query, never empty
};

UrlParts split_url(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) {
    throw InvalidArgument("presign_url: '" + std::string(url) + "' is not an absolute URL");
  }
  const std::string scheme = lower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  const auto end = rest.find_first_of("/?#");
  UrlParts p;
  p.host = lower(rest.substr(0, end));
  if (p.host.empty()) throw InvalidArgument("presign_url: '" + std::string(url) + "' has no host");
  const std::string default_port = scheme == "https" ? ":443" : scheme == "http" ? ":80" : "";
  if (!default_port.empty() && p.host.size() > default_port.size() &&
      p.host.compare(p.host.size() - default_port.size(), default_port.size(), default_port) == 0) {
    p.host.resize(p.host.size() - default_port.size());
  }
  std::string_view target = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  target = target.substr(0, target.find('#'));
  p.target = target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  return p;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr) != 1 || len != d.size()) {
    throw Error("SHA-256 failed");
  }
  return to_hex(d);
}

Digest hmac_sha256(std::string_view key, std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data(), &len) ||
      len != d.size()) {
    throw Error("HMAC-SHA256 failed");
  }
  return d;
}

std::string to_hex(const Digest& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(d.size() * 2);
  for (unsigned char c : d) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string uri_encode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string uri_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string amz_date(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<seconds>(t - day)};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string Scope::date() const {
  return amz_date(time).substr(0, 8);
}
std::string Scope::datetime() const {
  return amz_date(time);
}
std::string Scope::credential_scope() const {
  return date() + "/" + region + "/" + service + "/aws4_request";
}

std::string canonical_uri(std::string_view path) {
  if (path.empty()) return "/";
  return uri_encode(uri_decode(path), /*keep_slash=*/true);
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    const auto eq = piece.find('=');
    std::string_view name = piece.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    params.emplace_back(uri_encode(uri_decode(name), false), uri_encode(uri_decode(value), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [n, v] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(n).append("=").append(v);
  }
  return out;
}

std::string signed_headers(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string out;
  for (const auto& [name, value] : header_map(headers)) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

std::string canonical_request(const Request& req) {
  const std::string_view target = req.target;
  const auto q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  std::string out;
  out.append(req.method).append("\n");
  out.append(canonical_uri(path)).append("\n");
  out.append(canonical_query(query)).append("\n");
  for (const auto& [name, value] : header_map(req.headers))
    out.append(name).append(":").append(value).append("\n");
  out.append("\n");
  out.append(signed_headers(req.headers)).append("\n");
  out.append(req.payload_hash);
  return out;
}

std::string string_to_sign(const Scope& scope, std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.append("\n").append(scope.datetime()).append("\n").append(scope.credential_scope()).append("\n");
  out.append(sha256_hex(canonical_request));
  return out;
}

Digest signing_key(std::string_view secret_access_key, const Scope& scope) {
  const std::string secret = "AWS4" + std::string(secret_access_key);
  const Digest k_date = hmac_sha256(secret, scope.date());
  auto view = [](const Digest& d) {
    return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
  };
  const Digest k_region = hmac_sha256(view(k_date), scope.region);
  const Digest k_service = hmac_sha256(view(k_region), scope.service);
  return hmac_sha256(view(k_service), "aws4_request");
}

std::string signature(const Digest& key, std::string_view sts) {
  return to_hex(hmac_sha256(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), sts));
}

Signed sign(const Request& req, const AwsCredentials& credentials, const Scope& scope) {
  Signed s;
  s.canonical_request = canonical_request(req);
  s.string_to_sign = string_to_sign(scope, s.canonical_request);
  s.signature = signature(signing_key(credentials.secret_access_key, scope), s.string_to_sign);
  s.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                    scope.credential_scope() + ", SignedHeaders=" + signed_headers(req.headers) +
                    ", Signature=" + s.signature;
  return s;
}

Signed sign_headers(Request& req, const AwsCredentials& credentials, const Scope& scope,
                    bool content_sha256_header) {
  // A request signed before (a retry) carries the previous signature's
  // headers; signing them again would put two dates into one signature.
  std::erase_if(req.headers, [](const auto& h) {
    const std::string n = lower(h.first);
    return n == "authorization" || n == "x-amz-date" || n == "x-amz-security-token" ||
           n == "x-amz-content-sha256";
  });
  req.headers.emplace_back("x-amz-date", scope.datetime());
  if (content_sha256_header) req.headers.emplace_back("x-amz-content-sha256", req.payload_hash);
  if (!credentials.session_token.empty())
    req.headers.emplace_back("x-amz-security-token", credentials.session_token);
  return sign(req, credentials, scope);
}

std::string presign_url(std::string_view method, std::string_view url, const AwsCredentials& credentials,
                        const Scope& scope, std::chrono::seconds expires) {
  if (expires.count() < 1 || expires.count() > 604800) {
    throw InvalidArgument("presign_url: expiry must be between 1 second and 7 days, got " +
                          std::to_string(expires.count()) + " s");
  }
  const UrlParts parts = split_url(url);
  std::string auth = "X-Amz-Algorithm=" + std::string(kAlgorithm);
  auth +=
      "&X-Amz-Credential=" + uri_encode(credentials.access_key_id + "/" + scope.credential_scope(), false);
  auth += "&X-Amz-Date=" + scope.datetime();
  auth += "&X-Amz-Expires=" + std::to_string(expires.count());
  auth += "&X-Amz-SignedHeaders=host";
  if (!credentials.session_token.empty()) {
    auth += "&X-Amz-Security-Token=" + uri_encode(credentials.session_token, false);
  }
  std::string base(url.substr(0, url.find('#')));
  const bool has_query = parts.target.find('?') != std::string::npos;
  const std::string target = parts.target + (has_query ? "&" : "?") + auth;
  Request req(std::string(method), target, {{"host", parts.host}}, std::string(kUnsignedPayload));
  const Signed s = sign(req, credentials, scope);
  return base + (has_query ? "&" : "?") + auth + "&X-Amz-Signature=" + s.signature;
}

}  // namespace atdata::net::sigv4
