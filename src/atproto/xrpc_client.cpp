#include "atdata/atproto/xrpc_client.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <mutex>
#include <random>

#include "atdata/atproto/session.hpp"
#include "atdata/atproto/syntax.hpp"
#include "atdata/atproto/xrpc_error.hpp"
#include "atdata/error.hpp"

namespace asio = boost::asio;

namespace atdata::atproto {

struct XrpcClient::Shared {
  std::mutex mu;
  RateLimitInfo rate_limit;
  std::minstd_rand rng{std::random_device{}()};

  double random01() {
    std::lock_guard lock(mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }

  // Parses a response's RateLimit-* headers and keeps them when the server sent any.
  RateLimitInfo record_rate_limit(const net::HttpHeaders& h);

  // The wait before retrying, or nullopt to give up. Both spend from the caller's per-call
  // retry counters; only idempotent calls are retried after transport failures and 502/504.
  std::optional<std::chrono::milliseconds> transport_retry_wait(const XrpcOptions& o, bool idempotent,
                                                                int& tr_retries);
  std::optional<std::chrono::milliseconds> status_retry_wait(const XrpcOptions& o, bool idempotent,
                                                             int status, const RateLimitInfo& rl,
                                                             const net::HttpHeaders& h, int& rl_retries,
                                                             int& tr_retries);
};

namespace {

constexpr std::uint64_t kErrorBodyLimit = 64 * 1024;

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  if (d.count() <= 0) co_return;
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// How long the server asked us to wait, if it said so.
std::optional<std::chrono::milliseconds> server_delay(int status, const RateLimitInfo& rl,
                                                      const net::HttpHeaders& h) {
  auto now = std::chrono::system_clock::now();
  if (auto ra = h.get("Retry-After")) {
    if (auto d = parse_retry_after(*ra, now)) return d;
  }
  if (status == 429 && rl.reset) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(*rl.reset - now);
    // RateLimit-Reset has one-second resolution: wait until just past it.
    return std::max(d, std::chrono::milliseconds(0)) + std::chrono::milliseconds(100);
  }
  return std::nullopt;
}

boost::json::value parse_json_body(std::string_view nsid, const std::string& url, std::string_view body) {
  if (body.empty()) return nullptr;
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec) throw DecodeError(std::string(nsid) + ": response from " + url + " is not JSON: " + ec.message());
  return v;
}

}  // namespace

RateLimitInfo XrpcClient::Shared::record_rate_limit(const net::HttpHeaders& h) {
  auto rl = parse_rate_limit(h.get("RateLimit-Limit"), h.get("RateLimit-Remaining"), h.get("RateLimit-Reset"),
                             h.get("RateLimit-Policy"), std::chrono::system_clock::now());
  if (rl.known()) {
    std::lock_guard lock(mu);
    rate_limit = rl;
  }
  return rl;
}

std::optional<std::chrono::milliseconds> XrpcClient::Shared::transport_retry_wait(const XrpcOptions& o,
                                                                                  bool idempotent,
                                                                                  int& tr_retries) {
  if (!idempotent || tr_retries >= o.max_transport_retries) return std::nullopt;
  return backoff_delay(tr_retries++, o.backoff_base, o.backoff_cap, random01());
}

std::optional<std::chrono::milliseconds> XrpcClient::Shared::status_retry_wait(
    const XrpcOptions& o, bool idempotent, int status, const RateLimitInfo& rl, const net::HttpHeaders& h,
    int& rl_retries, int& tr_retries) {
  if ((status == 429 || status == 503) && rl_retries < o.max_rate_limit_retries) {
    auto wait = server_delay(status, rl, h)
                    .value_or(backoff_delay(rl_retries, o.backoff_base, o.backoff_cap, random01()));
    if (wait > o.max_retry_wait) return std::nullopt;
    ++rl_retries;
    return wait;
  }
  if (status == 502 || status == 504) return transport_retry_wait(o, idempotent, tr_retries);
  return std::nullopt;
}

