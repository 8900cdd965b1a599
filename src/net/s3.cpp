#include "atdata/net/s3.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "atdata/net/url.hpp"

namespace atdata::net {

namespace asio = boost::asio;

namespace {

constexpr std::uint64_t kMinPartBytes = 5ull << 20;  // S3's minimum for all parts but the last
constexpr std::uint64_t kMaxParts = 10000;
constexpr int kPartAttempts = 3;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::optional<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::string* find_value(const std::vector<std::pair<std::string, std::string>>& kv,
                              std::string_view key) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : kv) {
    if (k == key) found = &v;  // the last assignment wins, as in a shell
  }
  return found;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string xml_unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out.push_back('&');
      continue;
    }
    const std::string_view ent = s.substr(i + 1, semi - i - 1);
    std::uint32_t cp = 0;
    bool ok = true;
    if (ent == "amp") {
      cp = '&';
    } else if (ent == "lt") {
      cp = '<';
    } else if (ent == "gt") {
      cp = '>';
    } else if (ent == "quot") {
      cp = '"';
    } else if (ent == "apos") {
      cp = '\'';
    } else if (ent.size() > 1 && ent[0] == '#') {
      const bool hex = ent[1] == 'x' || ent[1] == 'X';
      const std::string digits(ent.substr(hex ? 2 : 1));
      char* end = nullptr;
      const unsigned long v = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      ok = !digits.empty() && end && *end == '\0' && v <= 0x10FFFF;
      cp = static_cast<std::uint32_t>(v);
    } else {
      ok = false;
    }
    if (!ok) {
      out.push_back('&');
      continue;
    }
    // UTF-8 encoding of the code point (keys may hold any character).
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    i = semi;
  }
  return out;
}

// Each <tag>…</tag> element's inner text, in order.
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string open = "<" + std::string(tag), close = "</" + std::string(tag) + ">";
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    const std::size_t after = pos + open.size();
    if (after >= xml.size()) break;
    const char c = xml[after];
    if (c != '>' && c != ' ' && c != '/') {  // another tag sharing the prefix (<Key> vs <KeyCount>)
      pos = after;
      continue;
    }
    const auto gt = xml.find('>', after);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {  // <tag/>
      out.emplace_back();
      pos = gt + 1;
      continue;
    }
    const auto end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(gt + 1, end - gt - 1));
    pos = end + close.size();
  }
  return out;
}

bool is_dns_label_bucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return b.front() != '-' && b.back() != '-';
}

bool is_aws_host(const std::string& host) {
  const std::string_view suffix = ".amazonaws.com";
  return host.size() > suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string default_code(int status, const std::string& key) {
  switch (status) {
    case 301:
      return "PermanentRedirect";
    case 400:
      return "BadRequest";
    case 403:
      return "AccessDenied";
    case 404:
      return key.empty() ? "NoSuchBucket" : "NoSuchKey";
    case 409:
      return "Conflict";
    case 412:
      return "PreconditionFailed";
    case 416:
      return "InvalidRange";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    default:
      return {};
  }
}

std::string location_url(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + (key.empty() ? "" : "/" + key);
}

// A transport failure or a server-side error: worth another attempt.
bool retryable(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const HttpError& h) {
    return h.status() >= 500 || h.status() == 429;
  } catch (const NetworkError&) {
    return true;
  } catch (...) {
    return false;
  }
}

std::string body_hash(const RequestBody& body) {
  const auto& v = body.variant();
  if (auto* s = std::get_if<std::string>(&v)) return sigv4::sha256_hex(*s);
  if (auto* b = std::get_if<SharedBytes>(&v)) return sigv4::sha256_hex(b->as_string_view());
  if (std::holds_alternative<RequestBody::Stream>(v)) return std::string(sigv4::kUnsignedPayload);
  return std::string(sigv4::kEmptyPayloadHash);
}

