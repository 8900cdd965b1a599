// WebSocket client against the loopback Beast server of tests/support.
#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <fstream>
#include <string>

#include "atdata/error.hpp"
#include "atdata/net/url.hpp"
#include "atdata/net/websocket.hpp"
#include "support/net_run.hpp"
#include "support/ws_server.hpp"

namespace asio = boost::asio;
using namespace atdata;
using namespace atdata::net;
using namespace atdata::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

class WebSocketTest : public ::testing::Test {
 protected:
  asio::io_context ioc;

  // Short timeouts so that a hang fails the test quickly.
  static WebSocketOptions fast() {
    WebSocketOptions o;
    o.connect_timeout = 2000ms;
    o.upgrade_timeout = 2000ms;
    o.write_timeout = 2000ms;
    o.read_timeout = 2000ms;
    o.ping_interval = 0ms;
    return o;
  }
};

// Runs the io_context until `done()` holds (the server's coroutines keep
// running after the test's own coroutine returned), at most `limit`.
template <class Pred>
bool run_until(asio::io_context& ioc, Pred done, Clock::duration limit = 2s) {
  ioc.restart();
  const auto end = Clock::now() + limit;
  while (!done() && Clock::now() < end) ioc.run_one_for(10ms);
  return done();
}

std::string text_of(const WebSocketMessage& m) {
  return std::string(m.data.as_string_view());
}

TEST_F(WebSocketTest, TextAndBinaryEchoWithHeadersAndTarget) {
  std::string seen_target, seen_ua, seen_extra;
  WsServer srv(ioc, [&](WsServerConnection& c) -> asio::awaitable<void> {
    seen_target = c.target();
    seen_ua = c.header("User-Agent");
    seen_extra = c.header("X-Test");
    auto m = co_await c.read_text();
    co_await c.send_text(*m);
    co_await c.send_binary(*m);
    co_await c.wait_closed();
  });
  WebSocketOptions o = fast();
  o.user_agent = "ws-test/1";
  o.headers.add("X-Test", "yes");
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url("/sub?cursor=42&x=y"), o);
    EXPECT_TRUE(ws.is_open());
    co_await ws.send("hello");
    WebSocketMessage a = co_await ws.read();
    WebSocketMessage b = co_await ws.read();
    EXPECT_FALSE(a.binary);
    EXPECT_FALSE(a.closed);
    EXPECT_EQ(text_of(a), "hello");
    EXPECT_TRUE(b.binary);
    EXPECT_EQ(text_of(b), "hello");
    EXPECT_EQ(ws.messages_read(), 2u);
    EXPECT_EQ(ws.bytes_read(), 10u);
    co_await ws.close();
    EXPECT_FALSE(ws.is_open());
  }());
  EXPECT_EQ(seen_target, "/sub?cursor=42&x=y");
  EXPECT_EQ(seen_ua, "ws-test/1");
  EXPECT_EQ(seen_extra, "yes");
}

TEST_F(WebSocketTest, LargeBinaryMessageWithinLimit) {
  std::string big(3u << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 9));
  WsServer srv(ioc, [&](WsServerConnection& c) -> asio::awaitable<void> {
    co_await c.send_binary(big);
    co_await c.wait_closed();
  });
  WebSocketOptions o = fast();
  o.max_message_bytes = 4u << 20;
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url(), o);
    WebSocketMessage m = co_await ws.read();
    EXPECT_TRUE(m.binary);
    EXPECT_TRUE(m.data.as_string_view() == big);
  }());
}

TEST_F(WebSocketTest, MessageOverLimitFailsAndClosesConnection) {
  bool server_saw_end = false;
  WsServer srv(ioc, [&](WsServerConnection& c) -> asio::awaitable<void> {
    co_await c.send_binary(std::string(2000, 'x'));
    co_await c.wait_closed();
    server_saw_end = true;
  });
  WebSocketOptions o = fast();
  o.max_message_bytes = 1024;
  std::string err;
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url(), o);
    try {
      co_await ws.read();
    } catch (const NetworkError& e) {
      err = e.what();
    }
    EXPECT_FALSE(ws.is_open());
  }());
  EXPECT_NE(err.find("max_message_bytes (1024)"), std::string::npos) << err;
  EXPECT_NE(err.find(srv.url()), std::string::npos) << err;
  EXPECT_TRUE(run_until(ioc, [&] { return server_saw_end; }));
}

