// HttpClient failure paths nginx cannot produce: a tiny scripted server on
// 127.0.0.1:0 that resets, stalls, lies about lengths or speaks garbage.
#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "atdata/error.hpp"
#include "atdata/net/http_client.hpp"
#include "net/mock_server.hpp"
#include "support/net_run.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace atdata;
using namespace atdata::net;
using namespace atdata::test;

namespace {

class MockHttp : public ::testing::Test {
 protected:
  asio::io_context ioc;
};

TEST_F(MockHttp, ResetMidBodyNamesUrlAndOffset) {
  MockServer srv(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    co_await read_request(s, pending, req);
    co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
    co_await send(s, std::string(100000, 'x'));
    co_await sleep_for(std::chrono::milliseconds(20));
    reset_now(s);
  });
  HttpClient client(ioc.get_executor());
  std::uint64_t got = 0;
  try {
    run_io(ioc, [&]() -> asio::awaitable<void> {
      auto st = co_await client.open(HttpRequest{"GET", srv.url("/shard.tar")});
      for (;;) {
        auto c = co_await st.next();
        if (c.empty()) break;
        got += c.size();
      }
    }());
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(srv.url("/shard.tar")), std::string::npos) << what;
    EXPECT_NE(what.find("at byte 100000"), std::string::npos) << what;
  }
  EXPECT_EQ(got, 100000u);
}

TEST_F(MockHttp, StalledBodyTimesOut) {
  MockServer srv(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    co_await read_request(s, pending, req);
    co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
    co_await sleep_for(std::chrono::seconds(5));
  });
  HttpClientOptions opt;
  opt.read_body_idle_timeout = std::chrono::milliseconds(200);
  HttpClient client(ioc.get_executor(), opt);
  try {
    run_io(ioc, client.get(srv.url("/stall")));
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("stalled at byte 10"), std::string::npos) << what;
    EXPECT_NE(what.find("200 ms"), std::string::npos) << what;
  }
}

TEST_F(MockHttp, StalledHeaderTimesOut) {
  MockServer srv(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    co_await read_request(s, pending, req);
    co_await sleep_for(std::chrono::seconds(5));
  });
  HttpClientOptions opt;
  opt.read_header_timeout = std::chrono::milliseconds(200);
  HttpClient client(ioc.get_executor(), opt);
  try {
    run_io(ioc, client.get(srv.url("/slow")));
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    EXPECT_NE(std::string(e.what()).find("read response header timed out"), std::string::npos) << e.what();
  }
}

TEST_F(MockHttp, MalformedResponsesAreErrors) {
  MockServer srv(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    co_await read_request(s, pending, req);
    if (req.head.find("/garbage") != std::string::npos) {
      co_await send(s, "HTTP/1.1 abc nonsense\r\n\r\n");
    } else if (req.head.find("/huge-header") != std::string::npos) {
      co_await send(
          s, "HTTP/1.1 200 OK\r\nX-Big: " + std::string(200000, 'a') + "\r\nContent-Length: 0\r\n\r\n");
    } else if (req.head.find("/bad-length") != std::string::npos) {
      co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n");
    } else {
      co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");  // then closes
    }
  });
  HttpClient client(ioc.get_executor());
  for (const char* path : {"/garbage", "/huge-header", "/bad-length", "/truncated"}) {
    try {
      run_io(ioc, client.get(srv.url(path)));
      ADD_FAILURE() << "expected NetworkError for " << path;
    } catch (const NetworkError& e) {
      EXPECT_NE(std::string(e.what()).find(srv.url(path)), std::string::npos) << e.what();
    }
  }
}

TEST_F(MockHttp, ChunkedResponseBody) {
  MockServer srv(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    while (co_await read_request(s, pending, req)) {
      co_await send(s,
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;ext=1\r\n "
                    "\r\n5\r\nworld\r\n0\r\n\r\n");
    }
  });
  HttpClient client(ioc.get_executor());
  auto r = run_io(ioc, client.get(srv.url("/chunked")));
  EXPECT_EQ(r.body, "hello world");
  auto again = run_io(ioc, client.get(srv.url("/chunked")));
  EXPECT_EQ(again.body, "hello world");
  EXPECT_EQ(srv.connections(), 1);
}

