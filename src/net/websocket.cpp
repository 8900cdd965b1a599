#include "atdata/net/websocket.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <algorithm>
#include <limits>
#include <optional>
#include <vector>

#include "atdata/error.hpp"
#include "atdata/net/url.hpp"
#include "net/detail/connect.hpp"
#include "net/detail/erased_stream.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using boost::system::error_code;

namespace atdata::net {
namespace detail {

namespace {

using Clock = std::chrono::steady_clock;
// One instantiation of Beast's WebSocket for both transports.
using Ws = websocket::stream<ErasedStream>;

}  // namespace

// Shared (not owned by the WebSocket alone) because timer handlers and
// coroutines still running after the WebSocket is gone must find it alive.
struct WsCore : std::enable_shared_from_this<WsCore> {
  asio::any_io_executor ex;
  std::string url;
  WebSocketOptions opt;
  // Declared before `ws`: the TLS stream refers to it.
  std::unique_ptr<ssl::context> tls_ctx;
  Ws ws;
  std::vector<std::byte> buf;
  std::vector<std::byte> scratch;  // the discarded tail of an oversized message
  // Beast keeps a reference to the DynamicBuffer object for the read's life.
  std::optional<asio::dynamic_vector_buffer<std::byte, std::allocator<std::byte>>> dbuf;

  // Read-side watchdog (ping when idle, read timeout) and write deadline.
  asio::steady_timer watchdog;
  asio::steady_timer write_timer;
  asio::steady_timer ping_done;  // cancelled when a ping completes (close() waits on it)
  Clock::time_point last_rx{};
  Clock::time_point read_started{};
  Clock::time_point last_ping{};

  bool open = false;
  bool reading = false;
  bool pinging = false;
  bool closing = false;
  bool aborted = false;
  bool read_timed_out = false;
  bool watchdog_armed = false;
  bool write_timed_out = false;
  std::uint64_t messages = 0, bytes = 0;

  WsCore(asio::any_io_executor e, std::string u, WebSocketOptions o, std::unique_ptr<ssl::context> ctx,
         AnyStream s)
      : ex(e),
        url(std::move(u)),
        opt(std::move(o)),
        tls_ctx(std::move(ctx)),
        ws(ErasedStream(std::move(s))),
        watchdog(e),
        write_timer(e),
        ping_done(e) {
    // Truncating reads count bytes themselves (read()).
    ws.read_message_max(opt.truncate_oversized ? std::numeric_limits<std::size_t>::max()
                                               : opt.max_message_bytes);
    // Timeouts are ours (watchdog, write_timer); Beast's stay off.
    websocket::stream_base::timeout t;
    t.handshake_timeout = websocket::stream_base::none();
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws.set_option(t);
    ws.control_callback([this](websocket::frame_type, beast::string_view) { last_rx = Clock::now(); });
    std::string ua = opt.user_agent;
    HttpHeaders extra = opt.headers;
    ws.set_option(websocket::stream_base::decorator([ua, extra](websocket::request_type& req) {
      if (!ua.empty()) req.set(beast::http::field::user_agent, ua);
      for (const auto& [name, value] : extra) req.set(name, value);
    }));
  }

  beast::tcp_stream& tcp() { return ws.next_layer().tcp(); }

  void kill_socket() noexcept {
    open = false;
    error_code ec;
    auto& sock = tcp().socket();
    if (sock.is_open()) {
      sock.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      sock.close(ec);
    }
    watchdog.cancel();
    write_timer.cancel();
  }

  // ---- read watchdog -------------------------------------------------------

