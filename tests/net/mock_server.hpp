#pragma once
// A tiny scripted HTTP server on 127.0.0.1:0 for failure paths nginx cannot
// produce (resets, stalls, lies about lengths, garbage).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cctype>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace atdata::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct ReceivedRequest {
  std::string head;  // request line + headers
  std::string body;
};

// Reads one request (head and Content-Length body); `pending` keeps bytes
// that arrived past it. Returns false on EOF before a request.
inline asio::awaitable<bool> read_request(tcp::socket& s, std::string& pending, ReceivedRequest& out) {
  boost::system::error_code ec;
  std::size_t n = co_await asio::async_read_until(s, asio::dynamic_buffer(pending), "\r\n\r\n",
                                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return false;
  out.head = pending.substr(0, n);
  pending.erase(0, n);
  std::size_t len = 0;
  std::string lower = out.head;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto p = lower.find("content-length:"); p != std::string::npos) len = std::stoull(lower.substr(p + 15));
  if (pending.size() < len) {
    co_await asio::async_read(s, asio::dynamic_buffer(pending), asio::transfer_exactly(len - pending.size()),
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
  }
  out.body = pending.substr(0, len);
  pending.erase(0, len);
  co_return true;
}

inline asio::awaitable<void> send(tcp::socket& s, std::string_view data) {
  co_await asio::async_write(s, asio::buffer(data), asio::use_awaitable);
}

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// Each accepted connection runs `script(socket, connection_index)`.
class MockServer {
 public:
  using Script = std::function<asio::awaitable<void>(tcp::socket&, int)>;
  MockServer(asio::io_context& ioc, Script script) : state_(std::make_shared<State>(ioc, std::move(script))) {
    asio::co_spawn(ioc, accept_loop(state_), asio::detached);
  }
  ~MockServer() {
    boost::system::error_code ec;
    state_->acceptor.close(ec);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(state_->acceptor.local_endpoint().port()) + path;
  }
  int connections() const { return state_->connections; }

 private:
  struct State {
    State(asio::io_context& ioc, Script s)
        : acceptor(ioc, {asio::ip::address_v4::loopback(), 0}), script(std::move(s)) {}
    tcp::acceptor acceptor;
    Script script;
    int connections = 0;
  };
  static asio::awaitable<void> serve(std::shared_ptr<State> st, tcp::socket s, int index) {
    try {
      co_await st->script(s, index);
    } catch (const std::exception&) {
      // A client that hangs up mid-script is fine.
    }
  }
  static asio::awaitable<void> accept_loop(std::shared_ptr<State> st) {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s = co_await st->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(st->acceptor.get_executor(), serve(st, std::move(s), st->connections++), asio::detached);
    }
  }
  std::shared_ptr<State> state_;
};

inline void reset_now(tcp::socket& s) {
  s.set_option(asio::socket_base::linger(true, 0));
  s.close();
}

inline std::string ok_response(const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

// What a ScriptedServer sends instead of an answer to drop the connection.
inline constexpr const char* kReset = "RESET";

// Answers requests in order from `script` (kReset drops the connection
// without an answer) and records every request head.
struct ScriptedServer {
  std::deque<std::string> script;
  std::vector<ReceivedRequest> seen;
  MockServer server;

  ScriptedServer(asio::io_context& io, std::deque<std::string> s)
      : script(std::move(s)), server(io, [this](tcp::socket& sock, int) -> asio::awaitable<void> {
          std::string pending;
          for (;;) {
            ReceivedRequest req;
            if (!co_await read_request(sock, pending, req)) co_return;
            seen.push_back(req);
            if (script.empty()) co_return;
            std::string next = script.front();
            script.pop_front();
            if (next == kReset) {
              reset_now(sock);
              co_return;
            }
            co_await send(sock, next);
          }
        }) {}

  // The server's base URL without the trailing slash.
  std::string base() const {
    auto u = server.url("/");
    return u.substr(0, u.size() - 1);
  }
};

}  // namespace atdata::test