TEST_F(MockHttp, UnboundedChunkedBodyHitsTheLimit) {
  MockServer srv(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    co_await read_request(s, pending, req);
    co_await send(s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk = "1000\r\n" + std::string(4096, 'z') + "\r\n";
    for (int i = 0; i < 1000; ++i) co_await send(s, chunk);
    co_await send(s, "0\r\n\r\n");
  });
  HttpClientOptions opt;
  opt.max_body_bytes = 100000;
  HttpClient client(ioc.get_executor(), opt);
  try {
    run_io(ioc, client.get(srv.url("/endless")));
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the limit of 100000"), std::string::npos) << e.what();
  }
}

TEST_F(MockHttp, StaleKeepAliveConnectionIsRetriedOnce) {
  // Connection 0 answers one request, then swallows the second and closes:
  // exactly what a server closing an idle keep-alive connection looks like.
  MockServer srv(ioc, [](tcp::socket& s, int index) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    int served = 0;
    while (co_await read_request(s, pending, req)) {
      if (index == 0 && served == 1) {
        s.close();
        co_return;
      }
      co_await send(s, ok_response("conn" + std::to_string(index)));
      ++served;
    }
  });
  HttpClient client(ioc.get_executor());
  EXPECT_EQ(run_io(ioc, client.get(srv.url("/a"))).body, "conn0");
  auto r = run_io(ioc, client.request(HttpRequest{"POST", srv.url("/b"), {}, "payload"}));
  EXPECT_EQ(r.body, "conn1");
  EXPECT_EQ(client.stats().retries, 1u);
  EXPECT_EQ(client.stats().connections_opened, 2u);
}

TEST_F(MockHttp, FailureOnAFreshConnectionIsNotRetried) {
  MockServer srv(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    co_await read_request(s, pending, req);
    s.close();
  });
  HttpClient client(ioc.get_executor());
  EXPECT_THROW(run_io(ioc, client.get(srv.url("/x"))), NetworkError);
  EXPECT_EQ(client.stats().retries, 0u);
  EXPECT_EQ(srv.connections(), 1);
}

TEST_F(MockHttp, RequestBodiesFromMemoryStreamAndFile) {
  MockServer srv(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    while (co_await read_request(s, pending, req)) {
      std::uint64_t sum = 0;
      for (unsigned char c : req.body) sum = sum * 31 + c;
      co_await send(s, ok_response(std::to_string(req.body.size()) + ":" + std::to_string(sum)));
    }
  });
  auto expect_for = [](const std::string& body) {
    std::uint64_t sum = 0;
    for (unsigned char c : body) sum = sum * 31 + c;
    return std::to_string(body.size()) + ":" + std::to_string(sum);
  };
  std::string payload(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7 + (i >> 11));

  HttpClient client(ioc.get_executor());
  auto mem = run_io(
      ioc, client.request(HttpRequest{"POST", srv.url("/upload"), {{"Content-Type", "*/*"}}, payload}));
  EXPECT_EQ(mem.body, expect_for(payload));

  auto stream_body = RequestBody::from_stream(payload.size(), [&payload]() -> BodyChunkReader {
    auto pos = std::make_shared<std::size_t>(0);
    return [&payload, pos]() -> asio::awaitable<SharedBytes> {
      const std::size_t n = std::min<std::size_t>(100000, payload.size() - *pos);
      auto c = SharedBytes::copy_of(std::string_view(payload).substr(*pos, n));
      *pos += n;
      co_return c;
    };
  });
  auto streamed = run_io(ioc, client.request(HttpRequest{"POST", srv.url("/upload"), {}, stream_body}));
  EXPECT_EQ(streamed.body, expect_for(payload));

  const std::string path = ::testing::TempDir() + "/atdata_http_body.bin";
  std::ofstream(path, std::ios::binary) << payload;
  auto from_file = run_io(
      ioc, client.request(HttpRequest{"PUT", srv.url("/upload"), {}, RequestBody::from_file(path, 65536)}));
  EXPECT_EQ(from_file.body, expect_for(payload));
  std::remove(path.c_str());

  // A stream that yields fewer bytes than declared fails the request.
  auto short_body = RequestBody::from_stream(10, []() -> BodyChunkReader {
    return []() -> asio::awaitable<SharedBytes> { co_return SharedBytes{}; };
  });
  EXPECT_THROW(run_io(ioc, client.request(HttpRequest{"POST", srv.url("/upload"), {}, short_body})),
               InvalidArgument);
  // Every request after that still works (the broken connection was dropped).
  auto after = run_io(ioc, client.request(HttpRequest{"POST", srv.url("/upload"), {}, "abc"}));
  EXPECT_EQ(after.body, expect_for("abc"));
}

