#pragma once
// XrpcClient: XRPC calls by NSID against one service (a PDS, an AppView),
// on top of net::HttpClient. Queries are GET with URL-encoded parameters,
// procedures POST a JSON (or raw bytes) body; every answer outside 2xx becomes
// atdata::XrpcError{status, error, message} carrying the server's own text.
//
// Retries (all bounded, all configurable in XrpcOptions):
//  * 429 and 503 — the server refused before doing anything, so every call is
//    retried, after Retry-After, else RateLimit-Reset (when remaining is 0),
//    else exponential backoff with jitter. A server asking for a longer wait
//    than max_retry_wait gets its XrpcError thrown instead.
//  * transport failures (reset, timeout) and 502/504 — retried for idempotent
//    calls only (queries by default; see XrpcCall::idempotent).
// The last RateLimit-* headers seen are kept (rate_limit()), so bulk writers
// can pace themselves instead of running into 429s.

#include <boost/asio/awaitable.hpp>
#include <boost/json/fwd.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "atdata/atproto/rate_limit.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/net/http_client.hpp"
#include "atdata/net/http_message.hpp"

namespace atdata::atproto {

struct XrpcOptions {
  XrpcOptions() = default;         // not an aggregate: see XrpcCall
  int max_rate_limit_retries = 5;  // 429 / 503
  int max_transport_retries = 2;   // idempotent calls: reset, timeout, 502, 504
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_cap{10'000};
  // Longest single wait a server may ask for before the error is thrown.
  std::chrono::milliseconds max_retry_wait{60'000};
  // Largest JSON answer accepted (a listRecords page of 100 large records fits).
  std::uint64_t max_response_bytes = 32ull * 1024 * 1024;
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Per-call settings.
struct XrpcCall {
  // Not an aggregate on purpose: GCC 12 destroys brace-initialized aggregate
  // temporaries twice when they appear inside a co_await expression, so
  // designated initializers here would be a trap. Set members instead.
  XrpcCall() = default;
  // Sent as "Authorization: Bearer <token>" when not empty. Never logged.
  std::string bearer;
  // Default: true for queries, false for procedures.
  std::optional<bool> idempotent;
  net::HttpHeaders headers;  // extra request headers
};

// Arguments are taken by value where a coroutine would otherwise keep a
// reference to a caller's temporary (awaitables start lazily). `nsid` must
// outlive the call (NSIDs are usually literals).
class XrpcClient {
 public:
  // `service_url` without "/xrpc" (a trailing "/xrpc" or "/" is removed).
  XrpcClient(std::shared_ptr<net::HttpClient> http, std::string service_url, XrpcOptions options = {});

  const std::string& service_url() const noexcept { return service_; }
  const XrpcOptions& options() const noexcept { return options_; }
  net::HttpClient& http() const noexcept { return *http_; }

  // GET /xrpc/<nsid>?<params>. An empty 2xx body gives a null value.
  boost::asio::awaitable<boost::json::value> query(std::string_view nsid, QueryParams params = {},
                                                   XrpcCall call = {});
  // POST /xrpc/<nsid> with a JSON body (application/json).
  boost::asio::awaitable<boost::json::value> procedure(std::string_view nsid, boost::json::value input,
                                                       XrpcCall call = {});
  // POST with an already serialized JSON body (applyWrites batches).
  boost::asio::awaitable<boost::json::value> procedure_json(std::string_view nsid, std::string json_body,
                                                            XrpcCall call = {});
  // POST with no body (refreshSession, deleteSession).
  boost::asio::awaitable<boost::json::value> procedure_empty(std::string_view nsid, XrpcCall call = {});
  // POST raw bytes (uploadBlob). Stream bodies are reopened for each retry.
  boost::asio::awaitable<boost::json::value> procedure_bytes(std::string_view nsid, net::RequestBody body,
                                                             std::string content_type, XrpcCall call = {});
  // GET whose 2xx body is read by the caller (sync.getBlob). A non-2xx answer
  // is read (bounded) and thrown as XrpcError, with the same retries.
  boost::asio::awaitable<net::HttpResponseStream> query_stream(std::string_view nsid, QueryParams params = {},
                                                               XrpcCall call = {});

  // "<service>/xrpc/<nsid>?<params>" with percent-encoded parameters.
  std::string url(std::string_view nsid, const QueryParams& params = {}) const;

  // The RateLimit-* headers of the latest answer that carried them.
  RateLimitInfo rate_limit() const;
  // Starts from known state, for a client that takes over from another one
  // of the same session (a login that moved to the account's own PDS).
  void seed_rate_limit(const RateLimitInfo& info);

 private:
  struct Shared;
  boost::asio::awaitable<net::HttpResponse> send(std::string_view nsid, net::HttpRequest req,
                                                 bool idempotent);
  boost::asio::awaitable<net::HttpResponseStream> send_stream(std::string_view nsid, net::HttpRequest req,
                                                              bool idempotent);
  net::HttpRequest make_request(std::string_view method, std::string_view nsid, const QueryParams& params,
                                XrpcCall& call) const;

  std::shared_ptr<net::HttpClient> http_;
  std::string service_;
  XrpcOptions options_;
  std::shared_ptr<Shared> shared_;  // rate-limit state, shared by copies
};

// Percent-encodes a query component (RFC 3986 unreserved characters kept).
std::string url_encode_component(std::string_view s);

}  // namespace atdata::atproto
