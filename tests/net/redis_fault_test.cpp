// RedisClient against a scripted loopback server, for what a real
// redis-server does not do: truncated and corrupt replies, a server that
// never answers (request timeout, AUTH timeout), a refused connect, a client
// destroyed with a request in flight; and proof that concurrent callers are
// pipelined (the server answers only once several requests have arrived).

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>

#include "atdata/error.hpp"
#include "atdata/net/redis.hpp"
#include "mock_server.hpp"
#include "support/net_run.hpp"

namespace {

namespace asio = boost::asio;
using atdata::DecodeError;
using atdata::NetworkError;
using atdata::net::RedisClient;
using atdata::net::RedisConfig;
using atdata::net::RedisError;
using atdata::net::RedisRequest;
using atdata::net::RespParser;
using atdata::net::RespValue;
using atdata::test::MockServer;
using atdata::test::run_io;
using atdata::test::send;
using atdata::test::sleep_for;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Reads one command (an array of bulk strings); empty at EOF.
asio::awaitable<std::vector<std::string>> read_command(tcp::socket& s, RespParser& p) {
  std::vector<std::string> out;
  std::array<char, 4096> buf;
  for (;;) {
    if (auto v = p.next()) {
      for (const auto& a : v->array()) out.emplace_back(a.str());
      break;
    }
    boost::system::error_code ec;
    const std::size_t n =
        co_await s.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    p.feed(std::string_view(buf.data(), n));
  }
  co_return out;
}

RedisConfig config_for(const MockServer& server) {
  const std::string url = server.url("");  // http://127.0.0.1:PORT
  RedisConfig c = RedisConfig::from_url("redis://" + url.substr(url.find("127.0.0.1")));
  c.connect_timeout = 2s;
  c.request_timeout = 5s;
  return c;
}

std::string port_of(const RedisConfig& c) {
  return "127.0.0.1:" + std::to_string(c.port);
}

TEST(RedisFault, TruncatedReplyThenCloseIsNetworkErrorAndNextCallReconnects) {
  asio::io_context ioc;
  MockServer server(ioc, [](tcp::socket& s, int index) -> asio::awaitable<void> {
    RespParser p;
    auto cmd = co_await read_command(s, p);
    if (index == 0) {
      co_await send(s, "$10\r\nabc");  // 7 of the 10 bytes, then hang up
      s.close();
    } else {
      co_await send(s, "+PONG\r\n");
      co_await read_command(s, p);
    }
  });
  const RedisConfig cfg = config_for(server);
  RedisClient client(ioc.get_executor(), cfg);
  try {
    run_io(ioc, client.command("GET", "k"));
    FAIL() << "no NetworkError";
  } catch (const NetworkError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("redis " + port_of(cfg) + ": GET"), std::string::npos) << what;
    EXPECT_NE(what.find("closed by the server while reading replies"), std::string::npos) << what;
  }
  RespValue pong = run_io(ioc, client.command("PING"));
  EXPECT_EQ(pong.str(), "PONG");
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(client.stats().connections_opened, 2u);
}

TEST(RedisFault, CorruptReplyIsDecodeErrorNamingTheCommandAndOffset) {
  asio::io_context ioc;
  MockServer server(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    RespParser p;
    co_await read_command(s, p);
    co_await read_command(s, p);
    co_await send(s, "+OK\r\n?garbage\r\n");
    co_await read_command(s, p);
  });
  RedisClient client(ioc.get_executor(), config_for(server));
  RedisRequest req;
  req.push("SET", "k", "v");
  req.push("GET", "k");
  try {
    run_io(ioc, client.exec(req));
    FAIL() << "no DecodeError";
  } catch (const DecodeError& e) {
    EXPECT_EQ(e.offset(), 5u);
    EXPECT_NE(std::string(e.what()).find("reply to GET"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("unexpected type byte '?'"), std::string::npos) << e.what();
  }
}

TEST(RedisFault, ServerThatNeverAnswersHitsTheRequestTimeout) {
  asio::io_context ioc;
  bool saw_eof = false;
  MockServer server(ioc, [&](tcp::socket& s, int) -> asio::awaitable<void> {
    RespParser p;
    for (;;) {
      auto cmd = co_await read_command(s, p);
      if (cmd.empty()) break;
    }
    saw_eof = true;
  });
  RedisConfig cfg = config_for(server);
  cfg.request_timeout = 200ms;
  RedisClient client(ioc.get_executor(), cfg);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    run_io(ioc, client.command("GET", "k"));
    FAIL() << "no timeout";
  } catch (const NetworkError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("GET: no reply within 200 ms (request timeout)"), std::string::npos) << what;
  }
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 3s);
  // The written request's connection was closed (its late reply would
  // otherwise be taken for the next request's).
  ioc.restart();  // run_io stopped it
  for (int i = 0; i < 100 && !saw_eof; ++i) ioc.run_one_for(20ms);
  EXPECT_TRUE(saw_eof);
}

TEST(RedisFault, AuthThatIsNeverAnsweredTimesOutWithoutShowingThePassword) {
  asio::io_context ioc;
  MockServer server(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    RespParser p;
    co_await read_command(s, p);
    co_await sleep_for(5000ms);
  });
  RedisConfig cfg = config_for(server);
  cfg.password = "hunter2-secret";
  cfg.connect_timeout = 200ms;
  RedisClient client(ioc.get_executor(), cfg);
  try {
    run_io(ioc, client.command("PING"));
    FAIL() << "no timeout";
  } catch (const NetworkError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("redis " + port_of(cfg) + ": AUTH timed out after 200 ms"), std::string::npos)
        << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }
}

