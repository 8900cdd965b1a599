#include "support/ws_server.hpp"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>
#include <stdexcept>

#include "atdata/io/detail/signal.hpp"
#include "net/detail/erased_stream.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace atdata::test {
namespace detail {

using atdata::detail::Signal;  // waiters re-check their condition after each wakeup

// One instantiation of Beast's WebSocket (and HTTP) for both transports.
using Ws = websocket::stream<net::detail::ErasedStream>;

net::detail::AnyStream make_stream(tcp::socket sock, asio::ssl::context* tls) {
  if (!tls) return net::detail::AnyStream(std::in_place_index<0>, beast::tcp_stream(std::move(sock)));
  return net::detail::AnyStream(std::in_place_index<1>, beast::tcp_stream(std::move(sock)), *tls);
}

struct WsConnState {
  Ws ws;
  http::request<http::string_body> req;
  std::string target;
  std::size_t index = 0;
  bool open = true;
  std::size_t pings = 0;
  std::deque<std::string> inbox;
  Signal changed;

  WsConnState(tcp::socket sock, const asio::any_io_executor& ex, asio::ssl::context* tls)
      : ws(net::detail::ErasedStream(make_stream(std::move(sock), tls))), changed(ex) {}

  beast::tcp_stream& tcp_layer() { return ws.next_layer().tcp(); }

  void end() {
    if (!open) return;
    open = false;
    error_code ec;
    tcp_layer().socket().close(ec);
    changed.notify();
  }
};

struct WsServerState {
  asio::any_io_executor ex;
  tcp::acceptor acceptor;
  WsServer::Handler handler;
  int reject_status = 0;
  std::string reject_body;
  std::size_t accepted = 0;
  std::vector<std::string> targets;
  std::vector<std::weak_ptr<WsConnState>> live;
  std::unique_ptr<asio::ssl::context> tls;

