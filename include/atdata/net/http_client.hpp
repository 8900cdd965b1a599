#pragma once
// HttpClient: HTTP/1.1 over TCP and TLS on Boost.Beast, every operation an
// asio::awaitable. One client owns a keep-alive connection pool per
// (scheme, host, port); it may be used concurrently from any number of
// coroutines on the io_context's threads. Non-2xx answers are ordinary
// responses; transport failures throw atdata::NetworkError with the method,
// URL and the phase that failed (never header values: they carry tokens).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "atdata/core/shared_bytes.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/net/http_message.hpp"
#include "atdata/net/http_options.hpp"

namespace atdata::net {

namespace detail {
struct ClientImpl;
struct StreamState;
}  // namespace detail

// A response whose body is read incrementally. Holds its connection until the
// body has been read to the end (then the connection returns to the pool) or
// the stream is destroyed (then the connection is closed). Use from one
// coroutine at a time.
class HttpResponseStream {
 public:
  HttpResponseStream();
  HttpResponseStream(HttpResponseStream&&) noexcept;
  HttpResponseStream& operator=(HttpResponseStream&&) noexcept;
  ~HttpResponseStream();

  int status() const noexcept;
  bool ok() const noexcept { return status() >= 200 && status() < 300; }
  const HttpHeaders& headers() const noexcept;
  const std::string& url() const noexcept;  // final URL, after redirects
  std::optional<std::uint64_t> content_length() const noexcept;
  std::uint64_t bytes_read() const noexcept;  // body bytes delivered so far
  bool done() const noexcept;                 // the whole body has been read

  // The next chunk of the body (at most body_chunk_bytes); empty at the end.
  // Throws NetworkError naming the URL and byte offset on a transport failure.
  boost::asio::awaitable<SharedBytes> next();
  // The rest of the body as one buffer. Throws NetworkError, before reading
  // anything when Content-Length says so, if it exceeds `limit` bytes.
  boost::asio::awaitable<SharedBytes> read_all(std::uint64_t limit);
  // Unless 2xx: reads a short body excerpt and throws HttpError.
  boost::asio::awaitable<void> throw_if_error();

 private:
  friend struct detail::ClientImpl;
  explicit HttpResponseStream(std::unique_ptr<detail::StreamState> s);
  std::unique_ptr<detail::StreamState> s_;
};

struct HttpPoolStats {
  std::uint64_t connections_opened = 0;  // TCP (+TLS) connections established
  std::uint64_t requests_sent = 0;       // including retries and redirects
  std::uint64_t connections_reused = 0;  // requests sent on a pooled connection
  std::uint64_t retries = 0;             // stale-connection retries
};

class HttpClient {
 public:
  explicit HttpClient(boost::asio::any_io_executor ex, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends the request and reads the whole response body (at most
  // options().max_body_bytes, else NetworkError).
  boost::asio::awaitable<HttpResponse> request(HttpRequest req);
  // Sends the request and returns once the response header has arrived.
  boost::asio::awaitable<HttpResponseStream> open(HttpRequest req);

  boost::asio::awaitable<HttpResponse> get(std::string url, HttpHeaders headers = {});

  const HttpClientOptions& options() const noexcept;
  boost::asio::any_io_executor get_executor() const noexcept;
  HttpPoolStats stats() const noexcept;
  // Closes every idle pooled connection (in-use ones are unaffected).
  void close_idle();

 private:
  std::shared_ptr<detail::ClientImpl> impl_;
};

// `preferred` when it is bound to `ex` (sockets must live on the executor
// that drives them), otherwise a new client on `ex` with the same options
// (the defaults when `preferred` is null).
std::shared_ptr<HttpClient> client_on(const std::shared_ptr<HttpClient>& preferred,
                                      const boost::asio::any_io_executor& ex);

}  // namespace atdata::net