TEST_F(WebSocketTest, TruncatedOversizedMessageKeepsThePrefixAndTheConnection) {
  // Several WebSocket frames per message too: the count spans them.
  const std::string big = [] {
    std::string b(3u << 20, '\0');
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>('a' + i % 26);
    return b;
  }();
  WsServer srv(ioc, [&](WsServerConnection& c) -> asio::awaitable<void> {
    co_await c.send_binary(big);
    co_await c.send_text("after");
    co_await c.send_binary(std::string(1024, 'y'));  // exactly the limit: whole
    co_await c.wait_closed();
  });
  WebSocketOptions o = fast();
  o.max_message_bytes = 1024;
  o.truncate_oversized = true;
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url(), o);
    WebSocketMessage m = co_await ws.read();
    EXPECT_TRUE(m.truncated);
    EXPECT_EQ(m.size, big.size());
    EXPECT_TRUE(m.data.as_string_view() == std::string_view(big).substr(0, 1024));
    WebSocketMessage next = co_await ws.read();
    EXPECT_FALSE(next.truncated);
    EXPECT_EQ(next.size, 5u);
    EXPECT_TRUE(next.data.as_string_view() == "after");
    WebSocketMessage exact = co_await ws.read();
    EXPECT_FALSE(exact.truncated);
    EXPECT_EQ(exact.data.size(), 1024u);
    EXPECT_TRUE(ws.is_open());
    EXPECT_EQ(ws.bytes_read(), big.size() + 5 + 1024);
    co_await ws.close();
  }());
}

TEST_F(WebSocketTest, ReadTimeoutWhenServerSilent) {
  WsServer srv(ioc, [](WsServerConnection& c) -> asio::awaitable<void> { co_await c.wait_closed(); });
  WebSocketOptions o = fast();
  o.read_timeout = 150ms;
  std::string err;
  Clock::duration took{};
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url(), o);
    const auto t0 = Clock::now();
    try {
      co_await ws.read();
    } catch (const NetworkError& e) {
      err = e.what();
    }
    took = Clock::now() - t0;
    EXPECT_FALSE(ws.is_open());
  }());
  EXPECT_NE(err.find("no data for 150 ms (read timeout)"), std::string::npos) << err;
  EXPECT_GE(took, 140ms);
  EXPECT_LT(took, 1000ms);
}

TEST_F(WebSocketTest, PingSentWhenIdle) {
  WsServer srv(ioc, [](WsServerConnection& c) -> asio::awaitable<void> {
    co_await c.wait_pings(1);
    co_await c.send_text("pinged");
    co_await c.wait_closed();
  });
  WebSocketOptions o = fast();
  o.ping_interval = 50ms;
  Clock::duration took{};
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url(), o);
    const auto t0 = Clock::now();
    WebSocketMessage m = co_await ws.read();
    took = Clock::now() - t0;
    EXPECT_EQ(text_of(m), "pinged");
  }());
  EXPECT_GE(took, 45ms);
  EXPECT_LT(took, 1000ms);
}

TEST_F(WebSocketTest, PongsKeepAnIdleConnectionAlive) {
  // Read timeout 150 ms, ping every 40 ms: the server's pongs are activity,
  // so a read lasting well past 150 ms (until the 6th ping) does not time out.
  WsServer srv(ioc, [](WsServerConnection& c) -> asio::awaitable<void> {
    co_await c.wait_pings(6);
    co_await c.send_text("still here");
    co_await c.wait_closed();
  });
  WebSocketOptions o = fast();
  o.ping_interval = 40ms;
  o.read_timeout = 150ms;
  Clock::duration took{};
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url(), o);
    const auto t0 = Clock::now();
    WebSocketMessage m = co_await ws.read();
    took = Clock::now() - t0;
    EXPECT_EQ(text_of(m), "still here");
  }());
  EXPECT_GE(took, 200ms);
}

TEST_F(WebSocketTest, ServerCloseCodeAndReason) {
  WsServer srv(ioc, [](WsServerConnection& c) -> asio::awaitable<void> {
    co_await c.send_text("last");
    co_await c.close(4001, "ConsumerTooSlow");
  });
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url(), fast());
    WebSocketMessage a = co_await ws.read();
    WebSocketMessage b = co_await ws.read();
    EXPECT_EQ(text_of(a), "last");
    EXPECT_TRUE(b.closed);
    EXPECT_EQ(b.close_code, 4001);
    EXPECT_EQ(b.close_reason, "ConsumerTooSlow");
    EXPECT_TRUE(b.data.empty());
    EXPECT_FALSE(ws.is_open());
    bool threw = false;
    try {
      co_await ws.read();
    } catch (const NetworkError&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
  }());
}

