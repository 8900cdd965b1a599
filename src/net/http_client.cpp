#include "atdata/net/http_client.hpp"

#include <poll.h>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <variant>

#include "atdata/error.hpp"
#include "atdata/net/url.hpp"
#include "net/detail/connect.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace atdata::net {
namespace detail {

namespace {

using Clock = std::chrono::steady_clock;
using Parser = http::response_parser<http::buffer_body>;

// Bodies of redirect answers up to this size are read and dropped so the
// connection can be reused; larger ones cost a reconnect instead.
constexpr std::size_t kRedirectDrainBytes = 64 * 1024;
constexpr std::size_t kErrorSnippetBytes = 200;
constexpr std::size_t kReadBufferBytes = 64 * 1024;

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u)) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

struct Connection {
  AnyStream stream;
  // Bytes read past the current parser position. Must be empty when a
  // connection goes back to the pool (anything else is a protocol error).
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};

  // Beast sizes each socket read by the buffer's free capacity (min 512
  // bytes); without room reserved up front a body arrives in 512-byte reads.
  explicit Connection(AnyStream s) : stream(std::move(s)) { buffer.reserve(kReadBufferBytes); }

  beast::tcp_stream& tcp() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); }, stream);
  }
  SSL* ssl_handle() { return stream.index() == 1 ? std::get<1>(stream).native_handle() : nullptr; }

  // A pooled connection the peer has closed (or sent unsolicited bytes on) is
  // readable; checking with a zero-timeout poll avoids most stale-reuse races.
  bool peer_closed() {
    auto& sock = tcp().socket();
    if (!sock.is_open()) return true;
    pollfd p{sock.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 0) != 0;
  }
};

using ConnPtr = std::unique_ptr<Connection>;
using WaitHandler = asio::any_completion_handler<void(error_code, ConnPtr)>;
struct Waiter {
  WaitHandler handler;
  asio::any_io_executor ex;  // where the waiting coroutine resumes
  std::uint64_t id = 0;      // to find it again when its wait is cancelled
};
// Held by pointer: Boost 1.81's any_completion_handler move-assignment
// recurses forever, and a deque erase would move-assign.
using WaiterPtr = std::unique_ptr<Waiter>;

struct HostPool {
  std::vector<ConnPtr> idle;  // most recently used last
  std::size_t total = 0;      // idle + leased slots
  std::deque<WaiterPtr> waiters;
};

struct ClientImpl;

// One reserved pool slot, with or without an open connection. Giving it back
// either parks the connection, hands it (or the bare slot) to the next waiter,
// or frees the slot.
struct SlotLease {
  std::shared_ptr<ClientImpl> impl;
  std::string key;
  ConnPtr conn;
  bool held = false;

  SlotLease() = default;
  SlotLease(SlotLease&& o) noexcept
      : impl(std::move(o.impl)),
        key(std::move(o.key)),
        conn(std::move(o.conn)),
        held(std::exchange(o.held, false)) {}
  SlotLease& operator=(SlotLease&& o) noexcept {
    if (this != &o) {
      give_back(false);
      impl = std::move(o.impl);
      key = std::move(o.key);
      conn = std::move(o.conn);
      held = std::exchange(o.held, false);
    }
    return *this;
  }
  ~SlotLease() { give_back(false); }
  void give_back(bool reusable);
};

// Reuses the body chunk buffers of streamed responses. A fresh 1 MiB
// allocation is usually an mmap whose pages fault in (and are zeroed by the
// kernel) on first write, and a chunk is typically freed on a decode worker,
// whose arena may give the pages back: a measurable share of a shard
// download's CPU. At most kKeep buffers are kept (bounded memory).
class ChunkPool : public std::enable_shared_from_this<ChunkPool> {
 public:
  explicit ChunkPool(std::size_t size) : size_(size) {}