  // Armed once and left running across reads: moving the expiry on every
  // message would cost a timer syscall each. When it fires early (data came
  // in meanwhile) it re-arms for the real deadline.
  void arm_watchdog() {
    if (watchdog_armed || !reading || !open) return;
    const auto base = std::max(last_rx, read_started);
    auto next = Clock::time_point::max();
    if (opt.read_timeout.count() > 0) next = std::min(next, base + opt.read_timeout);
    if (opt.ping_interval.count() > 0) next = std::min(next, std::max(base, last_ping) + opt.ping_interval);
    if (next == Clock::time_point::max()) return;
    watchdog.expires_at(next);
    watchdog_armed = true;
    watchdog.async_wait([w = weak_from_this()](error_code ec) {
      auto self = w.lock();
      if (!self) return;
      self->watchdog_armed = false;
      if (!ec) self->on_watchdog();
    });
  }

  void on_watchdog() {
    if (!reading || !open) return;
    const auto now = Clock::now();
    const auto base = std::max(last_rx, read_started);
    if (opt.read_timeout.count() > 0 && now - base >= opt.read_timeout) {
      read_timed_out = true;
      kill_socket();  // the pending read fails; read() reports the timeout
      return;
    }
    if (opt.ping_interval.count() > 0 && now - std::max(base, last_ping) >= opt.ping_interval) {
      last_ping = now;
      start_ping();
    }
    arm_watchdog();
  }

  void start_ping() {
    if (pinging || closing || !open) return;  // Beast allows one ping/close at a time
    pinging = true;
    ws.async_ping({}, [self = shared_from_this()](error_code) {
      self->pinging = false;
      self->ping_done.cancel();
    });
  }

  // ---- write deadline ------------------------------------------------------

  void arm_write_timer() {
    if (opt.write_timeout.count() <= 0) return;
    write_timer.expires_after(opt.write_timeout);
    write_timer.async_wait([w = weak_from_this()](error_code ec) {
      auto self = w.lock();
      if (!self || ec) return;
      self->write_timed_out = true;
      self->kill_socket();
    });
  }

  void check_open(std::string_view op) const {
    if (!open) throw NetworkError(url + ": " + std::string(op) + " on a closed WebSocket");
  }

