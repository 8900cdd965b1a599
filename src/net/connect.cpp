#include "net/detail/connect.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include "atdata/error.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace atdata::net::detail {

std::string ms_text(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

void throw_network_error(const std::string& what, std::string_view phase, const error_code& ec,
                         std::chrono::milliseconds timeout, SSL* ssl) {
  if (ec == beast::error::timeout) {
    throw NetworkError(what + ": " + std::string(phase) + " timed out after " + ms_text(timeout));
  }
  std::string msg = what + ": " + std::string(phase) + ": " + ec.message();
  if (ssl) {
    const long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK) msg += std::string(" (") + X509_verify_cert_error_string(vr) + ")";
  }
  throw NetworkError(msg);
}

ssl::context make_tls_context(const TlsOptions& tls) {
  ssl::context c(ssl::context::tls_client);
  c.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (tls.verify_peer) {
    if (tls.use_system_ca) c.set_default_verify_paths();
    if (!tls.ca_file.empty()) {
      error_code ec;
      c.load_verify_file(tls.ca_file, ec);
      if (ec) throw InvalidArgument("cannot load CA file '" + tls.ca_file + "': " + ec.message());
    }
    c.set_verify_mode(ssl::verify_peer);
  } else {
    c.set_verify_mode(ssl::verify_none);
  }
  return c;
}

// (GCC 12 mis-destroys block-scoped coroutine locals around co_return in some
// shapes: locals stay at function scope and there is a single co_return.)
asio::awaitable<AnyStream> connect_stream(asio::any_io_executor ex, const HttpUrl& u, ConnectParams p,
                                          std::string what) {
  using namespace asio::experimental::awaitable_operators;
  const std::string port = std::to_string(u.port);
  const std::string where =
      (u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host) + ":" + port;
  if (u.tls() && !p.tls_context) throw InvalidArgument(what + ": TLS URL without a TLS context");
  tcp::resolver::results_type eps;
  if (u.host_is_ip) {
    error_code ec;
    auto addr = asio::ip::make_address(u.host, ec);
    if (ec) throw NetworkError(what + ": bad IP address");
    eps = tcp::resolver::results_type::create(tcp::endpoint(addr, u.port), u.host, port);
  } else {
    tcp::resolver resolver(ex);
    asio::steady_timer timer(ex, p.connect_timeout);
    std::variant<tcp::resolver::results_type, std::monostate> r;
    try {
      r = co_await (resolver.async_resolve(u.host, port, asio::use_awaitable) ||
                    timer.async_wait(asio::use_awaitable));
    } catch (const boost::system::system_error& e) {
      throw_network_error(what, "resolve " + u.host, e.code(), p.connect_timeout);
    }
    if (r.index() == 1)
      throw_network_error(what, "resolve " + u.host, beast::error::timeout, p.connect_timeout);
    eps = std::get<0>(std::move(r));
  }

  AnyStream stream =
      u.tls() ? AnyStream(std::in_place_index<1>, ex, *p.tls_context) : AnyStream(std::in_place_index<0>, ex);
  auto& t = lowest_layer(stream);
  error_code ec;
  t.expires_after(p.connect_timeout);
  co_await t.async_connect(eps, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) throw_network_error(what, "connect to " + where, ec, p.connect_timeout);
  t.socket().set_option(tcp::no_delay(true), ec);

  if (u.tls()) {
    auto& s = std::get<1>(stream);
    SSL* h = s.native_handle();
    if (u.host_is_ip) {
      // RFC 6066: no SNI for IP literals; verify against the IP SANs.
      if (p.verify_peer && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(h), u.host.c_str()) != 1) {
        throw NetworkError(what + ": cannot set TLS verification address");
      }
    } else {
      if (SSL_set_tlsext_host_name(h, u.host.c_str()) != 1) throw NetworkError(what + ": cannot set TLS SNI");
      // OpenSSL's own host check reports "hostname mismatch" as the verify result.
      if (p.verify_peer && SSL_set1_host(h, u.host.c_str()) != 1) {
        throw NetworkError(what + ": cannot set TLS verification host");
      }
    }
    t.expires_after(p.tls_handshake_timeout);
    co_await s.async_handshake(ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) throw_network_error(what, "TLS handshake with " + where, ec, p.tls_handshake_timeout, h);
  }
  t.expires_never();
  co_return std::move(stream);
}

}  // namespace atdata::net::detail
