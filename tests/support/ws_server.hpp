#pragma once
// A loopback WebSocket server for tests (Beast), on 127.0.0.1:0. Each
// upgraded connection runs the handler coroutine; the handler scripts what
// the server sends (messages, close frames, abortive drops) and can read what
// the client sent. Frames from the client are read all the time in the
// background (so pings are answered and counted, and a client close is seen
// whatever the handler is doing).
//
// When the handler returns the connection is dropped (no close frame) unless
// it was closed already: a handler that wants to keep the connection open
// awaits wait_closed().
//
// Client and server usually share one io_context (see net_run.hpp); the
// server's coroutines keep running after the test's own coroutine returned
// and end when the server is destroyed (its connections are dropped).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace atdata::test {

namespace detail {
struct WsServerState;
struct WsConnState;
}  // namespace detail

class WsServerConnection {
 public:
  explicit WsServerConnection(std::shared_ptr<detail::WsConnState> s) : s_(std::move(s)) {}

  // The upgrade request's target (path + query, e.g. "/subscribe?cursor=5").
  const std::string& target() const;
  // A request header's value ("" when absent).
  std::string header(std::string_view name) const;
  // 0-based index of this connection among those the server accepted.
  std::size_t index() const;

  // Writes fail (throw) once the connection is gone.
  boost::asio::awaitable<void> send_binary(std::span<const std::byte> data);
  boost::asio::awaitable<void> send_binary(std::string_view data);
  boost::asio::awaitable<void> send_text(std::string_view text);
  // Close handshake: sends the close frame; the client's answer is read by
  // the background reader. Never throws.
  boost::asio::awaitable<void> close(std::uint16_t code = 1000, std::string reason = {});
  // Abortive: closes the socket without a close frame. reset=true sends a TCP
  // RST (SO_LINGER 0); reset=false a plain FIN (the client sees EOF).
  void drop(bool reset = true);

  // The next data message from the client; nullopt once the connection ended.
  boost::asio::awaitable<std::optional<std::string>> read_text();
  // Waits until at least `n` pings were received in total.
  boost::asio::awaitable<void> wait_pings(std::size_t n = 1);
  // Waits until the connection ended (client close, drop, error).
  boost::asio::awaitable<void> wait_closed();
  std::size_t pings_received() const;
  bool is_open() const;

 private:
  std::shared_ptr<detail::WsConnState> s_;
};

// A server certificate for wss:// tests: self-signed, valid for 127.0.0.1
// and localhost; clients trust it by loading cert_pem as their CA file.
struct WsServerTls {
  std::string cert_pem;
  std::string key_pem;
};
WsServerTls make_test_tls();

class WsServer {
 public:
  using Handler = std::function<boost::asio::awaitable<void>(WsServerConnection&)>;

  WsServer(boost::asio::any_io_executor ex, Handler handler);
  WsServer(boost::asio::io_context& ioc, Handler handler)
      : WsServer(ioc.get_executor(), std::move(handler)) {}
  // TLS: serves wss:// with this certificate.
  WsServer(boost::asio::any_io_executor ex, Handler handler, const WsServerTls& tls);
  ~WsServer();
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  std::uint16_t port() const;
  // "ws://127.0.0.1:<port><path>" ("wss://" with TLS)
  std::string url(std::string_view path = "/") const;

  // Subsequent requests are answered with this plain HTTP status and body
  // instead of being upgraded (status 0: upgrade again).
  void reject_with(int status, std::string body = "rejected");

  // Connections upgraded so far (requests answered by reject_with excluded).
  std::size_t connections() const;
  // Every upgrade request target, in arrival order (rejected ones included).
  std::vector<std::string> targets() const;
  // Drops (abortively, RST) every connection open now.
  void drop_all();

 private:
  std::shared_ptr<detail::WsServerState> s_;
};

}  // namespace atdata::test