  // A buffer of size() bytes; returned here when the last view of it goes.
  std::shared_ptr<std::byte[]> take() {
    std::unique_ptr<std::byte[]> b;
    {
      std::lock_guard lock(mu_);
      if (!free_.empty()) {
        b = std::move(free_.back());
        free_.pop_back();
      }
    }
    // Uninitialised storage: the socket overwrites it, zeroing would cost a pass.
    if (!b) b.reset(new std::byte[size_]);
    std::weak_ptr<ChunkPool> home = weak_from_this();
    return std::shared_ptr<std::byte[]>(b.release(), [home](std::byte* p) {
      std::unique_ptr<std::byte[]> owned(p);
      if (auto pool = home.lock()) pool->give_back(std::move(owned));
    });
  }
  std::size_t size() const noexcept { return size_; }

 private:
  static constexpr std::size_t kKeep = 16;
  void give_back(std::unique_ptr<std::byte[]> b) {
    std::lock_guard lock(mu_);
    if (free_.size() < kKeep) free_.push_back(std::move(b));
  }

  std::size_t size_;
  std::mutex mu_;
  std::vector<std::unique_ptr<std::byte[]>> free_;
};

struct ClientImpl : std::enable_shared_from_this<ClientImpl> {
  asio::any_io_executor ex;
  HttpClientOptions opt;
  // Built on first https use: loading the system CA store costs tens of
  // milliseconds, which plain-http clients (one per data loader) never need.
  std::optional<ssl::context> ssl_ctx_;
  std::once_flag ssl_once;

  std::mutex mu;
  std::map<std::string, HostPool> pools;
  std::uint64_t next_waiter_id = 0;

  std::atomic<std::uint64_t> n_opened{0}, n_sent{0}, n_reused{0}, n_retries{0};
  std::shared_ptr<ChunkPool> chunks;

  ClientImpl(asio::any_io_executor e, HttpClientOptions o) : ex(std::move(e)), opt(std::move(o)) {
    if (opt.max_connections_per_host == 0)
      throw InvalidArgument("HttpClientOptions.max_connections_per_host must be >= 1");
    if (opt.body_chunk_bytes < 1024)
      throw InvalidArgument("HttpClientOptions.body_chunk_bytes must be >= 1024");
    if (opt.max_redirects < 0) throw InvalidArgument("HttpClientOptions.max_redirects must be >= 0");
    chunks = std::make_shared<ChunkPool>(opt.body_chunk_bytes);
    if (opt.max_header_bytes == 0 || opt.max_header_bytes > 0xffffffffu) {
      throw InvalidArgument("HttpClientOptions.max_header_bytes out of range");
    }
    // A CA file is cheap to load and its errors belong to construction.
    if (opt.tls.verify_peer && !opt.tls.ca_file.empty()) tls_context();
  }

  ssl::context& tls_context() {
    std::call_once(ssl_once, [&] { ssl_ctx_.emplace(make_tls_context(opt.tls)); });
    return *ssl_ctx_;
  }

  // ---- pool ---------------------------------------------------------------

  // Under mu: an idle live connection, or a fresh slot (engaged but null).
  std::optional<ConnPtr> try_take(HostPool& p) {
    const auto now = Clock::now();
    while (!p.idle.empty()) {
      ConnPtr c = std::move(p.idle.back());
      p.idle.pop_back();
      if (now - c->idle_since > opt.pool_idle_timeout || c->peer_closed()) {
        --p.total;
        continue;
      }
      return c;
    }
    if (p.total < opt.max_connections_per_host) {
      ++p.total;
      return ConnPtr{};
    }
    return std::nullopt;
  }