// The body of a failed streaming response, bounded: error documents are small.
asio::awaitable<void> throw_stream_error(HttpResponseStream& s, std::string bucket, std::string key) {
  std::string body;
  try {
    SharedBytes b = co_await s.read_all(64 * 1024);
    body = std::string(b.as_string_view());
  } catch (const NetworkError&) {
    // An unreadable error body still leaves the status to report.
  }
  throw s3_error_from_response(s.status(), body, std::move(bucket), std::move(key));
}

asio::awaitable<void> backoff_sleep(asio::any_io_executor ex, int attempt) {
  asio::steady_timer t(ex, std::chrono::milliseconds(200) * (1 << attempt));
  co_await t.async_wait(asio::use_awaitable);
}

SharedBytes read_exactly(std::ifstream& in, std::uint64_t n, const std::string& path, std::uint64_t offset) {
  std::vector<std::byte> buf(static_cast<std::size_t>(n));
  in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n));
  if (static_cast<std::uint64_t>(in.gcount()) != n) {
    throw Error("upload of " + path + ": short read at byte " + std::to_string(offset) + " (file changed?)");
  }
  return SharedBytes::adopt(std::move(buf));
}

}  // namespace

// ---- credentials and configuration -----------------------------------------

namespace s3_detail {

std::vector<std::pair<std::string, std::string>> parse_dotenv(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line = trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind("export ", 0) == 0) line = trim(std::string_view(line).substr(7));
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(std::string_view(line).substr(0, eq));
    std::string value = trim(std::string_view(line).substr(eq + 1));
    if (!value.empty() && (value[0] == '"' || value[0] == '\'')) {
      const char q = value[0];
      const auto close = value.find(q, 1);
      std::string inner = value.substr(1, close == std::string::npos ? std::string::npos : close - 1);
      if (q == '"') {  // the escapes python-dotenv honours in double quotes
        std::string unescaped;
        for (std::size_t i = 0; i < inner.size(); ++i) {
          if (inner[i] == '\\' && i + 1 < inner.size()) {
            const char n = inner[++i];
            unescaped.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n);
          } else {
            unescaped.push_back(inner[i]);
          }
        }
        inner = std::move(unescaped);
      }
      value = std::move(inner);
    } else if (const auto hash = value.find(" #"); hash != std::string::npos) {
      value = trim(std::string_view(value).substr(0, hash));
    }
    if (!key.empty()) out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> ini_section(std::string_view text,
                                                                            std::string_view section) {
  std::optional<std::vector<std::pair<std::string, std::string>>> out;
  bool in_section = false;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string line = trim(text.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      std::string name = trim(std::string_view(line).substr(1, line.find(']') - 1));
      // ~/.aws/config spells non-default profiles "[profile name]".
      if (name.rfind("profile ", 0) == 0) name = trim(std::string_view(name).substr(8));
      in_section = name == section;
      if (in_section && !out) out.emplace();
      continue;
    }
    if (!in_section) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    out->emplace_back(lower(trim(std::string_view(line).substr(0, eq))),
                      trim(std::string_view(line).substr(eq + 1)));
  }
  return out;
}

std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
  auto els = xml_elements(xml, tag);
  if (els.empty()) return std::nullopt;
  return xml_unescape(els.front());
}

ListPage parse_list_objects_v2(std::string_view xml) {
  ListPage page;
  for (std::string_view c : xml_elements(xml, "Contents")) {
    S3ObjectInfo o;
    o.key = xml_text(c, "Key").value_or("");
    const std::string size = xml_text(c, "Size").value_or("0");
    o.size = std::strtoull(size.c_str(), nullptr, 10);
    o.etag = xml_text(c, "ETag").value_or("");
    o.last_modified = xml_text(c, "LastModified").value_or("");
    page.objects.push_back(std::move(o));
  }
  page.truncated = xml_text(xml, "IsTruncated").value_or("false") == "true";
  page.next_token = xml_text(xml, "NextContinuationToken").value_or("");
  return page;
}

}  // namespace s3_detail