  [[noreturn]] void write_failed(std::string_view op, const error_code& ec) {
    kill_socket();
    if (aborted) throw NetworkError(url + ": " + std::string(op) + ": aborted");
    if (write_timed_out)
      throw NetworkError(url + ": " + std::string(op) + " timed out after " + ms_text(opt.write_timeout));
    throw NetworkError(url + ": " + std::string(op) + ": " + ec.message());
  }
};

struct WebSocketImpl {
  std::shared_ptr<WsCore> core;
};

}  // namespace detail

using detail::WsCore;

WebSocket::WebSocket() = default;
WebSocket::WebSocket(std::unique_ptr<detail::WebSocketImpl> impl) : impl_(std::move(impl)) {}
WebSocket::WebSocket(WebSocket&&) noexcept = default;
WebSocket& WebSocket::operator=(WebSocket&& o) noexcept {
  if (this != &o) {
    abort();
    impl_ = std::move(o.impl_);
  }
  return *this;
}
WebSocket::~WebSocket() {
  abort();
}

namespace {
std::shared_ptr<WsCore> core_of(const std::unique_ptr<detail::WebSocketImpl>& impl, std::string_view op) {
  if (!impl || !impl->core)
    throw NetworkError("WebSocket: " + std::string(op) + " on an unconnected WebSocket");
  return impl->core;
}
}  // namespace

asio::awaitable<WebSocket> WebSocket::connect(asio::any_io_executor ex, std::string url,
                                              WebSocketOptions options) {
  const HttpUrl u = HttpUrl::parse(websocket_to_http_url(url));
  const std::string what = "WebSocket " + url;
  if (options.max_message_bytes == 0) throw InvalidArgument(what + ": max_message_bytes must be >= 1");
  std::unique_ptr<ssl::context> ctx;
  if (u.tls()) ctx = std::make_unique<ssl::context>(detail::make_tls_context(options.tls));
  detail::ConnectParams p;
  p.connect_timeout = options.connect_timeout;
  p.tls_handshake_timeout = options.tls_handshake_timeout;
  p.tls_context = ctx.get();
  p.verify_peer = options.tls.verify_peer;
  detail::AnyStream stream = co_await detail::connect_stream(ex, u, p, what);
  auto core = std::make_shared<WsCore>(ex, url, std::move(options), std::move(ctx), std::move(stream));

  websocket::response_type res;
  error_code ec;
  auto& tcp = core->tcp();
  tcp.expires_after(core->opt.upgrade_timeout);
  const std::string host = u.host_header();
  co_await core->ws.async_handshake(res, host, u.target, asio::redirect_error(asio::use_awaitable, ec));
  tcp.expires_never();
  if (ec) {
    core->kill_socket();
    if (res.result_int() != 0 && res.result_int() != 101) {
      throw NetworkError(what + ": upgrade refused: HTTP " + std::to_string(res.result_int()) + " " +
                         std::string(res.reason()) +
                         (res.body().empty() ? std::string() : ": " + body_snippet(res.body())));
    }
    detail::throw_network_error(what, "WebSocket upgrade", ec, core->opt.upgrade_timeout);
  }
  core->open = true;
  core->last_rx = std::chrono::steady_clock::now();
  auto impl = std::make_unique<detail::WebSocketImpl>();
  impl->core = std::move(core);
  co_return WebSocket(std::move(impl));
}

asio::awaitable<WebSocketMessage> WebSocket::read() {
  std::shared_ptr<WsCore> c = core_of(impl_, "read");
  c->check_open("read");
  if (c->reading) throw NetworkError(c->url + ": read while another read is pending");
  WebSocketMessage msg;
  error_code ec;
  c->buf.clear();
  c->dbuf.emplace(c->buf);
  c->reading = true;
  c->read_started = std::chrono::steady_clock::now();
  c->arm_watchdog();
  std::size_t n = 0;
  if (!c->opt.truncate_oversized) {
    n = co_await c->ws.async_read(*c->dbuf, asio::redirect_error(asio::use_awaitable, ec));
  } else {
    // Piecewise: into the buffer up to the limit, the rest into scratch.
    const std::size_t limit = std::max<std::size_t>(c->opt.max_message_bytes, 1);
    bool done = false;
    while (!ec && !done) {
      const std::size_t room = limit - std::min(limit, n);
      std::size_t got = 0;
      if (room > 0) {
        got = co_await c->ws.async_read_some(*c->dbuf, room, asio::redirect_error(asio::use_awaitable, ec));
      } else {
        if (c->scratch.empty()) c->scratch.resize(std::size_t{64} * 1024);
        got = co_await c->ws.async_read_some(asio::buffer(c->scratch),
                                             asio::redirect_error(asio::use_awaitable, ec));
        msg.truncated = true;
      }
      n += got;
      c->last_rx = std::chrono::steady_clock::now();
      done = c->ws.is_message_done();
    }
  }
  c->reading = false;
  const std::size_t kept = c->dbuf->size();
  c->dbuf.reset();
  if (!ec) {
    c->last_rx = std::chrono::steady_clock::now();
    ++c->messages;
    c->bytes += n;
    msg.binary = c->ws.got_binary();
    msg.size = n;
    c->buf.resize(kept);
    msg.data = SharedBytes::adopt(std::move(c->buf));
    c->buf = {};
  } else if (ec == websocket::error::closed) {
    const websocket::close_reason& r = c->ws.reason();
    msg.closed = true;
    msg.close_code = r.code;
    msg.close_reason = std::string(r.reason.c_str(), r.reason.size());
    c->kill_socket();
  } else if (c->aborted) {
    c->kill_socket();
    throw NetworkError(c->url + ": read: aborted");
  } else if (c->read_timed_out) {
    c->kill_socket();
    throw NetworkError(c->url + ": no data for " + detail::ms_text(c->opt.read_timeout) + " (read timeout)");
  } else if (ec == asio::error::eof || ec == ssl::error::stream_truncated) {
    // The peer closed TCP without a close frame: RFC 6455 code 1006.
    msg.closed = true;
    msg.close_code = 1006;
    msg.close_reason = "connection closed without a close frame";
    c->kill_socket();
  } else if (ec == websocket::error::message_too_big) {
    // Beast has sent close 1009 and torn the connection down.
    c->kill_socket();
    throw NetworkError(c->url + ": message larger than max_message_bytes (" +
                       std::to_string(c->opt.max_message_bytes) + ")");
  } else {
    c->kill_socket();
    throw NetworkError(c->url + ": read: " + ec.message());
  }
  co_return msg;
}

namespace {

// One data message; `what` names the call in errors.
asio::awaitable<void> write_message(std::shared_ptr<WsCore> c, asio::const_buffer data, bool binary,
                                    const char* what) {
  c->check_open(what);
  error_code ec;
  c->arm_write_timer();
  c->ws.binary(binary);
  co_await c->ws.async_write(data, asio::redirect_error(asio::use_awaitable, ec));
  c->write_timer.cancel();
  if (ec) c->write_failed(what, ec);
}

}  // namespace

// (GCC 12: the core is a local, not a temporary inside the co_await.)
asio::awaitable<void> WebSocket::send(std::string_view text) {
  std::shared_ptr<WsCore> c = core_of(impl_, "send");
  co_await write_message(std::move(c), asio::buffer(text.data(), text.size()), false, "send");
}

asio::awaitable<void> WebSocket::send_binary(std::span<const std::byte> data) {
  std::shared_ptr<WsCore> c = core_of(impl_, "send_binary");
  co_await write_message(std::move(c), asio::buffer(data.data(), data.size()), true, "send_binary");
}

asio::awaitable<void> WebSocket::ping() {
  std::shared_ptr<WsCore> c = core_of(impl_, "ping");
  c->check_open("ping");
  // One ping at a time (Beast's rule): a ping already on its way will do.
  if (!c->pinging && !c->closing) {
    error_code ec;
    c->pinging = true;
    c->last_ping = std::chrono::steady_clock::now();
    c->arm_write_timer();
    co_await c->ws.async_ping({}, asio::redirect_error(asio::use_awaitable, ec));
    c->pinging = false;
    c->ping_done.cancel();
    c->write_timer.cancel();
    if (ec) c->write_failed("ping", ec);
  }
}

asio::awaitable<void> WebSocket::close(std::uint16_t code, std::string reason) {
  std::shared_ptr<WsCore> c = impl_ ? impl_->core : nullptr;
  if (c && c->open && !c->closing) {
    c->closing = true;
    error_code ec;
    c->arm_write_timer();  // bounds both the wait for a ping and the close handshake
    while (c->pinging && c->open) {
      c->ping_done.expires_at(asio::steady_timer::time_point::max());
      co_await c->ping_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (c->open) {
      // A close frame's payload is at most 125 bytes: 2 of code, 123 of reason.
      if (reason.size() > 123) reason.resize(123);
      websocket::close_reason cr(static_cast<websocket::close_code>(code),
                                 beast::string_view(reason.data(), reason.size()));
      co_await c->ws.async_close(cr, asio::redirect_error(asio::use_awaitable, ec));
    }
    c->kill_socket();
  }
}

void WebSocket::abort() noexcept {
  if (impl_ && impl_->core && impl_->core->open) {
    impl_->core->aborted = true;
    impl_->core->kill_socket();
  }
}

bool WebSocket::is_open() const noexcept {
  return impl_ && impl_->core && impl_->core->open;
}

const std::string& WebSocket::url() const noexcept {
  static const std::string empty;
  return impl_ && impl_->core ? impl_->core->url : empty;
}

asio::any_io_executor WebSocket::get_executor() const noexcept {
  return impl_ && impl_->core ? impl_->core->ex : asio::any_io_executor();
}

std::uint64_t WebSocket::messages_read() const noexcept {
  return impl_ && impl_->core ? impl_->core->messages : 0;
}
std::uint64_t WebSocket::bytes_read() const noexcept {
  return impl_ && impl_->core ? impl_->core->bytes : 0;
}

}  // namespace atdata::net