  // (GCC 12 mis-destroys block-scoped coroutine locals around co_return in
  // some shapes, so the coroutines here keep their locals at function scope
  // and have a single co_return.)
  asio::awaitable<SlotLease> acquire(const std::string& key) {
    SlotLease lease;
    lease.impl = shared_from_this();
    lease.key = key;
    std::optional<ConnPtr> got;
    {
      std::lock_guard lk(mu);
      got = try_take(pools[key]);
    }
    if (got) {
      lease.conn = std::move(*got);
    } else {
      lease.conn = co_await asio::async_initiate<decltype(asio::use_awaitable), void(error_code, ConnPtr)>(
          [this, &key](auto handler) {
            auto slot = asio::get_associated_cancellation_slot(handler);
            asio::any_io_executor hex = asio::get_associated_executor(handler, ex);
            auto w = std::make_unique<Waiter>(Waiter{WaitHandler(std::move(handler)), std::move(hex)});
            std::unique_lock lk(mu);
            auto& p = pools[key];
            if (auto now = try_take(p)) {
              lk.unlock();
              complete(std::move(w), std::move(*now));
              return;
            }
            w->id = ++next_waiter_id;
            // A cancelled wait (e.g. the losing side of `req || timer`)
            // leaves the queue at once instead of waiting for a slot.
            if (slot.is_connected()) {
              slot.assign([weak = weak_from_this(), key, id = w->id](asio::cancellation_type) {
                if (auto self = weak.lock()) self->cancel_waiter(key, id);
              });
            }
            p.waiters.push_back(std::move(w));
          },
          asio::use_awaitable);
    }
    lease.held = true;
    co_return std::move(lease);
  }

  static void complete(WaiterPtr w, ConnPtr c, error_code ec = {}) {
    auto wex = w->ex;
    asio::post(
        wex, [w = std::move(w), c = std::move(c), ec]() mutable { std::move(w->handler)(ec, std::move(c)); });
  }

  void cancel_waiter(const std::string& key, std::uint64_t id) {
    WaiterPtr w;
    {
      std::lock_guard lk(mu);
      auto it = pools.find(key);
      if (it == pools.end()) return;
      auto& q = it->second.waiters;
      auto wi = std::find_if(q.begin(), q.end(), [id](const WaiterPtr& x) { return x->id == id; });
      if (wi == q.end()) return;  // already served
      w = std::move(*wi);
      q.erase(wi);
    }
    complete(std::move(w), nullptr, asio::error::operation_aborted);
  }

  void release(const std::string& key, ConnPtr c, bool reusable) {
    WaiterPtr h;
    {
      std::lock_guard lk(mu);
      auto& p = pools[key];
      if (!reusable || (c && c->buffer.size() != 0)) c.reset();
      if (c) c->idle_since = Clock::now();
      if (!p.waiters.empty()) {
        h = std::move(p.waiters.front());
        p.waiters.pop_front();
      } else if (c) {
        p.idle.push_back(std::move(c));
      } else {
        --p.total;
      }
    }
    if (h) complete(std::move(h), std::move(c));  // the slot (and maybe the connection) moves on
  }

  void close_idle() {
    std::lock_guard lk(mu);
    for (auto& [k, p] : pools) {
      p.total -= p.idle.size();
      p.idle.clear();
    }
  }

  // ---- connection setup ---------------------------------------------------

  asio::awaitable<ConnPtr> connect(const HttpUrl& u, const std::string& what) {
    ConnectParams p;
    p.connect_timeout = opt.connect_timeout;
    p.tls_handshake_timeout = opt.tls_handshake_timeout;
    p.tls_context = u.tls() ? &tls_context() : nullptr;
    p.verify_peer = opt.tls.verify_peer;
    AnyStream stream = co_await connect_stream(ex, u, p, what);
    ConnPtr c = std::make_unique<Connection>(std::move(stream));
    ++n_opened;
    co_return c;
  }

  // ---- one request/response exchange ---------------------------------------