std::optional<S3Credentials> S3Credentials::from_environment() {
  const std::string id = env("AWS_ACCESS_KEY_ID"), secret = env("AWS_SECRET_ACCESS_KEY");
  if (id.empty() && secret.empty()) return std::nullopt;
  if (id.empty()) throw InvalidArgument("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  if (secret.empty()) throw InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  return S3Credentials(id, secret, env("AWS_SESSION_TOKEN"));
}

std::optional<S3Credentials> S3Credentials::from_shared_file(std::string path, std::string profile) {
  if (path.empty()) path = env("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    const std::string home = env("HOME");
    if (home.empty()) return std::nullopt;
    path = home + "/.aws/credentials";
  }
  if (profile.empty()) profile = env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  const auto text = read_text_file(path);
  if (!text) return std::nullopt;
  const auto section = s3_detail::ini_section(*text, profile);
  if (!section) return std::nullopt;
  auto need = [&](std::string_view key) -> std::string {
    const std::string* v = find_value(*section, key);
    if (!v || v->empty()) {
      throw InvalidArgument(path + ": profile '" + profile + "' has no " + std::string(key));
    }
    return *v;
  };
  const std::string id = need("aws_access_key_id");
  const std::string secret = need("aws_secret_access_key");
  const std::string* token = find_value(*section, "aws_session_token");
  return S3Credentials(id, secret, token ? *token : std::string());
}

namespace {

std::vector<std::pair<std::string, std::string>> read_dotenv(const std::string& path) {
  const auto text = read_text_file(path);
  if (!text) throw InvalidArgument("cannot read credentials file " + path);
  return s3_detail::parse_dotenv(*text);
}

std::string dotenv_need(const std::vector<std::pair<std::string, std::string>>& kv, const std::string& path,
                        std::string_view key) {
  const std::string* v = find_value(kv, key);
  if (!v || v->empty()) throw InvalidArgument(path + ": " + std::string(key) + " is missing");
  return *v;
}

}  // namespace

S3Credentials S3Credentials::from_dotenv(const std::string& path) {
  const auto kv = read_dotenv(path);
  const std::string id = dotenv_need(kv, path, "AWS_ACCESS_KEY_ID");
  const std::string secret = dotenv_need(kv, path, "AWS_SECRET_ACCESS_KEY");
  const std::string* token = find_value(kv, "AWS_SESSION_TOKEN");
  return S3Credentials(id, secret, token ? *token : std::string());
}

std::optional<S3Credentials> S3Credentials::resolve() {
  if (auto c = from_environment()) return c;
  return from_shared_file();
}

S3Config S3Config::from_environment() {
  S3Config c;
  for (const char* name : {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"}) {
    if (c.endpoint.empty()) c.endpoint = env(name);
  }
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (const std::string r = env(name); !r.empty()) {
      c.region = r;
      break;
    }
  }
  c.credentials = S3Credentials::resolve();
  return c;
}

S3Config S3Config::from_dotenv(const std::string& path) {
  const auto kv = read_dotenv(path);
  S3Config c(dotenv_need(kv, path, "AWS_ENDPOINT"));
  if (const std::string* r = find_value(kv, "AWS_REGION"); r && !r->empty()) c.region = *r;
  const std::string id = dotenv_need(kv, path, "AWS_ACCESS_KEY_ID");
  const std::string secret = dotenv_need(kv, path, "AWS_SECRET_ACCESS_KEY");
  const std::string* token = find_value(kv, "AWS_SESSION_TOKEN");
  c.credentials = S3Credentials(id, secret, token ? *token : std::string());
  return c;
}

std::string S3Config::resolved_endpoint() const {
  std::string ep = endpoint.empty() ? "https://s3." + region + ".amazonaws.com" : endpoint;
  if (ep.find("://") == std::string::npos) ep = "https://" + ep;  // "minio.local:9000"
  while (!ep.empty() && ep.back() == '/') ep.pop_back();
  return ep;
}

bool S3Config::path_style(std::string_view bucket) const {
  switch (addressing) {
    case S3Addressing::path:
      return true;
    case S3Addressing::virtual_host:
      return false;
    case S3Addressing::automatic:
      break;
  }
  if (!is_dns_label_bucket(bucket)) return true;
  if (endpoint.empty()) return false;
  const HttpUrl u = HttpUrl::parse(resolved_endpoint());
  return u.host_is_ip || !is_aws_host(u.host);
}

std::string S3Config::object_url(std::string_view bucket, std::string_view key) const {
  const std::string ep = resolved_endpoint();
  const std::string path = sigv4::uri_encode(key, /*keep_slash=*/true);
  if (path_style(bucket)) return ep + "/" + std::string(bucket) + (key.empty() ? "" : "/" + path);
  const auto sep = ep.find("://") + 3;
  return ep.substr(0, sep) + std::string(bucket) + "." + ep.substr(sep) + "/" + path;
}

S3Location parse_s3_url(std::string_view url) {
  if (url.size() < 5 || lower(std::string(url.substr(0, 5))) != "s3://") {
    throw InvalidArgument("not an s3:// URL: '" + std::string(url) + "'");
  }
  std::string_view rest = url.substr(5);
  const auto slash = rest.find('/');
  std::string bucket(rest.substr(0, slash));
  std::string key = slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash + 1));
  if (bucket.empty()) throw InvalidArgument("s3 URL '" + std::string(url) + "' has no bucket");
  const bool valid = bucket.size() <= 255 && std::all_of(bucket.begin(), bucket.end(), [](unsigned char c) {
                       return std::isalnum(c) || c == '-' || c == '.' || c == '_';
                     });
  if (!valid)
    throw InvalidArgument("s3 URL '" + std::string(url) + "': invalid bucket name '" + bucket + "'");
  return S3Location(std::move(bucket), std::move(key));
}