// A reset connection is a transport failure: read() throws NetworkError.
TEST_F(WebSocketTest, ServerResetThrows) {
  WsServer srv(ioc, [](WsServerConnection& c) -> asio::awaitable<void> {
    co_await c.send_text("one");
    c.drop(true);
    co_return;
  });
  std::string err;
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url(), fast());
    WebSocketMessage a = co_await ws.read();
    EXPECT_EQ(text_of(a), "one");
    try {
      WebSocketMessage b = co_await ws.read();
      err = b.closed ? "closed " + std::to_string(b.close_code) : "message";
    } catch (const NetworkError& e) {
      err = e.what();
    }
    EXPECT_FALSE(ws.is_open());
  }());
  EXPECT_NE(err.find("read:"), std::string::npos) << err;
}

// A TCP FIN without a close frame is reported as closed with code 1006.
TEST_F(WebSocketTest, ServerEofIsClosed1006) {
  WsServer srv(ioc, [](WsServerConnection& c) -> asio::awaitable<void> {
    c.drop(false);
    co_return;
  });
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url(), fast());
    WebSocketMessage m = co_await ws.read();
    EXPECT_TRUE(m.closed);
    EXPECT_EQ(m.close_code, 1006);
    EXPECT_FALSE(ws.is_open());
  }());
}

TEST_F(WebSocketTest, Non101AnswerIsNetworkErrorWithStatus) {
  WsServer srv(ioc, [](WsServerConnection&) -> asio::awaitable<void> { co_return; });
  srv.reject_with(404, "no such stream");
  std::string err;
  run_io(ioc, [&]() -> asio::awaitable<void> {
    try {
      co_await WebSocket::connect(ioc.get_executor(), srv.url("/xrpc/nope"), fast());
    } catch (const NetworkError& e) {
      err = e.what();
    }
  }());
  EXPECT_NE(err.find("HTTP 404"), std::string::npos) << err;
  EXPECT_NE(err.find("no such stream"), std::string::npos) << err;
  EXPECT_NE(err.find("/xrpc/nope"), std::string::npos) << err;
  EXPECT_EQ(srv.connections(), 0u);
  ASSERT_EQ(srv.targets().size(), 1u);
}

TEST_F(WebSocketTest, ConnectRefused) {
  std::uint16_t port = 0;
  {
    asio::ip::tcp::acceptor a(ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  std::string err;
  run_io(ioc, [&]() -> asio::awaitable<void> {
    try {
      co_await WebSocket::connect(ioc.get_executor(), "ws://127.0.0.1:" + std::to_string(port) + "/", fast());
    } catch (const NetworkError& e) {
      err = e.what();
    }
  }());
  EXPECT_NE(err.find("connect to 127.0.0.1:" + std::to_string(port)), std::string::npos) << err;
}

TEST_F(WebSocketTest, AbortWakesPendingRead) {
  using namespace asio::experimental::awaitable_operators;
  WsServer srv(ioc, [](WsServerConnection& c) -> asio::awaitable<void> { co_await c.wait_closed(); });
  std::string err;
  Clock::duration took{};
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url(), fast());
    auto reader = [&]() -> asio::awaitable<void> {
      try {
        co_await ws.read();
      } catch (const NetworkError& e) {
        err = e.what();
      }
    };
    auto aborter = [&]() -> asio::awaitable<void> {
      // Two turns of the loop: the read is then suspended in the socket read.
      co_await asio::post(ioc, asio::use_awaitable);
      co_await asio::post(ioc, asio::use_awaitable);
      ws.abort();
    };
    const auto t0 = Clock::now();
    co_await (reader() && aborter());
    took = Clock::now() - t0;
    EXPECT_FALSE(ws.is_open());
  }());
  EXPECT_NE(err.find("aborted"), std::string::npos) << err;
  EXPECT_LT(took, 500ms);
}

TEST_F(WebSocketTest, ClientCloseIsSeenByServer) {
  bool server_saw_end = false;
  std::optional<std::string> got;
  WsServer srv(ioc, [&](WsServerConnection& c) -> asio::awaitable<void> {
    got = co_await c.read_text();
    co_await c.wait_closed();
    server_saw_end = true;
  });
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url(), fast());
    co_await ws.send("{\"type\":\"options_update\"}");
    co_await ws.close(1000, "bye");
    EXPECT_FALSE(ws.is_open());
    bool threw = false;
    try {
      co_await ws.send("late");
    } catch (const NetworkError&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
  }());
  EXPECT_TRUE(run_until(ioc, [&] { return server_saw_end; }));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, "{\"type\":\"options_update\"}");
}