  // The request head as text, so that it and a memory body leave in one
  // gathered write (one segment for a small XRPC call with TCP_NODELAY).
  static std::string make_header(const HttpRequest& req, const HttpUrl& u, const std::string& ua) {
    std::string h;
    h.reserve(256);
    h.append(req.method).append(" ").append(u.target).append(" HTTP/1.1\r\n");
    bool has_host = false, has_ua = false;
    for (const auto& [name, value] : req.headers) {
      if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
        throw InvalidArgument("invalid HTTP header name '" + name + "'");
      }
      // The value is not quoted back: header values carry credentials.
      if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
        throw InvalidArgument("HTTP header '" + name + "' has a value with CR, LF or NUL");
      }
      if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")) continue;  // framing is ours
      has_host = has_host || iequals(name, "Host");
      has_ua = has_ua || iequals(name, "User-Agent");
      h.append(name).append(": ").append(value).append("\r\n");
    }
    if (!has_host) h.append("Host: ").append(u.host_header()).append("\r\n");
    if (!has_ua && !ua.empty()) h.append("User-Agent: ").append(ua).append("\r\n");
    const bool wants_length =
        !req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (wants_length) h.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
    h.append("\r\n");
    return h;
  }

  // Memory bodies go out in pieces of this size, each with a fresh write
  // deadline, so write_timeout bounds a stall rather than a whole upload.
  static constexpr std::size_t kWritePieceBytes = 1024 * 1024;

  // Writes header and body. Returns a transport error in `ec`; throws for
  // errors of the body producer (those are not retried).
  template <class S>
  asio::awaitable<void> write_request(S& s, beast::tcp_stream& t, const std::string& head,
                                      const RequestBody& body, const std::string& what, error_code& ec) {
    const auto& v = body.variant();
    std::span<const std::byte> mem;
    if (auto* str = std::get_if<std::string>(&v)) {
      mem = std::as_bytes(std::span(str->data(), str->size()));
    } else if (auto* sb = std::get_if<SharedBytes>(&v)) {
      mem = sb->span();
    }
    std::size_t piece = std::min(mem.size(), kWritePieceBytes);
    std::array<asio::const_buffer, 2> first{asio::buffer(head), asio::buffer(mem.data(), piece)};
    t.expires_after(opt.write_timeout);
    co_await asio::async_write(s, first, asio::redirect_error(asio::use_awaitable, ec));
    for (std::size_t off = piece; !ec && off < mem.size(); off += piece) {
      piece = std::min(mem.size() - off, kWritePieceBytes);
      t.expires_after(opt.write_timeout);
      co_await asio::async_write(s, asio::buffer(mem.data() + off, piece),
                                 asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec) co_return;
    if (auto* st = std::get_if<RequestBody::Stream>(&v)) {
      if (!st->open) throw InvalidArgument(what + ": stream request body has no opener");
      BodyChunkReader next = st->open();
      std::uint64_t sent = 0;
      for (;;) {
        SharedBytes chunk = co_await next();
        if (chunk.empty()) break;
        if (chunk.size() > st->length - sent) {
          throw InvalidArgument(what + ": request body stream yields more than the declared " +
                                std::to_string(st->length) + " bytes");
        }
        t.expires_after(opt.write_timeout);
        co_await asio::async_write(s, asio::buffer(chunk.data(), chunk.size()),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
        sent += chunk.size();
      }
      if (sent != st->length) {
        throw InvalidArgument(what + ": request body stream ended after " + std::to_string(sent) +
                              " bytes, declared " + std::to_string(st->length));
      }
    }
  }

  struct Attempt {
    error_code ec;
    std::string_view phase;
    std::chrono::milliseconds timeout{};
    bool got_response_bytes = false;
    std::unique_ptr<Parser> parser;
  };

  template <class S>
  asio::awaitable<void> exchange_on(S& s, Connection& c, const HttpRequest& req, const std::string& head,
                                    const std::string& what, Attempt& a) {
    auto& t = c.tcp();
    co_await write_request(s, t, head, req.body, what, a.ec);
    if (a.ec) {
      a.phase = "write request";
      a.timeout = opt.write_timeout;
      co_return;
    }
    // 1xx interim answers (100 Continue, 103 Early Hints) precede the real one.
    for (int interim = 0;; ++interim) {
      a.parser = std::make_unique<Parser>();
      a.parser->header_limit(static_cast<std::uint32_t>(opt.max_header_bytes));
      a.parser->body_limit(boost::none);
      if (req.method == "HEAD") a.parser->skip(true);
      t.expires_after(opt.read_header_timeout);
      co_await http::async_read_header(s, c.buffer, *a.parser,
                                       asio::redirect_error(asio::use_awaitable, a.ec));
      a.got_response_bytes = a.got_response_bytes || a.parser->got_some() || c.buffer.size() != 0;
      if (a.ec) {
        a.phase = "read response header";
        a.timeout = opt.read_header_timeout;
        co_return;
      }
      const unsigned st = a.parser->get().result_int();
      if (st >= 200 || st == 101) break;
      if (interim >= 8) {
        a.ec = http::error::bad_status;
        a.phase = "too many 1xx responses";
        co_return;
      }
    }
  }

  // Sends one request (no redirects) and reads the response header. A
  // failure on a reused connection before any response byte is retried once
  // on a new connection: the server most likely closed it while idle.
  asio::awaitable<std::unique_ptr<StreamState>> exchange(const HttpRequest& req, const HttpUrl& u);

  asio::awaitable<HttpResponseStream> open(HttpRequest req);
  asio::awaitable<HttpResponse> request(HttpRequest req);
};

void SlotLease::give_back(bool reusable) {
  if (!held) return;
  held = false;
  impl->release(key, std::move(conn), reusable);
}

struct StreamState {
  std::shared_ptr<ClientImpl> impl;
  SlotLease lease;
  std::unique_ptr<Parser> parser;
  int status = 0;
  HttpHeaders headers;
  std::string url;
  std::string what;  // "GET <url>" for messages
  std::optional<std::uint64_t> content_length;
  std::uint64_t bytes = 0;
  bool done = false;

  // Content-Length bodies bypass the parser: bytes go from the socket (or
  // the TLS layer) straight into the caller's buffer, one copy fewer and
  // reads as large as the buffer instead of Beast's 64 KiB.
  bool raw = false;
  std::uint64_t raw_remaining = 0;

  void finish_if_done() {
    if (done) return;
    if (raw ? raw_remaining == 0 : parser->is_done()) {
      done = true;
      // Extra bytes after the body mean the server is confused: do not reuse.
      lease.give_back(parser->keep_alive() && lease.conn->buffer.size() == 0);
    }
  }

  void start_body() {
    if (!parser->is_done() && !parser->chunked() && parser->content_length()) {
      raw = true;
      raw_remaining = *parser->content_length();
    }
    finish_if_done();
  }

  // One read in raw mode: buffered bytes first, then the socket.
  asio::awaitable<std::size_t> raw_read(std::byte* p, std::size_t n, error_code& ec) {
    Connection& c = *lease.conn;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(n, raw_remaining));
    std::size_t got = 0;
    if (c.buffer.size() > 0) {
      got = asio::buffer_copy(asio::buffer(p, want), c.buffer.data());
      c.buffer.consume(got);
    }
    while (got < want) {
      c.tcp().expires_after(impl->opt.read_body_idle_timeout);
      const std::size_t r = co_await std::visit(
          [&](auto& s) {
            return s.async_read_some(asio::buffer(p + got, want - got),
                                     asio::redirect_error(asio::use_awaitable, ec));
          },
          c.stream);
      got += r;
      if (ec) break;
    }
    raw_remaining -= got;
    co_return got;
  }

  // A transport failure. Sticky: every later read rethrows it. Bytes that
  // arrived before the failure are delivered first, so the offset in the
  // message is exactly where a resumed (Range) download has to continue.
  std::exception_ptr failure;

  // Fills [p, p+n) with body bytes; returns how many (0 only at the end).
  asio::awaitable<std::size_t> read_into(std::byte* p, std::size_t n) {
    if (failure) std::rethrow_exception(failure);
    if (done || n == 0) co_return 0;
    std::size_t filled = 0;
    while (filled == 0 && !done) {
      error_code ec;
      if (raw) {
        filled = co_await raw_read(p, n, ec);
      } else {
        Connection& c = *lease.conn;
        auto& body = parser->get().body();
        body.data = p;
        body.size = n;
        body.more = true;
        c.tcp().expires_after(impl->opt.read_body_idle_timeout);
        co_await std::visit(
            [&](auto& s) {
              return http::async_read(s, c.buffer, *parser, asio::redirect_error(asio::use_awaitable, ec));
            },
            c.stream);
        if (ec == http::error::need_buffer) ec = {};
        filled = n - body.size;
      }
      if (ec) {
        lease.give_back(false);
        const std::uint64_t at = bytes + filled;
        if (ec == beast::error::timeout) {
          failure = std::make_exception_ptr(NetworkError(what + ": reading response body stalled at byte " +
                                                         std::to_string(at) + " (no data for " +
                                                         ms_text(impl->opt.read_body_idle_timeout) + ")"));
        } else {
          const bool closed = ec == asio::error::eof || ec == http::error::partial_message ||
                              ec == ssl::error::stream_truncated;
          failure = std::make_exception_ptr(NetworkError(
              what + ": reading response body failed at byte " + std::to_string(at) + ": " +
              (closed ? std::string("connection closed before the end of the body") : ec.message())));
        }
        if (filled == 0) std::rethrow_exception(failure);
        break;
      }
      finish_if_done();
    }
    bytes += filled;
    co_return filled;
  }

  std::uint64_t remaining_hint() const {
    return content_length && *content_length > bytes ? *content_length - bytes : 0;
  }

  template <class Container>
  asio::awaitable<void> read_rest(Container& out, std::uint64_t limit) {
    if (content_length && remaining_hint() > limit) {
      throw NetworkError(what + ": response body of " + std::to_string(*content_length) +
                         " bytes exceeds the limit of " + std::to_string(limit) + " bytes");
    }
    if (content_length) out.reserve(static_cast<std::size_t>(remaining_hint()));
    const std::size_t step = impl->opt.body_chunk_bytes;
    while (!done) {
      const std::uint64_t room = limit - out.size() + 1;  // +1 detects overflow
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(room, step));
      if (content_length)
        want = static_cast<std::size_t>(
            std::min<std::uint64_t>(want, std::max<std::uint64_t>(remaining_hint(), 1)));
      const std::size_t old = out.size();
      out.resize(old + want);
      const std::size_t n = co_await read_into(reinterpret_cast<std::byte*>(out.data()) + old, want);
      out.resize(old + n);
      if (out.size() > limit) {
        lease.give_back(false);
        done = true;
        throw NetworkError(what + ": response body exceeds the limit of " + std::to_string(limit) + " bytes");
      }
    }
  }
};