  WsServerState(asio::any_io_executor e, WsServer::Handler h)
      : ex(e), acceptor(e, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), handler(std::move(h)) {}
};

namespace {

void drop_conn(WsConnState& c, bool reset) {
  if (!c.open) return;
  auto& sock = c.tcp_layer().socket();
  error_code ec;
  if (reset) {
    sock.set_option(asio::socket_base::linger(true, 0), ec);
  } else {
    sock.shutdown(tcp::socket::shutdown_both, ec);
  }
  c.end();
}

asio::awaitable<void> reader(std::shared_ptr<WsConnState> c) {
  beast::flat_buffer buf;
  while (c->open) {
    error_code ec;
    buf.clear();
    co_await c->ws.async_read(buf, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    c->inbox.push_back(beast::buffers_to_string(buf.data()));
    c->changed.notify();
  }
  c->end();
}

asio::awaitable<void> run_handler(std::shared_ptr<WsServerState> st, std::shared_ptr<WsConnState> c) {
  WsServerConnection conn(c);
  try {
    co_await st->handler(conn);
  } catch (const std::exception&) {
    // A handler failing (usually a write after the client left) just ends it.
  }
  drop_conn(*c, true);
}

// The upgrade request is read from (and a rejection written to) the stream
// under the WebSocket, after the TLS handshake if any.
asio::awaitable<bool> read_upgrade(std::shared_ptr<WsServerState> st, std::shared_ptr<WsConnState> c,
                                   beast::flat_buffer& buf) {
  auto& http_stream = c->ws.next_layer();
  error_code ec;
  co_await http::async_read(http_stream, buf, c->req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  c->target = std::string(c->req.target());
  st->targets.push_back(c->target);
  if (st->reject_status != 0 || !websocket::is_upgrade(c->req)) {
    http::response<http::string_body> res(
        static_cast<http::status>(st->reject_status ? st->reject_status : 400), c->req.version());
    res.set(http::field::content_type, "text/plain");
    res.body() = st->reject_body;
    res.prepare_payload();
    res.keep_alive(false);
    co_await http::async_write(http_stream, res, asio::redirect_error(asio::use_awaitable, ec));
    c->tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ec);
    co_return false;
  }
  co_return true;
}

asio::awaitable<void> serve(std::shared_ptr<WsServerState> st, tcp::socket sock) {
  auto c = std::make_shared<WsConnState>(std::move(sock), st->ex, st->tls.get());
  beast::flat_buffer buf;
  error_code ec;
  auto& stream = c->tcp_layer();
  stream.expires_after(std::chrono::seconds(10));
  bool upgrade = false;
  if (auto* t = std::get_if<1>(&c->ws.next_layer().get())) {
    co_await t->async_handshake(asio::ssl::stream_base::server,
                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
  upgrade = co_await read_upgrade(st, c, buf);
  if (!upgrade) co_return;
  co_await c->ws.async_accept(c->req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  stream.expires_never();
  c->index = st->accepted++;
  c->ws.control_callback([raw = c.get()](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::ping) {
      ++raw->pings;
      raw->changed.notify();
    }
  });
  st->live.push_back(c);
  asio::co_spawn(st->ex, reader(c), asio::detached);
  asio::co_spawn(st->ex, run_handler(st, c), asio::detached);
}

asio::awaitable<void> accept_loop(std::shared_ptr<WsServerState> st) {
  for (;;) {
    error_code ec;
    tcp::socket sock = co_await st->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    asio::co_spawn(st->ex, serve(st, std::move(sock)), asio::detached);
  }
}

}  // namespace
}  // namespace detail

const std::string& WsServerConnection::target() const {
  return s_->target;
}
std::string WsServerConnection::header(std::string_view name) const {
  auto it = s_->req.find(beast::string_view(name.data(), name.size()));
  return it == s_->req.end() ? std::string() : std::string(it->value());
}
std::size_t WsServerConnection::index() const {
  return s_->index;
}

asio::awaitable<void> WsServerConnection::send_binary(std::span<const std::byte> data) {
  auto c = s_;
  if (!c->open) throw std::runtime_error("ws_server: send on a closed connection");
  c->ws.binary(true);
  co_await c->ws.async_write(asio::buffer(data.data(), data.size()), asio::use_awaitable);
}

asio::awaitable<void> WsServerConnection::send_binary(std::string_view data) {
  co_await send_binary(std::as_bytes(std::span(data.data(), data.size())));
}

asio::awaitable<void> WsServerConnection::send_text(std::string_view text) {
  auto c = s_;
  if (!c->open) throw std::runtime_error("ws_server: send on a closed connection");
  c->ws.text(true);
  co_await c->ws.async_write(asio::buffer(text.data(), text.size()), asio::use_awaitable);
}

asio::awaitable<void> WsServerConnection::close(std::uint16_t code, std::string reason) {
  auto c = s_;
  if (c->open) {
    error_code ec;
    websocket::close_reason cr(static_cast<websocket::close_code>(code),
                               beast::string_view(reason.data(), std::min<std::size_t>(reason.size(), 123)));
    co_await c->ws.async_close(cr, asio::redirect_error(asio::use_awaitable, ec));
    c->end();
  }
}

void WsServerConnection::drop(bool reset) {
  detail::drop_conn(*s_, reset);
}

asio::awaitable<std::optional<std::string>> WsServerConnection::read_text() {
  auto c = s_;
  while (c->inbox.empty() && c->open) co_await c->changed.wait();
  std::optional<std::string> out;
  if (!c->inbox.empty()) {
    out = std::move(c->inbox.front());
    c->inbox.pop_front();
  }
  co_return out;
}

asio::awaitable<void> WsServerConnection::wait_pings(std::size_t n) {
  auto c = s_;
  while (c->pings < n && c->open) co_await c->changed.wait();
}

asio::awaitable<void> WsServerConnection::wait_closed() {
  auto c = s_;
  while (c->open) co_await c->changed.wait();
}

std::size_t WsServerConnection::pings_received() const {
  return s_->pings;
}
bool WsServerConnection::is_open() const {
  return s_->open;
}

WsServer::WsServer(asio::any_io_executor ex, Handler handler)
    : s_(std::make_shared<detail::WsServerState>(ex, std::move(handler))) {
  asio::co_spawn(ex, detail::accept_loop(s_), asio::detached);
}

WsServer::WsServer(asio::any_io_executor ex, Handler handler, const WsServerTls& tls)
    : s_(std::make_shared<detail::WsServerState>(ex, std::move(handler))) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  ctx->use_certificate_chain(asio::buffer(tls.cert_pem));
  ctx->use_private_key(asio::buffer(tls.key_pem), asio::ssl::context::pem);
  s_->tls = std::move(ctx);
  asio::co_spawn(ex, detail::accept_loop(s_), asio::detached);
}

WsServerTls make_test_tls() {
  WsServerTls out;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  if (!key || !x) throw std::runtime_error("ws_server: cannot create a test key/certificate");
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 7 * 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"),
                             -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  const std::pair<int, const char*> exts[] = {{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                                              {NID_basic_constraints, "critical,CA:TRUE"},
                                              {NID_key_usage, "critical,digitalSignature,keyCertSign"}};
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    if (!e) throw std::runtime_error("ws_server: cannot add a certificate extension");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
  }
  if (!X509_sign(x, key, EVP_sha256()))
    throw std::runtime_error("ws_server: cannot sign the test certificate");
  auto to_pem = [](auto write) {
    BIO* b = BIO_new(BIO_s_mem());
    write(b);
    char* p = nullptr;
    const long n = BIO_get_mem_data(b, &p);
    std::string s(p, static_cast<std::size_t>(n));
    BIO_free(b);
    return s;
  };
  out.cert_pem = to_pem([&](BIO* b) { PEM_write_bio_X509(b, x); });
  out.key_pem =
      to_pem([&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

WsServer::~WsServer() {
  error_code ec;
  s_->acceptor.close(ec);
  drop_all();
}

std::uint16_t WsServer::port() const {
  return s_->acceptor.local_endpoint().port();
}
std::string WsServer::url(std::string_view path) const {
  return std::string(s_->tls ? "wss" : "ws") + "://127.0.0.1:" + std::to_string(port()) + std::string(path);
}
void WsServer::reject_with(int status, std::string body) {
  s_->reject_status = status;
  s_->reject_body = std::move(body);
}
std::size_t WsServer::connections() const {
  return s_->accepted;
}
std::vector<std::string> WsServer::targets() const {
  return s_->targets;
}
void WsServer::drop_all() {
  for (auto& w : s_->live) {
    if (auto c = w.lock()) detail::drop_conn(*c, true);
  }
  s_->live.clear();
}

}  // namespace atdata::test