TEST(RedisFault, RefusedConnectNamesHostAndPort) {
  asio::io_context ioc;
  std::uint16_t port = 0;
  {
    tcp::acceptor a(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    port = a.local_endpoint().port();
  }
  RedisClient client(ioc.get_executor(), RedisConfig::from_url("redis://127.0.0.1:" + std::to_string(port)));
  try {
    run_io(ioc, client.command("PING"));
    FAIL() << "no NetworkError";
  } catch (const NetworkError& e) {
    EXPECT_NE(std::string(e.what()).find("connect to 127.0.0.1:" + std::to_string(port)), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(client.stats().connections_opened, 0u);
}

// The server answers only after it has received three commands: callers
// that waited for a reply before the next write would deadlock (and time out).
TEST(RedisFault, ConcurrentCallersArePipelinedAndMatchedInOrder) {
  asio::io_context ioc;
  MockServer server(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    RespParser p;
    std::vector<std::string> echoes;
    for (int i = 0; i < 3; ++i) echoes.push_back((co_await read_command(s, p)).at(1));
    std::string out;
    for (const auto& e : echoes) out += "$" + std::to_string(e.size()) + "\r\n" + e + "\r\n";
    co_await send(s, out);
    co_await read_command(s, p);
  });
  RedisConfig cfg = config_for(server);
  cfg.request_timeout = 2s;
  RedisClient client(ioc.get_executor(), cfg);
  std::vector<std::string> got(3);
  int finished = 0;
  std::string error;
  for (int i = 0; i < 3; ++i) {
    auto done = [&, i](std::exception_ptr e, RespValue v) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& x) {
          error = x.what();
        }
      } else {
        got[i] = std::string(v.str());
      }
      if (++finished == 3) ioc.stop();
    };
    asio::co_spawn(ioc, client.command("ECHO", "caller-" + std::to_string(i)), done);
  }
  ioc.run();
  EXPECT_EQ(error, "");
  EXPECT_EQ(got, (std::vector<std::string>{"caller-0", "caller-1", "caller-2"}));
  EXPECT_EQ(client.stats().connections_opened, 1u);
}

TEST(RedisFault, DestroyingTheClientFailsTheRequestInFlight) {
  asio::io_context ioc;
  MockServer server(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    RespParser p;
    for (;;) {
      if ((co_await read_command(s, p)).empty()) break;
    }
  });
  auto client = std::make_unique<RedisClient>(ioc.get_executor(), config_for(server));
  std::string error;
  bool finished = false;
  auto done = [&](std::exception_ptr e, RespValue) {
    try {
      if (e) std::rethrow_exception(e);
    } catch (const NetworkError& x) {
      error = x.what();
    } catch (const std::exception& x) {
      error = std::string("wrong exception: ") + x.what();
    }
    finished = true;
  };
  asio::co_spawn(ioc, client->command("GET", "k"), done);
  for (int i = 0; i < 200 && client->stats().requests_sent == 0; ++i) ioc.run_one_for(10ms);
  ASSERT_EQ(client->stats().requests_sent, 1u);
  client.reset();
  for (int i = 0; i < 100 && !finished; ++i) ioc.run_one_for(10ms);
  EXPECT_TRUE(finished);
  EXPECT_NE(error.find("GET: client destroyed"), std::string::npos) << error;
}

TEST(RedisFault, BadUrlsAreInvalidArgumentWithoutThePassword) {
  EXPECT_THROW(RedisConfig::from_url("http://127.0.0.1"), atdata::InvalidArgument);
  EXPECT_THROW(RedisConfig::from_url("rediss://127.0.0.1"), atdata::InvalidArgument);
  EXPECT_THROW(RedisConfig::from_url("redis://127.0.0.1:99999"), atdata::InvalidArgument);
  EXPECT_THROW(RedisConfig::from_url("redis://127.0.0.1/x"), atdata::InvalidArgument);
  EXPECT_THROW(RedisConfig::from_url("redis://127.0.0.1/1?timeout=3"), atdata::InvalidArgument);
  try {
    RedisConfig::from_url("redis://user:topsecret@127.0.0.1:6379/notanumber");
    FAIL() << "no InvalidArgument";
  } catch (const atdata::InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()).find("topsecret"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("user:***@127.0.0.1"), std::string::npos) << e.what();
  }
  RedisConfig d;
  EXPECT_EQ(d.endpoint(), "127.0.0.1:6379");
  EXPECT_EQ(d.db, 0);
  EXPECT_EQ(d.connect_timeout, 5s);
  EXPECT_EQ(d.request_timeout, 30s);
  RedisConfig c = RedisConfig::from_url("redis://al%40ice:p%3Ass@[::1]:7000/3");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 7000);
  EXPECT_EQ(c.endpoint(), "[::1]:7000");
  EXPECT_EQ(c.username, "al@ice");
  EXPECT_EQ(c.password, "p:ss");
  EXPECT_EQ(c.db, 3);
  RedisConfig p = RedisConfig::from_url("redis://:pw@localhost");
  EXPECT_EQ(p.host, "localhost");
  EXPECT_EQ(p.port, 6379);
  EXPECT_EQ(p.username, "");
  EXPECT_EQ(p.password, "pw");
}

}  // namespace