asio::awaitable<std::unique_ptr<StreamState>> ClientImpl::exchange(const HttpRequest& req, const HttpUrl& u) {
  const std::string what = req.method + " " + u.str();
  const std::string key = u.origin();
  const std::string head = make_header(req, u, opt.user_agent);  // validates before taking a connection
  SlotLease lease;
  Attempt a;
  bool reused = false;
  for (int attempt = 0;; ++attempt) {
    lease = co_await acquire(key);
    reused = lease.conn != nullptr;
    if (!reused) lease.conn = co_await connect(u, what);
    if (reused) ++n_reused;
    ++n_sent;
    a = Attempt{};
    co_await std::visit([&](auto& s) { return exchange_on(s, *lease.conn, req, head, what, a); },
                        lease.conn->stream);
    if (!a.ec) break;
    lease.give_back(false);  // closes the connection
    if (reused && attempt == 0 && !a.got_response_bytes && a.ec != beast::error::timeout) {
      ++n_retries;
      continue;
    }
    throw_network_error(what, a.phase, a.ec, a.timeout);
  }
  auto st = std::make_unique<StreamState>();
  st->impl = shared_from_this();
  st->what = what;
  st->url = u.str();
  st->parser = std::move(a.parser);
  const auto& msg = st->parser->get();
  st->status = static_cast<int>(msg.result_int());
  for (const auto& f : msg) st->headers.add(std::string(f.name_string()), std::string(f.value()));
  if (req.method != "HEAD") {
    if (auto cl = st->parser->content_length()) st->content_length = *cl;
  }
  st->lease = std::move(lease);
  st->start_body();
  co_return std::move(st);
}