TEST_F(MockHttp, SendsHostUserAgentAndRejectsHeaderInjection) {
  std::string seen;
  MockServer srv(ioc, [&seen](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    while (co_await read_request(s, pending, req)) {
      seen = req.head;
      co_await send(s, ok_response("ok"));
    }
  });
  HttpClientOptions opt;
  opt.user_agent = "atdata-test/1";
  HttpClient client(ioc.get_executor(), opt);
  run_io(ioc, client.get(srv.url("/p?q=1&did=did:plc:abc"), {{"X-Trace", "t1"}}));
  EXPECT_NE(seen.find("GET /p?q=1&did=did:plc:abc HTTP/1.1\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("User-Agent: atdata-test/1\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("X-Trace: t1\r\n"), std::string::npos) << seen;
  EXPECT_NE(seen.find("Host: 127.0.0.1:"), std::string::npos) << seen;
  try {
    run_io(ioc, client.get(srv.url("/p"), {{"Authorization", "Bearer SECRET\r\nX-Evil: 1"}}));
    FAIL() << "expected InvalidArgument";
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
  }
}

TEST_F(MockHttp, PoolWaitersAreServedInTurn) {
  MockServer srv(ioc, [](tcp::socket& s, int index) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    while (co_await read_request(s, pending, req)) {
      co_await sleep_for(std::chrono::milliseconds(5));
      co_await send(s, ok_response(std::to_string(index)));
    }
  });
  HttpClientOptions opt;
  opt.max_connections_per_host = 1;
  HttpClient client(ioc.get_executor(), opt);
  int done = 0;
  for (int i = 0; i < 5; ++i) {
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          auto r = co_await client.get(srv.url("/q"));
          EXPECT_EQ(r.body, "0");
          if (++done == 5) ioc.stop();
        },
        asio::detached);
  }
  ioc.run();
  EXPECT_EQ(done, 5);
  EXPECT_EQ(srv.connections(), 1);
}

TEST_F(MockHttp, BodyDelimitedByConnectionClose) {
  MockServer srv(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    co_await read_request(s, pending, req);
    co_await send(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    co_await send(s, std::string(300000, 'e'));
    s.shutdown(tcp::socket::shutdown_send);
  });
  HttpClient client(ioc.get_executor());
  auto r = run_io(ioc, client.get(srv.url("/eof")));
  EXPECT_EQ(r.body.size(), 300000u);
  EXPECT_EQ(r.body, std::string(300000, 'e'));
  auto again = run_io(ioc, client.get(srv.url("/eof")));
  EXPECT_EQ(again.body.size(), 300000u);
  EXPECT_EQ(client.stats().connections_opened, 2u);  // "Connection: close" is honoured
}

TEST_F(MockHttp, CancelledPoolWaitLeavesTheQueue) {
  MockServer srv(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    while (co_await read_request(s, pending, req)) {
      co_await sleep_for(std::chrono::milliseconds(1000));
      co_await send(s, ok_response("slow"));
    }
  });
  HttpClientOptions opt;
  opt.max_connections_per_host = 1;
  HttpClient client(ioc.get_executor(), opt);
  int first_done = 0;
  asio::co_spawn(
      ioc,
      [&]() -> asio::awaitable<void> {
        auto r = co_await client.get(srv.url("/first"));
        EXPECT_EQ(r.body, "slow");
        ++first_done;
      },
      asio::detached);
  run_io(ioc, [&]() -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    co_await sleep_for(std::chrono::milliseconds(20));  // the first request holds the only connection
    auto r = co_await (client.get(srv.url("/second")) || sleep_for(std::chrono::milliseconds(30)));
    EXPECT_EQ(r.index(), 1u);  // the deadline won while the request waited for a connection
    // Without cancellation the wait would only end once the slot was free and
    // the second request had been sent.
    EXPECT_EQ(first_done, 0);
    EXPECT_EQ(client.stats().requests_sent, 1u);
  }());
  ioc.restart();
  for (int i = 0; i < 100 && !first_done; ++i) ioc.run_one_for(std::chrono::milliseconds(100));
  EXPECT_EQ(first_done, 1);
  EXPECT_EQ(client.stats().requests_sent, 1u);
}

}  // namespace
