#pragma once
// WebSocket client (RFC 6455) over TCP and TLS on Boost.Beast, every
// operation an asio::awaitable. ws:// and wss:// URLs (http:// and https://
// are accepted as aliases). Connection setup is the HTTP client's: the same
// resolve/connect timeouts, TLS verification, SNI and CA options.
//
// One WebSocket is used by one coroutine for reading; ping() and close() may
// be called from another coroutine on the same executor while a read is
// pending (Beast allows one read, one write/ping and one close at a time).
// Transport failures throw atdata::NetworkError naming the URL and phase;
// a close by the peer is reported by read() returning a message with
// closed() true and the close code/reason.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "atdata/core/shared_bytes.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/net/http_message.hpp"
#include "atdata/net/http_options.hpp"

namespace atdata::net {

namespace detail {
struct WebSocketImpl;
}

struct WebSocketOptions {
  WebSocketOptions() = default;  // not an aggregate: see XrpcCall
  // DNS + TCP connect, TLS handshake, and the HTTP upgrade exchange.
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds tls_handshake_timeout{10'000};
  std::chrono::milliseconds upgrade_timeout{10'000};
  // A ping is sent when nothing was received for this long (0: never).
  std::chrono::milliseconds ping_interval{30'000};
  // read() fails with NetworkError "<url>: no data for N ms (read timeout)"
  // when, while it waits, no frame of any kind (data, ping, pong) arrived for
  // this long (0: no deadline). Time spent not reading does not count: a
  // consumer applying back-pressure is not a dead peer.
  std::chrono::milliseconds read_timeout{60'000};
  // Each write (send(), ping(), close()).
  std::chrono::milliseconds write_timeout{30'000};
  // Larger messages fail the read with NetworkError (and close the
  // connection with 1009 "message too big") before they are buffered whole,
  // unless truncate_oversized is set.
  std::size_t max_message_bytes = 8u << 20;
  // With this set, a larger message does not cost the connection: read()
  // returns its first max_message_bytes bytes with `truncated` true and
  // `size` its full length, and reads the rest into a small scratch buffer
  // that is thrown away, so memory stays bounded. For streams whose messages
  // name themselves in their first bytes (an event stream's sequence
  // number), so the reader can report and skip one.
  bool truncate_oversized = false;
  // permessage-deflate is not offered: ATProto streams carry CBOR/zstd.
  std::string user_agent = "atdata-cpp/0.1";
  HttpHeaders headers;  // extra upgrade-request headers
  TlsOptions tls;
};

// One received message. `data` owns its bytes (no copy was made: the read
// buffer is handed over), so it may outlive the WebSocket and cross threads.
struct WebSocketMessage {
  SharedBytes data;
  bool binary = false;
  // The peer sent a close frame (or closed TCP without one, a clean FIN: code
  // 1006); data is empty and no further read() may be made. A reset
  // connection is a NetworkError instead.
  bool closed = false;
  std::uint16_t close_code = 0;
  std::string close_reason;
  // Only with WebSocketOptions::truncate_oversized: data holds the first
  // max_message_bytes bytes of a message of `size` bytes.
  bool truncated = false;
  std::size_t size = 0;  // the message's length (data.size() unless truncated)
};

class WebSocket {
 public:
  WebSocket();  // not connected
  WebSocket(WebSocket&&) noexcept;
  WebSocket& operator=(WebSocket&&) noexcept;
  ~WebSocket();  // closes the socket (no close handshake)

  // Connects and upgrades. Throws InvalidArgument for a bad URL,
  // NetworkError for transport failures (connect, TLS verification, a
  // non-101 answer: the status and a body excerpt are in the message).
  static boost::asio::awaitable<WebSocket> connect(boost::asio::any_io_executor ex, std::string url,
                                                   WebSocketOptions options = WebSocketOptions());

  // The next complete message (pings and pongs are answered and counted as
  // activity, never returned).
  boost::asio::awaitable<WebSocketMessage> read();
  boost::asio::awaitable<void> send(std::string_view text);  // a text message
  boost::asio::awaitable<void> send_binary(std::span<const std::byte> data);
  boost::asio::awaitable<void> ping();
  // Close handshake with `code` (1000 normal); waits for the peer's close
  // up to write_timeout, then shuts the socket. Never throws.
  boost::asio::awaitable<void> close(std::uint16_t code = 1000, std::string reason = {});
  // Abortive close, usable from any coroutine on the executor: a pending
  // read() fails promptly with NetworkError.
  void abort() noexcept;

  bool is_open() const noexcept;
  const std::string& url() const noexcept;
  boost::asio::any_io_executor get_executor() const noexcept;
  std::uint64_t messages_read() const noexcept;
  std::uint64_t bytes_read() const noexcept;

 private:
  explicit WebSocket(std::unique_ptr<detail::WebSocketImpl> impl);
  std::unique_ptr<detail::WebSocketImpl> impl_;
};

}  // namespace atdata::net