TEST_F(WebSocketTest, ExplicitPingAndHttpSchemeAlias) {
  WsServer srv(ioc, [](WsServerConnection& c) -> asio::awaitable<void> {
    co_await c.wait_pings(1);
    co_await c.send_text("ok");
    co_await c.wait_closed();
  });
  std::string url = srv.url("/p");
  url.replace(0, 2, "http");  // ws://... -> http://...
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), url, fast());
    co_await ws.ping();
    WebSocketMessage m = co_await ws.read();
    EXPECT_EQ(text_of(m), "ok");
  }());
}

TEST_F(WebSocketTest, BadUrlIsInvalidArgument) {
  EXPECT_THROW(run_io(ioc, WebSocket::connect(ioc.get_executor(), "ftp://example.com/", fast())),
               InvalidArgument);
  EXPECT_THROW(run_io(ioc, WebSocket::connect(ioc.get_executor(), "not a url", fast())), InvalidArgument);
}

TEST_F(WebSocketTest, UnconnectedWebSocketThrows) {
  WebSocket ws;
  EXPECT_FALSE(ws.is_open());
  EXPECT_THROW(run_io(ioc, ws.read()), NetworkError);
  ws.abort();  // no-op
  run_io(ioc, ws.close());
}

TEST_F(WebSocketTest, WssWithTrustedCertificate) {
  const WsServerTls tls = make_test_tls();
  const std::string ca = ::testing::TempDir() + "/ws_test_ca.pem";
  {
    std::ofstream f(ca);
    f << tls.cert_pem;
  }
  WsServer srv(
      ioc.get_executor(),
      [](WsServerConnection& c) -> asio::awaitable<void> {
        auto m = co_await c.read_text();
        co_await c.send_binary(*m);
        co_await c.close(4002, "bye over TLS");
      },
      tls);
  WebSocketOptions o = fast();
  o.tls.use_system_ca = false;
  o.tls.ca_file = ca;
  EXPECT_EQ(srv.url("/x").rfind("wss://127.0.0.1:", 0), 0u);
  run_io(ioc, [&]() -> asio::awaitable<void> {
    WebSocket ws = co_await WebSocket::connect(ioc.get_executor(), srv.url("/x"), o);
    co_await ws.send("secret");
    WebSocketMessage a = co_await ws.read();
    WebSocketMessage b = co_await ws.read();
    EXPECT_TRUE(a.binary);
    EXPECT_EQ(text_of(a), "secret");
    EXPECT_TRUE(b.closed);
    EXPECT_EQ(b.close_code, 4002);
    EXPECT_EQ(b.close_reason, "bye over TLS");
  }());
}

TEST_F(WebSocketTest, WssUntrustedCertificateNamesVerifyResult) {
  WsServer srv(
      ioc.get_executor(), [](WsServerConnection& c) -> asio::awaitable<void> { co_await c.wait_closed(); },
      make_test_tls());
  WebSocketOptions o = fast();
  o.tls.use_system_ca = false;
  std::string err;
  run_io(ioc, [&]() -> asio::awaitable<void> {
    try {
      co_await WebSocket::connect(ioc.get_executor(), srv.url(), o);
    } catch (const NetworkError& e) {
      err = e.what();
    }
  }());
  EXPECT_NE(err.find("TLS handshake with 127.0.0.1:"), std::string::npos) << err;
  EXPECT_NE(err.find("certificate"), std::string::npos) << err;
  EXPECT_EQ(srv.connections(), 0u);
}

TEST(WebSocketUrl, SchemeMapping) {
  EXPECT_EQ(websocket_to_http_url("ws://h:1/x?y=1"), "http://h:1/x?y=1");
  EXPECT_EQ(websocket_to_http_url("WSS://h/x"), "https://h/x");
  EXPECT_EQ(websocket_to_http_url("https://h/x"), "https://h/x");
  EXPECT_THROW(websocket_to_http_url("ftp://h/"), InvalidArgument);
  EXPECT_THROW(websocket_to_http_url("h/x"), InvalidArgument);
  HttpUrl u = HttpUrl::parse(websocket_to_http_url("wss://jetstream.example/subscribe?compress=true"));
  EXPECT_TRUE(u.tls());
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.target, "/subscribe?compress=true");
}

}  // namespace