// Reads and drops a small redirect body so the connection stays reusable.
asio::awaitable<void> drain_redirect(StreamState& st) {
  std::array<std::byte, 4096> scratch;
  std::size_t drained = 0;
  if (st.content_length && *st.content_length > kRedirectDrainBytes) {
    st.lease.give_back(false);
    st.done = true;
  }
  while (!st.done && drained <= kRedirectDrainBytes) {
    drained += co_await st.read_into(scratch.data(), scratch.size());
  }
  if (!st.done) st.lease.give_back(false);
}

// The next URL when `st` is a redirect to follow, else nullopt.
std::optional<HttpUrl> redirect_target(const StreamState& st, const HttpUrl& u, const HttpRequest& req,
                                       int redirects, int max_redirects) {
  const int s = st.status;
  if (s != 301 && s != 302 && s != 303 && s != 307 && s != 308) return std::nullopt;
  auto loc = st.headers.get("Location");
  if (!loc) return std::nullopt;
  if (redirects >= max_redirects) {
    throw NetworkError(req.method + " " + u.str() + ": more than " + std::to_string(max_redirects) +
                       " redirects");
  }
  try {
    return HttpUrl::parse(resolve_url(u.str(), *loc));
  } catch (const InvalidArgument& e) {
    throw NetworkError(req.method + " " + u.str() + ": bad redirect Location: " + e.what());
  }
}

