// HttpByteSource against the scripted mock server: resume after a reset,
// refusal to splice unvalidated or changed entities, error messages.
#include <gtest/gtest.h>

#include <string>

#include "atdata/error.hpp"
#include "atdata/net/http_byte_source.hpp"
#include "net/mock_server.hpp"
#include "support/net_run.hpp"

using namespace atdata;
using namespace atdata::net;
using namespace atdata::test;

namespace {

constexpr std::size_t kSize = 1'000'000;

std::string pattern(std::size_t from, std::size_t to) {
  std::string s(to - from, '\0');
  for (std::size_t i = from; i < to; ++i) s[i - from] = static_cast<char>((i * 131) ^ (i >> 9));
  return s;
}

// Serves a kSize body. Connection 0 dies after `cut` bytes (RST); later
// connections honour "Range: bytes=N-" when `ranges` is set.
struct Behaviour {
  std::size_t cut = 300'000;
  bool ranges = true;
  std::string validator = "ETag: \"v1\"\r\n";
};

MockServer::Script script(Behaviour b, std::string* last_head) {
  return [b, last_head](tcp::socket& s, int index) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    while (co_await read_request(s, pending, req)) {
      *last_head = req.head;
      std::size_t from = 0;
      if (auto p = req.head.find("Range: bytes="); p != std::string::npos && b.ranges) {
        from = std::stoull(req.head.substr(p + 13));
      }
      std::string head = from > 0 ? "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " +
                                        std::to_string(from) + "-" + std::to_string(kSize - 1) + "/" +
                                        std::to_string(kSize) + "\r\n"
                                  : "HTTP/1.1 200 OK\r\n";
      head += b.validator + "Content-Length: " + std::to_string(kSize - from) + "\r\n\r\n";
      co_await send(s, head);
      if (index == 0) {
        co_await send(s, pattern(0, b.cut));
        co_await sleep_for(std::chrono::milliseconds(30));
        reset_now(s);
        co_return;
      }
      co_await send(s, pattern(from, kSize));
    }
  };
}

asio::awaitable<std::string> drain(ByteSource& src) {
  std::string all;
  for (;;) {
    SharedBytes c = co_await src.next_chunk();
    if (c.empty()) break;
    all.append(c.as_string_view());
  }
  co_return all;
}

class HttpSource : public ::testing::Test {
 protected:
  asio::io_context ioc;
  std::string last_head;
};

TEST_F(HttpSource, ResumesAfterResetWithRangeAndIfRange) {
  MockServer srv(ioc, script(Behaviour{}, &last_head));
  auto client = std::make_shared<HttpClient>(ioc.get_executor());
  HttpSourceOptions opt;
  opt.resume_backoff = std::chrono::milliseconds(1);
  HttpByteSource src(client, srv.url("/shard-000.tar"), opt);
  const std::string all = run_io(ioc, drain(src));
  EXPECT_EQ(all.size(), kSize);
  EXPECT_TRUE(all == pattern(0, kSize));
  EXPECT_EQ(src.resumes(), 1);
  EXPECT_EQ(src.size_hint().value_or(0), kSize);
  EXPECT_NE(last_head.find("If-Range: \"v1\""), std::string::npos) << last_head;
  // Reading past the end stays at the end.
  EXPECT_TRUE(run_io(ioc, src.next_chunk()).empty());
}

TEST_F(HttpSource, WithoutResumeTheErrorNamesUrlAndOffset) {
  MockServer srv(ioc, script(Behaviour{}, &last_head));
  auto client = std::make_shared<HttpClient>(ioc.get_executor());
  HttpSourceOptions opt;
  opt.max_resume_attempts = 0;
  HttpByteSource src(client, srv.url("/shard-000.tar"), opt);
  std::size_t got = 0;
  try {
    run_io(ioc, [&]() -> asio::awaitable<void> {
      for (;;) {
        auto c = co_await src.next_chunk();
        if (c.empty()) break;
        got += c.size();
      }
    }());
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(srv.url("/shard-000.tar")), std::string::npos) << what;
    EXPECT_NE(what.find("interrupted at byte " + std::to_string(got) + " of 1000000"), std::string::npos)
        << what;
  }
  EXPECT_LE(got, 300'000u);
}

TEST_F(HttpSource, NeverSplicesWithoutAValidator) {
  Behaviour b;
  b.validator = "";
  MockServer srv(ioc, script(b, &last_head));
  auto client = std::make_shared<HttpClient>(ioc.get_executor());
  HttpByteSource src(client, srv.url("/x.tar"));
  EXPECT_THROW(run_io(ioc, drain(src)), NetworkError);
  EXPECT_EQ(src.resumes(), 0);
}

TEST_F(HttpSource, RefusesAFullResponseToARangeRequest) {
  Behaviour b;
  b.ranges = false;  // the server answers 200 with the whole body again
  MockServer srv(ioc, script(b, &last_head));
  auto client = std::make_shared<HttpClient>(ioc.get_executor());
  HttpSourceOptions opt;
  opt.resume_backoff = std::chrono::milliseconds(1);
  HttpByteSource src(client, srv.url("/x.tar"), opt);
  try {
    run_io(ioc, drain(src));
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    EXPECT_NE(std::string(e.what()).find("instead of 206"), std::string::npos) << e.what();
  }
}

TEST_F(HttpSource, NonSuccessStatusIsHttpError) {
  MockServer srv(ioc, [](tcp::socket& s, int) -> asio::awaitable<void> {
    std::string pending;
    ReceivedRequest req;
    co_await read_request(s, pending, req);
    co_await send(s, "HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n\r\ndenied");
  });
  auto src = open_http_source(std::make_shared<HttpClient>(ioc.get_executor()), srv.url("/private.tar"));
  try {
    run_io(ioc, src->next_chunk());
    FAIL() << "expected HttpError";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status(), 403);
    EXPECT_NE(std::string(e.what()).find("denied"), std::string::npos) << e.what();
  }
}

TEST_F(HttpSource, RejectsBadUrlsEagerly) {
  auto client = std::make_shared<HttpClient>(ioc.get_executor());
  EXPECT_THROW(HttpByteSource(client, "s3://bucket/x.tar"), InvalidArgument);
}

}  // namespace
