#include "support/ws_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <deque>
#include <stdexcept>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace atdata::test {
namespace detail {

// A broadcast "something changed" signal: waiters re-check their condition.
// The timer's expiry is never reset (that would cancel other waiters).
struct Signal {
  asio::steady_timer timer;
  explicit Signal(const asio::any_io_executor& ex) : timer(ex, asio::steady_timer::time_point::max()) {}
  void notify() { timer.cancel(); }
  asio::awaitable<void> wait() {
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
};

struct WsConnState {
  websocket::stream<beast::tcp_stream> ws;
  http::request<http::string_body> req;
  std::string target;
  std::size_t index = 0;
  bool open = true;
  std::size_t pings = 0;
  std::deque<std::string> inbox;
  Signal changed;

  WsConnState(tcp::socket sock, const asio::any_io_executor& ex)
      : ws(beast::tcp_stream(std::move(sock))), changed(ex) {}

  void end() {
    if (!open) return;
    open = false;
    error_code ec;
    beast::get_lowest_layer(ws).socket().close(ec);
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

  WsServerState(asio::any_io_executor e, WsServer::Handler h)
      : ex(e), acceptor(e, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), handler(std::move(h)) {}
};

namespace {

void drop_conn(WsConnState& c, bool reset) {
  if (!c.open) return;
  auto& sock = beast::get_lowest_layer(c.ws).socket();
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

asio::awaitable<void> serve(std::shared_ptr<WsServerState> st, tcp::socket sock) {
  auto c = std::make_shared<WsConnState>(std::move(sock), st->ex);
  beast::flat_buffer buf;
  error_code ec;
  auto& stream = beast::get_lowest_layer(c->ws);
  stream.expires_after(std::chrono::seconds(10));
  co_await http::async_read(stream, buf, c->req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  c->target = std::string(c->req.target());
  st->targets.push_back(c->target);
  if (st->reject_status != 0 || !websocket::is_upgrade(c->req)) {
    http::response<http::string_body> res(
        static_cast<http::status>(st->reject_status ? st->reject_status : 400), c->req.version());
    res.set(http::field::content_type, "text/plain");
    res.body() = st->reject_body;
    res.prepare_payload();
    res.keep_alive(false);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    co_return;
  }
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

WsServer::~WsServer() {
  error_code ec;
  s_->acceptor.close(ec);
  drop_all();
}

std::uint16_t WsServer::port() const {
  return s_->acceptor.local_endpoint().port();
}
std::string WsServer::url(std::string_view path) const {
  return "ws://127.0.0.1:" + std::to_string(port()) + std::string(path);
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