asio::awaitable<HttpResponseStream> ClientImpl::open(HttpRequest req) {
  if (req.method.empty() || !std::all_of(req.method.begin(), req.method.end(), is_token_char)) {
    throw InvalidArgument("invalid HTTP method '" + req.method + "'");
  }
  HttpUrl u = HttpUrl::parse(req.url);
  const bool follow =
      req.follow_redirects.value_or(opt.follow_redirects) && (req.method == "GET" || req.method == "HEAD");
  std::unique_ptr<StreamState> st;
  std::optional<HttpUrl> next;
  for (int redirects = 0;; ++redirects) {
    st = co_await exchange(req, u);
    next = follow ? redirect_target(*st, u, req, redirects, opt.max_redirects) : std::nullopt;
    if (!next) break;
    co_await drain_redirect(*st);
    st.reset();
    // Credentials never follow a redirect to another origin.
    if (next->origin() != u.origin()) {
      req.headers.erase("Authorization");
      req.headers.erase("Proxy-Authorization");
      req.headers.erase("Cookie");
      req.headers.erase("Host");
    }
    u = std::move(*next);
  }
  co_return HttpResponseStream(std::move(st));
}

asio::awaitable<HttpResponse> ClientImpl::request(HttpRequest req) {
  HttpResponseStream s = co_await open(std::move(req));
  HttpResponse r;
  r.status = s.status();
  r.headers = s.headers();
  r.url = s.url();
  co_await s.s_->read_rest(r.body, opt.max_body_bytes);
  co_return r;
}

}  // namespace detail

// ---- HttpResponseStream ------------------------------------------------------

HttpResponseStream::HttpResponseStream() = default;
HttpResponseStream::HttpResponseStream(std::unique_ptr<detail::StreamState> s) : s_(std::move(s)) {}
HttpResponseStream::HttpResponseStream(HttpResponseStream&&) noexcept = default;
HttpResponseStream& HttpResponseStream::operator=(HttpResponseStream&&) noexcept = default;
HttpResponseStream::~HttpResponseStream() = default;

namespace {
const HttpHeaders kNoHeaders;
const std::string kNoUrl;
}  // namespace

int HttpResponseStream::status() const noexcept {
  return s_ ? s_->status : 0;
}
const HttpHeaders& HttpResponseStream::headers() const noexcept {
  return s_ ? s_->headers : kNoHeaders;
}
const std::string& HttpResponseStream::url() const noexcept {
  return s_ ? s_->url : kNoUrl;
}
std::optional<std::uint64_t> HttpResponseStream::content_length() const noexcept {
  return s_ ? s_->content_length : std::nullopt;
}
std::uint64_t HttpResponseStream::bytes_read() const noexcept {
  return s_ ? s_->bytes : 0;
}
bool HttpResponseStream::done() const noexcept {
  return !s_ || s_->done;
}