// ---- errors ------------------------------------------------------------------

S3Error::S3Error(int status, std::string code, std::string message, std::string bucket, std::string key)
    : HttpError(status, location_url(bucket, key), code + (message.empty() ? "" : ": " + message)),
      code_(std::move(code)),
      message_(std::move(message)),
      bucket_(std::move(bucket)),
      key_(std::move(key)) {
  what_ = location_url(bucket_, key_) + ": " + std::to_string(status) + (code_.empty() ? "" : " " + code_) +
          (message_.empty() ? "" : ": " + message_);
}

S3Error s3_error_from_response(int status, std::string_view body, std::string bucket, std::string key) {
  std::string code, message;
  if (auto err = xml_elements(body, "Error"); !err.empty()) {
    code = s3_detail::xml_text(err.front(), "Code").value_or("");
    message = s3_detail::xml_text(err.front(), "Message").value_or("");
  }
  if (code.empty()) code = default_code(status, key);
  if (message.empty() && !body.empty() && body.find('<') == std::string_view::npos)
    message = body_snippet(body);
  return S3Error(status, std::move(code), std::move(message), std::move(bucket), std::move(key));
}

std::string S3Range::header() const {
  return "bytes=" + std::to_string(first) + "-" + (last ? std::to_string(*last) : std::string());
}

// ---- client --------------------------------------------------------------------

S3Client::S3Client(std::shared_ptr<HttpClient> http, S3Config config)
    : http_(std::move(http)), config_(std::move(config)) {
  if (!http_) throw InvalidArgument("S3Client needs an HttpClient");
  HttpUrl::parse(config_.resolved_endpoint());  // a bad endpoint fails here, not on first use
}

