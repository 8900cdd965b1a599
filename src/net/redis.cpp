#include "atdata/net/redis.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>
#include <deque>
#include <exception>
#include <optional>

#include "atdata/net/url.hpp"
#include "net/detail/connect.hpp"

namespace asio = boost::asio;
namespace urls = boost::urls;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace atdata::net {

namespace {

// The URL with its password replaced, for error messages.
std::string redacted(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const auto auth_begin = scheme_end + 3;
  const auto auth_end = std::min(url.find('/', auth_begin), url.size());
  const auto at = url.rfind('@', auth_end);
  if (at == std::string_view::npos || at < auth_begin) return std::string(url);
  const auto colon = url.find(':', auth_begin);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

[[noreturn]] void bad_url(std::string_view url, const std::string& why) {
  throw InvalidArgument("invalid Redis URL '" + redacted(url) + "': " + why);
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

RedisConfig RedisConfig::from_url(std::string_view s) {
  auto r = urls::parse_uri(s);
  if (!r) bad_url(s, r.error().message());
  const urls::url_view u = *r;
  RedisConfig c;
  if (u.scheme() == "rediss") bad_url(s, "TLS (rediss://) is not supported");
  if (u.scheme() != "redis") bad_url(s, "the scheme must be redis://");
  if (!u.has_authority() || u.encoded_host().empty()) bad_url(s, "no host");
  switch (u.host_type()) {
    case urls::host_type::ipv4:
      c.host = u.host_address();
      break;
    case urls::host_type::ipv6:
      c.host = u.host_ipv6_address().to_string();
      break;
    case urls::host_type::name:
      c.host = u.host();
      break;
    default:
      bad_url(s, "unsupported host");
  }
  if (u.has_port()) {
    // By hand: port_number() wraps values above 65535.
    unsigned long port = 0;
    for (char ch : u.port()) {
      port = port * 10 + static_cast<unsigned long>(ch - '0');
      if (port > 65535) break;
    }
    if (port == 0 || port > 65535) bad_url(s, "invalid port");
    c.port = static_cast<std::uint16_t>(port);
  }
  if (u.has_userinfo()) {
    c.username = u.user();
    if (u.has_password()) c.password = u.password();
    if (!c.username.empty() && c.password.empty()) bad_url(s, "a user name needs a password");
  }
  std::string_view path = u.encoded_path();
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty()) {
    int db = 0;
    auto [p, ec] = std::from_chars(path.data(), path.data() + path.size(), db);
    if (ec != std::errc() || p != path.data() + path.size() || db < 0) {
      bad_url(s, "the path must be a database number (/0, /1, …)");
    }
    c.db = db;
  }
  if (u.has_query()) bad_url(s, "query parameters are not supported");
  if (u.has_fragment()) bad_url(s, "a fragment is not allowed");
  return c;
}

std::string RedisConfig::endpoint() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

namespace detail {

namespace {

constexpr std::size_t kReadBytes = 64 * 1024;
// Requests gathered into one write (each is one buffer).
constexpr std::size_t kMaxBatch = 1024;

// One exec(): its encoded commands and, once answered, its replies. The
// waiting coroutine sleeps on `wake`, whose expiry is the request timeout;
// cancelling it means "done".
struct Pending {
  Pending(const asio::any_io_executor& ex, RedisRequest r) : req(std::move(r)), wake(ex) {}
  RedisRequest req;
  std::vector<RespValue> replies;
  std::exception_ptr error;
  bool done = false;

  void finish() {
    done = true;
    wake.cancel();
  }
  void fail(std::exception_ptr e) {
    if (done) return;
    error = std::move(e);
    finish();
  }
  // "GET", or "MULTI (+3 more)" for a pipeline.
  std::string what() const {
    std::string s = req.commands().front();
    if (req.size() > 1) s += " (+" + std::to_string(req.size() - 1) + " more)";
    return s;
  }

  asio::steady_timer wake;
};

// One TCP connection. Its reader and writer loops each hold it, so it stays
// valid until both have noticed it was closed.
struct Conn {
  Conn(tcp::socket s, const RespLimits& limits)
      : socket(std::move(s)),
        parser(limits),
        writer_wake(socket.get_executor()),
        deadline(socket.get_executor()) {}
  tcp::socket socket;
  RespParser parser;
  asio::steady_timer writer_wake;  // cancelled when requests were queued
  asio::steady_timer deadline;     // bounds the AUTH/SELECT exchange
  bool closed = false;
  bool timed_out = false;

  void close() {
    closed = true;
    error_code ec;
    socket.close(ec);
    writer_wake.cancel();
    deadline.cancel();
  }
};

asio::mutable_buffer read_buffer(Conn& c) {
  const std::span<char> b = c.parser.prepare(kReadBytes);
  return asio::buffer(b.data(), b.size());
}

}  // namespace

// Shared with its coroutines (reader, writer, connect, every exec), which
// may still be suspended when the RedisClient is destroyed.
struct RedisImpl : std::enable_shared_from_this<RedisImpl> {
  RedisImpl(asio::any_io_executor e, RedisConfig c)
      : ex(std::move(e)), cfg(std::move(c)), endpoint(cfg.endpoint()) {}

  asio::any_io_executor ex;
  RedisConfig cfg;
  std::string endpoint;
  RedisStats stats;
  std::deque<std::shared_ptr<Pending>> queue;     // not written yet
  std::deque<std::shared_ptr<Pending>> inflight;  // written, replies matched in this order
  std::shared_ptr<Conn> conn;                     // set once AUTH/SELECT succeeded
  bool connecting = false;
  bool shut = false;
  std::uint64_t epoch = 0;  // bumped by close(): a connect in progress is then discarded

  std::string where() const { return "redis " + endpoint; }

  void kick() {
    if (conn) {
      conn->writer_wake.cancel();
    } else if (!connecting && !shut) {
      connecting = true;
      asio::co_spawn(ex, run(shared_from_this()), asio::detached);
    }
  }

  void fail_all(const std::shared_ptr<Conn>& c, const std::string& reason) {
    if (c) c->close();
    if (conn == c) conn.reset();
    auto ops = std::move(inflight);
    inflight.clear();
    for (auto& q : queue) ops.push_back(q);
    queue.clear();
    for (auto& op : ops)
      op->fail(std::make_exception_ptr(NetworkError(where() + ": " + op->what() + ": " + reason)));
  }

  // The connection is unusable: requests written on it fail (the first with
  // `head` when given); requests not written yet go out on a new one.
  void drop(const std::shared_ptr<Conn>& c, const std::string& reason, std::exception_ptr head = nullptr) {
    c->close();
    if (conn == c) conn.reset();
    auto ops = std::move(inflight);
    inflight.clear();
    for (auto& op : ops) {
      op->fail(head ? head
                    : std::make_exception_ptr(NetworkError(where() + ": " + op->what() + ": " + reason)));
      head = nullptr;
    }
    if (!queue.empty()) kick();
  }

  void close_all(const std::string& reason) {
    ++epoch;
    fail_all(conn, reason);
  }

  void on_timeout(const std::shared_ptr<Pending>& op) {
    auto e = std::make_exception_ptr(NetworkError(where() + ": " + op->what() + ": no reply within " +
                                                  ms_text(cfg.request_timeout) + " (request timeout)"));
    if (auto it = std::find(queue.begin(), queue.end(), op); it != queue.end()) {
      queue.erase(it);
      op->fail(e);
      return;
    }
    op->fail(e);
    // Written: its reply may still come and would be matched to the next
    // request, so the connection goes.
    if (conn) drop(conn, "connection closed after an earlier request timed out");
  }

  // The caller gave up (cancellation): an unwritten request is withdrawn; a
  // written one stays in line and its replies are thrown away on arrival.
  void on_cancel(const std::shared_ptr<Pending>& op) {
    if (auto it = std::find(queue.begin(), queue.end(), op); it != queue.end()) queue.erase(it);
    op->fail(std::make_exception_ptr(boost::system::system_error(asio::error::operation_aborted)));
  }

  void deliver(const std::shared_ptr<Conn>& c, RespValue v) {
    if (inflight.empty()) {
      drop(c, "reply with no request waiting for it: " + v.debug_string());
      return;
    }
    Pending& op = *inflight.front();
    op.replies.push_back(std::move(v));
    if (op.replies.size() == op.req.size()) {
      auto done = std::move(inflight.front());
      inflight.pop_front();
      done->finish();  // a no-op for a cancelled request
    }
  }

  static asio::awaitable<std::vector<RespValue>> exec(std::shared_ptr<RedisImpl> self, RedisRequest req);

 private:
  asio::awaitable<std::shared_ptr<Conn>> open();
  asio::awaitable<void> handshake(std::shared_ptr<Conn> c);
  static asio::awaitable<void> run(std::shared_ptr<RedisImpl> self);
  static asio::awaitable<void> write_loop(std::shared_ptr<RedisImpl> self, std::shared_ptr<Conn> c);
  static asio::awaitable<void> read_loop(std::shared_ptr<RedisImpl> self, std::shared_ptr<Conn> c);
};

asio::awaitable<std::shared_ptr<Conn>> RedisImpl::open() {
  HttpUrl u;
  u.scheme = "redis";  // not "https": plain TCP
  u.host = cfg.host;
  u.port = cfg.port;
  u.host_is_ip = is_ip_literal(cfg.host);
  ConnectParams p;
  p.connect_timeout = cfg.connect_timeout;
  AnyStream s = co_await connect_stream(ex, u, p, "redis");
  auto c = std::make_shared<Conn>(std::get<0>(s).release_socket(), cfg.limits);
  std::exception_ptr failed;
  try {
    if (!cfg.password.empty() || cfg.db != 0) co_await handshake(c);
  } catch (...) {
    failed = std::current_exception();
  }
  if (failed) {
    c->close();
    std::rethrow_exception(failed);
  }
  co_return c;
}

asio::awaitable<void> RedisImpl::handshake(std::shared_ptr<Conn> c) {
  RedisRequest hs;
  if (!cfg.password.empty()) {
    if (cfg.username.empty()) {
      hs.push("AUTH", cfg.password);
    } else {
      hs.push("AUTH", cfg.username, cfg.password);
    }
  }
  if (cfg.db != 0) hs.push("SELECT", cfg.db);
  const std::string phase = hs.commands().front() + (hs.size() > 1 ? "/" + hs.commands()[1] : "");

  // A server that accepts and then says nothing must not hang the connect.
  c->deadline.expires_after(cfg.connect_timeout);
  c->deadline.async_wait([c](error_code ec) {
    if (!ec && !c->closed) {
      c->timed_out = true;
      c->close();
    }
  });
  error_code ec;
  co_await asio::async_write(c->socket, asio::buffer(hs.payload()),
                             asio::redirect_error(asio::use_awaitable, ec));
  std::vector<RespValue> replies;
  while (!ec && replies.size() < hs.size()) {
    if (auto v = c->parser.next()) {
      replies.push_back(std::move(*v));
      continue;
    }
    const std::size_t n =
        co_await c->socket.async_read_some(read_buffer(*c), asio::redirect_error(asio::use_awaitable, ec));
    c->parser.commit(n);
  }
  if (c->timed_out) {
    throw NetworkError(where() + ": " + phase + " timed out after " + ms_text(cfg.connect_timeout));
  }
  if (ec) throw NetworkError(where() + ": " + phase + ": " + ec.message());
  c->deadline.cancel();
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].is_error()) {
      throw RedisError(hs.commands()[i], std::string(replies[i].str()), endpoint);
    }
  }
}

// Connects, then runs the connection's two loops until it closes. Requests
// queued while connecting fail with the connect error.
asio::awaitable<void> RedisImpl::run(std::shared_ptr<RedisImpl> self) {
  const std::uint64_t epoch0 = self->epoch;
  std::shared_ptr<Conn> c;
  std::exception_ptr failed;
  try {
    c = co_await self->open();
  } catch (...) {
    failed = std::current_exception();
  }
  self->connecting = false;
  if (failed) {
    auto ops = std::move(self->queue);
    self->queue.clear();
    for (auto& op : ops) op->fail(failed);
  } else if (self->epoch != epoch0 || self->shut) {
    // close() was called meanwhile: its requests have failed already.
    c->close();
    if (!self->queue.empty()) self->kick();
  } else {
    self->conn = c;
    ++self->stats.connections_opened;
    asio::co_spawn(self->ex, write_loop(self, c), asio::detached);
    co_await read_loop(self, c);
  }
}

asio::awaitable<void> RedisImpl::write_loop(std::shared_ptr<RedisImpl> self, std::shared_ptr<Conn> c) {
  std::vector<std::shared_ptr<Pending>> batch;  // keeps the payloads alive during the write
  std::vector<asio::const_buffer> bufs;
  error_code ec;
  while (!c->closed) {
    if (self->queue.empty()) {
      c->writer_wake.expires_at(asio::steady_timer::time_point::max());
      co_await c->writer_wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    batch.clear();
    bufs.clear();
    while (!self->queue.empty() && batch.size() < kMaxBatch) {
      auto op = std::move(self->queue.front());
      self->queue.pop_front();
      if (op->done) continue;
      self->inflight.push_back(op);
      bufs.push_back(asio::buffer(op->req.payload()));
      ++self->stats.requests_sent;
      self->stats.commands_sent += op->req.size();
      batch.push_back(std::move(op));
    }
    co_await asio::async_write(c->socket, bufs, asio::redirect_error(asio::use_awaitable, ec));
    if (ec && !c->closed) self->drop(c, "connection lost while writing requests: " + ec.message());
  }
}

asio::awaitable<void> RedisImpl::read_loop(std::shared_ptr<RedisImpl> self, std::shared_ptr<Conn> c) {
  error_code ec;
  while (!c->closed) {
    std::optional<RespValue> v;
    std::optional<DecodeError> bad;
    try {
      v = c->parser.next();
    } catch (const DecodeError& e) {
      bad = e;
    }
    if (bad) {
      // The first request waiting gets the decode error; the stream has no
      // way back to a reply boundary, so the others lose their connection.
      std::exception_ptr head;
      if (!self->inflight.empty()) {
        const Pending& op = *self->inflight.front();
        const std::string& cmd = op.req.commands().at(std::min(op.replies.size(), op.req.size() - 1));
        head = std::make_exception_ptr(
            DecodeError(self->where() + ": reply to " + cmd + ": " + bad->message(), bad->offset()));
      }
      self->drop(c, "connection closed after an undecodable reply (" + bad->reason() + ")", head);
    } else if (v) {
      self->deliver(c, std::move(*v));
    } else {
      const std::size_t n =
          co_await c->socket.async_read_some(read_buffer(*c), asio::redirect_error(asio::use_awaitable, ec));
      c->parser.commit(n);
      if (ec && !c->closed) {
        self->drop(c, ec == asio::error::eof
                          ? std::string("connection closed by the server while reading replies")
                          : "connection lost while reading replies: " + ec.message());
      }
    }
  }
}

asio::awaitable<std::vector<RespValue>> RedisImpl::exec(std::shared_ptr<RedisImpl> self, RedisRequest req) {
  std::vector<RespValue> out;
  if (!req.empty()) {
    auto op = std::make_shared<Pending>(self->ex, std::move(req));
    if (self->cfg.request_timeout.count() > 0) {
      op->wake.expires_after(self->cfg.request_timeout);
    } else {
      op->wake.expires_at(asio::steady_timer::time_point::max());
    }
    if (self->shut) {
      op->fail(
          std::make_exception_ptr(NetworkError(self->where() + ": " + op->what() + ": client destroyed")));
    } else {
      self->queue.push_back(op);
      self->kick();
    }
    error_code ec;
    while (!op->done) {
      co_await op->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (op->done) break;
      if (ec == asio::error::operation_aborted) {
        self->on_cancel(op);
      } else {
        self->on_timeout(op);
      }
    }
    if (op->error) std::rethrow_exception(op->error);
    out = std::move(op->replies);
  }
  co_return out;
}

}  // namespace detail

RedisClient::RedisClient(asio::any_io_executor ex, RedisConfig config)
    : impl_(std::make_shared<detail::RedisImpl>(std::move(ex), std::move(config))) {}

RedisClient::~RedisClient() {
  impl_->shut = true;
  impl_->close_all("client destroyed");
}

asio::awaitable<std::vector<RespValue>> RedisClient::exec(const RedisRequest& req) {
  return detail::RedisImpl::exec(impl_, req);
}

asio::awaitable<std::vector<RespValue>> RedisClient::exec(RedisRequest&& req) {
  return detail::RedisImpl::exec(impl_, std::move(req));
}

asio::awaitable<RespValue> RedisClient::command_impl(RedisRequest req) {
  const std::string name = req.commands().front();
  std::shared_ptr<detail::RedisImpl> impl = impl_;
  std::vector<RespValue> replies = co_await detail::RedisImpl::exec(impl, std::move(req));
  RespValue v = std::move(replies.at(0));
  if (v.is_error()) throw RedisError(name, std::string(v.str()), impl->endpoint);
  co_return v;
}

void RedisClient::close() {
  impl_->close_all("connection closed by close()");
}

const RedisConfig& RedisClient::config() const noexcept {
  return impl_->cfg;
}

asio::any_io_executor RedisClient::get_executor() const noexcept {
  return impl_->ex;
}

RedisStats RedisClient::stats() const noexcept {
  return impl_->stats;
}

}  // namespace atdata::net