asio::awaitable<SharedBytes> HttpResponseStream::next() {
  if (!s_ || s_->done) co_return SharedBytes{};
  std::size_t want = s_->impl->opt.body_chunk_bytes;
  if (s_->content_length)
    want = static_cast<std::size_t>(std::clamp<std::uint64_t>(s_->remaining_hint(), 1, want));
  // Full-size chunks come from the client's pool; a short last one is sized
  // to what remains (uninitialised: the socket overwrites it).
  std::shared_ptr<std::byte[]> buf = want == s_->impl->chunks->size()
                                         ? s_->impl->chunks->take()
                                         : std::shared_ptr<std::byte[]>(new std::byte[want]);
  const std::size_t n = co_await s_->read_into(buf.get(), want);
  if (n == 0) co_return SharedBytes{};
  co_return SharedBytes(std::shared_ptr<const void>(buf, buf.get()),
                        std::span<const std::byte>(buf.get(), n));
}

asio::awaitable<SharedBytes> HttpResponseStream::read_all(std::uint64_t limit) {
  if (!s_) co_return SharedBytes{};
  std::vector<std::byte> v;
  co_await s_->read_rest(v, limit);
  co_return SharedBytes::adopt(std::move(v));
}

asio::awaitable<void> HttpResponseStream::throw_if_error() {
  if (!s_ || ok()) co_return;
  std::array<std::byte, detail::kErrorSnippetBytes + 1> buf;
  std::size_t n = 0;
  try {
    while (n < buf.size() && !s_->done) n += co_await s_->read_into(buf.data() + n, buf.size() - n);
  } catch (const NetworkError&) {
    // The status is the error to report; a body that fails to arrive is not.
  }
  throw HttpError(s_->status, s_->url,
                  body_snippet(std::string_view(reinterpret_cast<const char*>(buf.data()), n),
                               detail::kErrorSnippetBytes));
}

// ---- HttpClient ----------------------------------------------------------------

HttpClient::HttpClient(asio::any_io_executor ex, HttpClientOptions options)
    : impl_(std::make_shared<detail::ClientImpl>(std::move(ex), std::move(options))) {}

HttpClient::~HttpClient() {
  impl_->close_idle();
}

namespace {
// The public entry points are plain functions that move their by-value
// arguments into these coroutines: GCC 12 mishandles a prvalue argument that
// directly initialises a coroutine parameter when the call sits inside
// another coroutine's co_await (the object gets bitwise-copied, then freed
// twice). Passing xvalues avoids that path.
asio::awaitable<HttpResponse> run_request(std::shared_ptr<detail::ClientImpl> impl, HttpRequest req) {
  co_return co_await impl->request(std::move(req));
}
asio::awaitable<HttpResponseStream> run_open(std::shared_ptr<detail::ClientImpl> impl, HttpRequest req) {
  co_return co_await impl->open(std::move(req));
}
}  // namespace

asio::awaitable<HttpResponse> HttpClient::request(HttpRequest req) {
  return run_request(impl_, std::move(req));
}

asio::awaitable<HttpResponseStream> HttpClient::open(HttpRequest req) {
  return run_open(impl_, std::move(req));
}

asio::awaitable<HttpResponse> HttpClient::get(std::string url, HttpHeaders headers) {
  HttpRequest req;
  req.url = std::move(url);
  req.headers = std::move(headers);
  return run_request(impl_, std::move(req));
}

const HttpClientOptions& HttpClient::options() const noexcept {
  return impl_->opt;
}
asio::any_io_executor HttpClient::get_executor() const noexcept {
  return impl_->ex;
}

HttpPoolStats HttpClient::stats() const noexcept {
  return HttpPoolStats{impl_->n_opened.load(), impl_->n_sent.load(), impl_->n_reused.load(),
                       impl_->n_retries.load()};
}

void HttpClient::close_idle() {
  impl_->close_idle();
}

std::shared_ptr<HttpClient> client_on(const std::shared_ptr<HttpClient>& preferred,
                                      const asio::any_io_executor& ex) {
  if (preferred && preferred->get_executor() == ex) return preferred;
  return std::make_shared<HttpClient>(ex, preferred ? preferred->options() : HttpClientOptions{});
}

}  // namespace atdata::net