void S3Client::sign(HttpRequest& req, std::string_view payload_hash,
                    std::chrono::system_clock::time_point now) const {
  if (!config_.credentials || config_.credentials->empty()) return;
  const HttpUrl u = HttpUrl::parse(req.url);
  // Host, Range and the content headers are signed (S3's own choice in its
  // examples); headers a proxy may rewrite (User-Agent, Accept-Encoding)
  // are not, so they cannot break the signature.
  sigv4::Request s(req.method, u.target, {}, std::string(payload_hash));
  bool has_host = false;
  for (const auto& [name, value] : req.headers) {
    const std::string n = lower(name);
    if (n == "host" || n == "range" || n == "content-type" || n == "content-md5" ||
        (n.rfind("x-amz-", 0) == 0 && n != "x-amz-date" && n != "x-amz-content-sha256" &&
         n != "x-amz-security-token")) {
      has_host = has_host || n == "host";
      s.headers.emplace_back(n, value);
    }
  }
  if (!has_host) s.headers.emplace_back("host", u.host_header());
  const sigv4::Scope scope(config_.region, "s3", now);
  const sigv4::Signed signed_ = sigv4::sign_headers(s, *config_.credentials, scope);
  for (const char* h : {"Authorization", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"}) {
    req.headers.erase(h);
  }
  for (const auto& [name, value] : s.headers) {
    if (name == "x-amz-date" || name == "x-amz-content-sha256" || name == "x-amz-security-token") {
      req.headers.add(name, value);
    }
  }
  req.headers.add("Authorization", signed_.authorization);
}

std::string S3Client::presign_url(std::string_view method, std::string_view bucket, std::string_view key,
                                  std::chrono::seconds expires,
                                  std::chrono::system_clock::time_point now) const {
  const std::string url = config_.object_url(bucket, key);
  if (!config_.credentials || config_.credentials->empty()) return url;
  return sigv4::presign_url(method, url, *config_.credentials, sigv4::Scope(config_.region, "s3", now),
                            expires);
}

asio::awaitable<HttpResponse> S3Client::send(HttpRequest req, std::string_view payload_hash,
                                             const std::string& bucket, const std::string& key) {
  sign(req, payload_hash);
  HttpResponse r = co_await http_->request(std::move(req));
  if (!r.ok()) throw s3_error_from_response(r.status, r.body, bucket, key);
  co_return r;
}

asio::awaitable<HttpResponseStream> S3Client::open_object(std::string bucket, std::string key,
                                                          std::optional<S3Range> range) {
  HttpRequest req("GET", config_.object_url(bucket, key));
  if (range) req.headers.set("Range", range->header());
  sign(req);
  HttpResponseStream s = co_await http_->open(std::move(req));
  if (!s.ok()) co_await throw_stream_error(s, bucket, key);
  co_return s;
}

asio::awaitable<SharedBytes> S3Client::get_object(std::string bucket, std::string key,
                                                  std::uint64_t max_bytes) {
  HttpResponseStream s = co_await open_object(bucket, key);
  SharedBytes body = co_await s.read_all(max_bytes);
  co_return body;
}

asio::awaitable<S3ObjectInfo> S3Client::head_object(std::string bucket, std::string key) {
  HttpRequest req("HEAD", config_.object_url(bucket, key));
  HttpResponse r = co_await send(std::move(req), sigv4::kEmptyPayloadHash, bucket, key);
  S3ObjectInfo info;
  info.key = key;
  if (auto v = r.headers.get("Content-Length"))
    info.size = std::strtoull(std::string(*v).c_str(), nullptr, 10);
  if (auto v = r.headers.get("ETag")) info.etag = std::string(*v);
  if (auto v = r.headers.get("Last-Modified")) info.last_modified = std::string(*v);
  if (auto v = r.headers.get("Content-Type")) info.content_type = std::string(*v);
  co_return info;
}

asio::awaitable<std::string> S3Client::put_object(std::string bucket, std::string key, RequestBody body,
                                                  std::string content_type) {
  const std::string hash = body_hash(body);
  HttpRequest req("PUT", config_.object_url(bucket, key), {}, std::move(body));
  if (!content_type.empty()) req.headers.set("Content-Type", content_type);
  HttpResponse r = co_await send(std::move(req), hash, bucket, key);
  co_return std::string(r.headers.get("ETag").value_or(""));
}

asio::awaitable<void> S3Client::delete_object(std::string bucket, std::string key) {
  HttpRequest req("DELETE", config_.object_url(bucket, key));
  co_await send(std::move(req), sigv4::kEmptyPayloadHash, bucket, key);
}

asio::awaitable<std::vector<S3ObjectInfo>> S3Client::list_objects(std::string bucket, std::string prefix,
                                                                  int page_size) {
  if (page_size < 1 || page_size > 1000) {
    throw InvalidArgument("list_objects: page size " + std::to_string(page_size) + " outside 1..1000");
  }
  std::vector<S3ObjectInfo> all;
  std::string token;
  for (;;) {
    std::string url = config_.object_url(bucket, "") + "?list-type=2";
    if (page_size != 1000) url += "&max-keys=" + std::to_string(page_size);
    if (!prefix.empty()) url += "&prefix=" + sigv4::uri_encode(prefix, false);
    if (!token.empty()) url += "&continuation-token=" + sigv4::uri_encode(token, false);
    HttpRequest req("GET", url);
    HttpResponse r = co_await send(std::move(req), sigv4::kEmptyPayloadHash, bucket, prefix);
    s3_detail::ListPage page = s3_detail::parse_list_objects_v2(r.body);
    for (auto& o : page.objects) all.push_back(std::move(o));
    if (!page.truncated) break;
    if (page.next_token.empty() || page.next_token == token) {
      throw S3Error(r.status, "InvalidResponse", "truncated listing without a new continuation token", bucket,
                    prefix);
    }
    token = std::move(page.next_token);
  }
  co_return all;
}

asio::awaitable<void> S3Client::create_bucket(std::string bucket) {
  RequestBody body;
  const bool aws = config_.endpoint.empty() || is_aws_host(HttpUrl::parse(config_.resolved_endpoint()).host);
  if (aws && config_.region != "us-east-1") {
    body = RequestBody(
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        xml_escape(config_.region) + "</LocationConstraint></CreateBucketConfiguration>");
  }
  const std::string hash = body_hash(body);
  HttpRequest req("PUT", config_.object_url(bucket, ""), {}, std::move(body));
  sign(req, hash);
  HttpResponse r = co_await http_->request(std::move(req));
  if (r.ok()) co_return;
  S3Error e = s3_error_from_response(r.status, r.body, bucket, "");
  if (e.code() == "BucketAlreadyOwnedByYou") co_return;
  throw e;
}

asio::awaitable<std::string> S3Client::create_multipart(std::string bucket, std::string key) {
  HttpRequest req("POST", config_.object_url(bucket, key) + "?uploads");
  HttpResponse r = co_await send(std::move(req), sigv4::kEmptyPayloadHash, bucket, key);
  std::string id = s3_detail::xml_text(r.body, "UploadId").value_or("");
  if (id.empty()) throw S3Error(r.status, "InvalidResponse", "no UploadId in the answer", bucket, key);
  co_return id;
}

asio::awaitable<std::string> S3Client::upload_part(std::string bucket, std::string key, std::string upload_id,
                                                   int part_number, RequestBody body) {
  if (part_number < 1 || part_number > static_cast<int>(kMaxParts)) {
    throw InvalidArgument("upload_part: part number " + std::to_string(part_number) + " outside 1..10000");
  }
  const std::string hash = body_hash(body);
  const std::string url = config_.object_url(bucket, key) + "?partNumber=" + std::to_string(part_number) +
                          "&uploadId=" + sigv4::uri_encode(upload_id, false);
  HttpRequest req("PUT", url, {}, std::move(body));
  HttpResponse r = co_await send(std::move(req), hash, bucket, key);
  std::string etag(r.headers.get("ETag").value_or(""));
  if (etag.empty())
    throw S3Error(r.status, "InvalidResponse", "no ETag for part " + std::to_string(part_number), bucket,
                  key);
  co_return etag;
}

asio::awaitable<std::string> S3Client::complete_multipart(std::string bucket, std::string key,
                                                          std::string upload_id,
                                                          std::vector<S3CompletedPart> parts) {
  std::string xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& p : parts) {
    xml += "<Part><PartNumber>" + std::to_string(p.part_number) + "</PartNumber><ETag>" + xml_escape(p.etag) +
           "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  const std::string hash = sigv4::sha256_hex(xml);
  HttpRequest req("POST",
                  config_.object_url(bucket, key) + "?uploadId=" + sigv4::uri_encode(upload_id, false), {},
                  RequestBody(std::move(xml)));
  req.headers.set("Content-Type", "application/xml");
  HttpResponse r = co_await send(std::move(req), hash, bucket, key);
  // S3 may answer 200 and still fail the completion: the error is in the body.
  if (r.body.find("<Error>") != std::string::npos) throw s3_error_from_response(500, r.body, bucket, key);
  co_return s3_detail::xml_text(r.body, "ETag").value_or("");
}

asio::awaitable<void> S3Client::abort_multipart(std::string bucket, std::string key, std::string upload_id) {
  HttpRequest req("DELETE",
                  config_.object_url(bucket, key) + "?uploadId=" + sigv4::uri_encode(upload_id, false));
  co_await send(std::move(req), sigv4::kEmptyPayloadHash, bucket, key);
}

asio::awaitable<std::string> S3Client::upload_file(std::string bucket, std::string key, std::string path,
                                                   std::uint64_t part_bytes) {
  std::error_code ec;
  const std::uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw Error("upload of " + path + ": " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("upload of " + path + ": cannot open");
  if (part_bytes == 0) part_bytes = 8ull << 20;
  part_bytes = std::max(part_bytes, kMinPartBytes);
  part_bytes = std::max(part_bytes, (size + kMaxParts - 1) / kMaxParts);

  // Every request of the upload is retried the same way: transport failures
  // and 5xx with backoff, anything else (403, 404, …) is final.
  if (size <= part_bytes) {
    SharedBytes all = read_exactly(in, size, path, 0);
    for (int attempt = 0;; ++attempt) {
      std::exception_ptr failure;
      try {
        std::string etag = co_await put_object(bucket, key, RequestBody(all));
        co_return etag;
      } catch (...) {
        failure = std::current_exception();
      }
      if (attempt + 1 >= kPartAttempts || !retryable(failure)) std::rethrow_exception(failure);
      co_await backoff_sleep(http_->get_executor(), attempt);
    }
  }

  const std::string upload_id = co_await create_multipart(bucket, key);
  std::exception_ptr failure;
  std::string etag;
  try {
    std::vector<S3CompletedPart> parts;
    for (std::uint64_t offset = 0; offset < size; offset += part_bytes) {
      const int number = static_cast<int>(parts.size()) + 1;
      // One part in memory at a time: the next is read only after this one
      // has been sent.
      SharedBytes part = read_exactly(in, std::min(part_bytes, size - offset), path, offset);
      for (int attempt = 0;; ++attempt) {
        std::exception_ptr part_failure;
        try {
          std::string part_etag = co_await upload_part(bucket, key, upload_id, number, RequestBody(part));
          S3CompletedPart done;
          done.part_number = number;
          done.etag = std::move(part_etag);
          parts.push_back(std::move(done));
          break;
        } catch (...) {
          part_failure = std::current_exception();
        }
        if (attempt + 1 >= kPartAttempts || !retryable(part_failure)) std::rethrow_exception(part_failure);
        co_await backoff_sleep(http_->get_executor(), attempt);
      }
    }
    etag = co_await complete_multipart(bucket, key, upload_id, std::move(parts));
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // Parts of an unfinished upload are stored (and billed) until aborted.
    try {
      co_await abort_multipart(bucket, key, upload_id);
    } catch (const Error&) {
      // The original failure is what the caller needs to see.
    }
    std::rethrow_exception(failure);
  }
  co_return etag;
}

ByteSourcePtr open_s3_source(std::shared_ptr<HttpClient> http, S3Config config, std::string s3_url,
                             HttpSourceOptions options) {
  S3Location loc = parse_s3_url(s3_url);
  if (loc.key.empty()) throw InvalidArgument("s3 URL '" + s3_url + "' names no object (empty key)");
  auto client = std::make_shared<S3Client>(std::move(http), std::move(config));
  const std::string url = client->config().object_url(loc.bucket, loc.key);
  options.name = s3_url;
  options.prepare = [client, then = std::move(options.prepare)](HttpRequest& req) {
    client->sign(req);
    if (then) then(req);
  };
  options.on_error = [bucket = loc.bucket, key = loc.key](HttpResponseStream& s) {
    return throw_stream_error(s, bucket, key);
  };
  auto http_client = client->http();
  return open_http_source(std::move(http_client), url, std::move(options));
}

}  // namespace atdata::net