std::string url_encode_component(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

XrpcClient::XrpcClient(std::shared_ptr<net::HttpClient> http, std::string service_url, XrpcOptions options)
    : http_(std::move(http)),
      service_(normalize_service_url(service_url)),
      options_(options),
      shared_(std::make_shared<Shared>()) {
  if (!http_) throw InvalidArgument("XrpcClient: no HttpClient");
}

std::string XrpcClient::url(std::string_view nsid, const QueryParams& params) const {
  if (!is_valid_nsid(nsid))
    throw InvalidArgument("XRPC: not a valid NSID: '" + std::string(nsid.substr(0, 100)) + "'");
  std::string u = service_ + "/xrpc/" + std::string(nsid);
  char sep = '?';
  for (const auto& [k, v] : params) {
    u.push_back(sep);
    sep = '&';
    u += url_encode_component(k);
    u.push_back('=');
    u += url_encode_component(v);
  }
  return u;
}

RateLimitInfo XrpcClient::rate_limit() const {
  std::lock_guard lock(shared_->mu);
  return shared_->rate_limit;
}

void XrpcClient::seed_rate_limit(const RateLimitInfo& info) {
  if (!info.known()) return;
  std::lock_guard lock(shared_->mu);
  shared_->rate_limit = info;
}

net::HttpRequest XrpcClient::make_request(std::string_view method, std::string_view nsid,
                                          const QueryParams& params, XrpcCall& call) const {
  net::HttpRequest req;
  req.method = std::string(method);
  req.url = url(nsid, params);
  req.headers = std::move(call.headers);
  if (!call.bearer.empty()) req.headers.set("Authorization", "Bearer " + call.bearer);
  return req;
}

asio::awaitable<net::HttpResponse> XrpcClient::send(std::string_view nsid, net::HttpRequest req,
                                                    bool idempotent) {
  int rl_retries = 0, tr_retries = 0;
  for (;;) {
    std::optional<net::HttpResponse> resp;
    std::exception_ptr transport_error;
    try {
      resp = co_await http_->request(req);
    } catch (const NetworkError&) {
      transport_error = std::current_exception();
    }
    if (transport_error) {
      auto wait = shared_->transport_retry_wait(options_, idempotent, tr_retries);
      if (!wait) std::rethrow_exception(transport_error);
      co_await sleep_for(*wait);
      continue;
    }
    auto rl = shared_->record_rate_limit(resp->headers);
    if (resp->ok()) {
      if (resp->body.size() > options_.max_response_bytes) {
        throw NetworkError(std::string(nsid) + ": response of " + std::to_string(resp->body.size()) +
                           " bytes exceeds the limit of " + std::to_string(options_.max_response_bytes));
      }
      co_return std::move(*resp);
    }
    const int st = resp->status;
    auto wait =
        shared_->status_retry_wait(options_, idempotent, st, rl, resp->headers, rl_retries, tr_retries);
    if (!wait) throw make_xrpc_error(st, std::string(nsid), resp->body);
    co_await sleep_for(*wait);
  }
}

asio::awaitable<net::HttpResponseStream> XrpcClient::send_stream(std::string_view nsid, net::HttpRequest req,
                                                                 bool idempotent) {
  int rl_retries = 0, tr_retries = 0;
  for (;;) {
    std::optional<net::HttpResponseStream> resp;
    std::exception_ptr transport_error;
    try {
      resp = co_await http_->open(req);
    } catch (const NetworkError&) {
      transport_error = std::current_exception();
    }
    if (transport_error) {
      auto wait = shared_->transport_retry_wait(options_, idempotent, tr_retries);
      if (!wait) std::rethrow_exception(transport_error);
      co_await sleep_for(*wait);
      continue;
    }
    const auto& h = resp->headers();
    auto rl = shared_->record_rate_limit(h);
    if (resp->ok()) co_return std::move(*resp);
    const int st = resp->status();
    std::string body;
    {
      // An error body larger than the limit is not worth reading: the status says enough.
      std::exception_ptr read_error;
      try {
        auto b = co_await resp->read_all(kErrorBodyLimit);
        body.assign(b.as_string_view());
      } catch (const NetworkError&) {
        read_error = std::current_exception();
      }
      (void)read_error;
    }
    auto wait = shared_->status_retry_wait(options_, idempotent, st, rl, h, rl_retries, tr_retries);
    if (!wait) throw make_xrpc_error(st, std::string(nsid), body);
    resp.reset();
    co_await sleep_for(*wait);
  }
}

asio::awaitable<boost::json::value> XrpcClient::query(std::string_view nsid, QueryParams params,
                                                      XrpcCall call) {
  auto req = make_request("GET", nsid, params, call);
  std::string u = req.url;
  auto resp = co_await send(nsid, std::move(req), call.idempotent.value_or(true));
  co_return parse_json_body(nsid, u, resp.body);
}

asio::awaitable<boost::json::value> XrpcClient::procedure(std::string_view nsid, boost::json::value input,
                                                          XrpcCall call) {
  co_return co_await procedure_json(nsid, boost::json::serialize(input), std::move(call));
}

asio::awaitable<boost::json::value> XrpcClient::procedure_json(std::string_view nsid, std::string json_body,
                                                               XrpcCall call) {
  auto req = make_request("POST", nsid, {}, call);
  req.headers.set("Content-Type", "application/json");
  req.body = net::RequestBody(std::move(json_body));
  std::string u = req.url;
  auto resp = co_await send(nsid, std::move(req), call.idempotent.value_or(false));
  co_return parse_json_body(nsid, u, resp.body);
}

asio::awaitable<boost::json::value> XrpcClient::procedure_empty(std::string_view nsid, XrpcCall call) {
  auto req = make_request("POST", nsid, {}, call);
  std::string u = req.url;
  auto resp = co_await send(nsid, std::move(req), call.idempotent.value_or(false));
  co_return parse_json_body(nsid, u, resp.body);
}

asio::awaitable<boost::json::value> XrpcClient::procedure_bytes(std::string_view nsid, net::RequestBody body,
                                                                std::string content_type, XrpcCall call) {
  auto req = make_request("POST", nsid, {}, call);
  req.headers.set("Content-Type",
                  content_type.empty() ? "application/octet-stream" : std::move(content_type));
  req.body = std::move(body);
  std::string u = req.url;
  auto resp = co_await send(nsid, std::move(req), call.idempotent.value_or(false));
  co_return parse_json_body(nsid, u, resp.body);
}

asio::awaitable<net::HttpResponseStream> XrpcClient::query_stream(std::string_view nsid, QueryParams params,
                                                                  XrpcCall call) {
  auto req = make_request("GET", nsid, params, call);
  co_return co_await send_stream(nsid, std::move(req), call.idempotent.value_or(true));
}

}  // namespace atdata::atproto
