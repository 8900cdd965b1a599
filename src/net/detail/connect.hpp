#pragma once
// Connection setup shared by the HTTP client and the WebSocket client:
// resolve (bounded by the connect timeout), TCP connect, TCP_NODELAY, and for
// https/wss the TLS handshake with SNI and host-name (or IP-literal)
// verification. One copy, so both clients fail the same way with the same
// messages.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

#include "atdata/net/http_options.hpp"
#include "atdata/net/url.hpp"

namespace atdata::net::detail {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
// Index 0: plain TCP; index 1: TLS.
using AnyStream = std::variant<boost::beast::tcp_stream, TlsStream>;

// A client TLS context (TLS 1.2+) configured from `tls`. Throws
// InvalidArgument when the CA file cannot be loaded.
boost::asio::ssl::context make_tls_context(const TlsOptions& tls);

struct ConnectParams {
  ConnectParams() = default;  // not an aggregate (GCC 12 and co_await)
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds tls_handshake_timeout{10'000};
  // Required for TLS URLs; must outlive the returned stream.
  boost::asio::ssl::context* tls_context = nullptr;
  bool verify_peer = true;
};

// Opens a connection to u's host and port (TLS when u.tls()). The stream's
// expiry is left disabled. Failures throw NetworkError "<what>: <phase>: ...",
// with the certificate verification result for TLS failures.
boost::asio::awaitable<AnyStream> connect_stream(boost::asio::any_io_executor ex, const HttpUrl& u,
                                                 ConnectParams params, std::string what);

// Throws NetworkError "<what>: <phase> timed out after N ms" for a timeout,
// "<what>: <phase>: <error>[ (verify result)]" otherwise.
[[noreturn]] void throw_network_error(const std::string& what, std::string_view phase,
                                      const boost::system::error_code& ec, std::chrono::milliseconds timeout,
                                      SSL* ssl = nullptr);

std::string ms_text(std::chrono::milliseconds d);

inline boost::beast::tcp_stream& lowest_layer(AnyStream& s) {
  return std::visit([](auto& x) -> boost::beast::tcp_stream& { return boost::beast::get_lowest_layer(x); },
                    s);
}

}  // namespace atdata::net::detail
