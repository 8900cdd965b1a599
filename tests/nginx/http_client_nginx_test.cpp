// HttpClient against a real nginx on 127.0.0.1 (tools/nginx/ctest-fixture.sh).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "atdata/error.hpp"
#include "atdata/net/http_client.hpp"
#include "support/net_run.hpp"

namespace asio = boost::asio;
using namespace atdata;
using namespace atdata::net;
using atdata::test::run_io;

namespace {

std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  std::getline(f, s);
  if (s.empty()) throw std::runtime_error("missing " + path + " (is the nginx fixture running?)");
  return s;
}

const std::string kRun = ATDATA_NGINX_RUN_DIR;
std::string base() {
  return read_line(kRun + "/url");
}
std::string https_base() {
  return read_line(kRun + "/https_url");
}

// Test processes run in parallel against one docroot and rewrite the same
// names (always with the same bytes). Writing in place would let nginx serve
// another process's half-written file; a rename swaps whole files only.
void publish(const std::string& name, std::string_view bytes) {
  const std::string final_path = kRun + "/www/" + name;
  const std::string tmp = final_path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, final_path);
}

// Deterministic pseudo-random content, so a checksum mismatch means corruption.
std::uint64_t write_pattern_file(const std::string& name, std::size_t size) {
  std::vector<char> buf(size);
  std::uint64_t x = 0x9e3779b97f4a7c15ull ^ size;
  for (std::size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf[i] = static_cast<char>(x);
  }
  publish(name, std::string_view(buf.data(), buf.size()));
  std::uint64_t h = 1469598103934665603ull;
  for (char c : buf) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

void write_file(const std::string& name, const std::string& content) {
  publish(name, content);
}

class NginxHttp : public ::testing::Test {
 protected:
  void SetUp() override { write_file("small.txt", "hello from nginx\n"); }
  asio::io_context ioc;
};

TEST_F(NginxHttp, GetSmallFile) {
  HttpClient client(ioc.get_executor());
  auto r = run_io(ioc, client.get(base() + "/small.txt"));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.body, "hello from nginx\n");
  EXPECT_EQ(r.headers.get("content-length").value_or(""), "17");
  EXPECT_TRUE(r.headers.contains("X-Connection"));
}

TEST_F(NginxHttp, LargeBodyStreamsInBoundedChunks) {
  constexpr std::size_t kSize = 64u << 20;
  const std::uint64_t want = write_pattern_file("large.bin", kSize);
  HttpClientOptions opt;
  opt.body_chunk_bytes = 256 * 1024;
  HttpClient client(ioc.get_executor(), opt);
  run_io(ioc, [&]() -> asio::awaitable<void> {
    auto s = co_await client.open(HttpRequest{"GET", base() + "/large.bin"});
    EXPECT_EQ(s.status(), 200);
    EXPECT_EQ(s.content_length().value_or(0), kSize);
    std::uint64_t h = 1469598103934665603ull, total = 0;
    std::size_t chunks = 0, largest = 0;
    for (;;) {
      SharedBytes c = co_await s.next();
      if (c.empty()) break;
      ++chunks;
      largest = std::max(largest, c.size());
      total += c.size();
      for (std::byte b : c.span()) h = (h ^ static_cast<unsigned char>(b)) * 1099511628211ull;
    }
    EXPECT_TRUE(s.done());
    EXPECT_EQ(total, kSize);
    EXPECT_EQ(s.bytes_read(), kSize);
    EXPECT_EQ(h, want);
    // Memory stays bounded: no chunk exceeds the configured size.
    EXPECT_LE(largest, opt.body_chunk_bytes);
    EXPECT_GE(chunks, kSize / opt.body_chunk_bytes);
  }());
  // The connection went back to the pool after the body was read.
  run_io(ioc, [&]() -> asio::awaitable<void> {
    auto r = co_await client.get(base() + "/small.txt");
    EXPECT_EQ(r.status, 200);
  }());
  EXPECT_EQ(client.stats().connections_opened, 1u);
}

TEST_F(NginxHttp, KeepAliveReusesOneConnection) {
  HttpClient client(ioc.get_executor());
  std::set<std::string> conn_ids;
  run_io(ioc, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 10; ++i) {
      auto r = co_await client.get(base() + "/small.txt");
      EXPECT_EQ(r.status, 200);
      conn_ids.insert(std::string(r.headers.get("X-Connection").value_or("")));
    }
  }());
  EXPECT_EQ(conn_ids.size(), 1u);
  EXPECT_EQ(client.stats().connections_opened, 1u);
  EXPECT_EQ(client.stats().connections_reused, 9u);
  EXPECT_EQ(client.stats().requests_sent, 10u);
}

TEST_F(NginxHttp, ConcurrentRequestsShareAPoolOfTwo) {
  write_pattern_file("medium.bin", 2u << 20);
  HttpClientOptions opt;
  opt.max_connections_per_host = 2;
  HttpClient client(ioc.get_executor(), opt);
  std::set<std::string> conn_ids;
  int done = 0;
  for (int i = 0; i < 12; ++i) {
    asio::co_spawn(
        ioc,
        [&, i]() -> asio::awaitable<void> {
          auto r = co_await client.get(base() + (i % 2 ? "/medium.bin" : "/small.txt"));
          EXPECT_EQ(r.status, 200);
          conn_ids.insert(std::string(r.headers.get("X-Connection").value_or("")));
          ++done;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  ioc.run();
  EXPECT_EQ(done, 12);
  EXPECT_LE(conn_ids.size(), 2u);
  EXPECT_LE(client.stats().connections_opened, 2u);
  EXPECT_EQ(client.stats().requests_sent, 12u);
}

TEST_F(NginxHttp, OneClientOnAMultiThreadedIoContext) {
  write_pattern_file("medium.bin", 2u << 20);
  HttpClientOptions opt;
  opt.max_connections_per_host = 3;
  HttpClient client(ioc.get_executor(), opt);
  std::atomic<int> ok{0};
  constexpr int kRequests = 60;
  for (int i = 0; i < kRequests; ++i) {
    asio::co_spawn(
        ioc,
        [&, i]() -> asio::awaitable<void> {
          auto r = co_await client.get(base() + (i % 3 ? "/small.txt" : "/medium.bin"));
          if (r.status == 200 && r.body.size() == (i % 3 ? 17u : (2u << 20))) ++ok;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
  }
  std::thread t1([&] { ioc.run(); });
  std::thread t2([&] { ioc.run(); });
  t1.join();
  t2.join();
  EXPECT_EQ(ok.load(), kRequests);
  EXPECT_LE(client.stats().connections_opened, 3u);
  EXPECT_EQ(client.stats().requests_sent, static_cast<std::uint64_t>(kRequests));
}

TEST_F(NginxHttp, NotFoundIsAResponseAndThrowsHttpErrorOnRequest) {
  HttpClient client(ioc.get_executor());
  HttpRequest req{"GET", base() + "/no-such-file"};
  req.headers.add("Authorization", "Bearer SECRET-TOKEN-123");
  auto r = run_io(ioc, client.request(req));
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(r.ok());
  try {
    r.throw_if_error();
    FAIL() << "expected HttpError";
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status(), 404);
    EXPECT_EQ(e.url(), base() + "/no-such-file");
    const std::string what = e.what();
    EXPECT_NE(what.find("404"), std::string::npos);
    EXPECT_NE(what.find("Not Found"), std::string::npos);  // body snippet
    EXPECT_EQ(what.find("SECRET"), std::string::npos);
  }
  // The streaming variant reads a snippet and throws too.
  EXPECT_THROW(run_io(ioc,
                      [&]() -> asio::awaitable<void> {
                        auto s = co_await client.open(HttpRequest{"GET", base() + "/status/500"});
                        EXPECT_EQ(s.status(), 500);
                        co_await s.throw_if_error();
                      }()),
               HttpError);
}

TEST_F(NginxHttp, FollowsRedirects) {
  HttpClient client(ioc.get_executor());
  for (const char* path :
       {"/redirect/relative", "/redirect/chain", "/redirect/absolute", "/redirect/see-other"}) {
    auto r = run_io(ioc, client.get(base() + path));
    EXPECT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body, "hello from nginx\n") << path;
    EXPECT_EQ(r.url, base() + "/small.txt") << path;
  }
  // Redirect bodies were drained, so every hop reused the one connection.
  EXPECT_EQ(client.stats().connections_opened, 1u);

  HttpRequest no_follow{"GET", base() + "/redirect/relative"};
  no_follow.follow_redirects = false;
  auto r = run_io(ioc, client.request(no_follow));
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.headers.get("Location").value_or(""), "/small.txt");

  // POST is never redirected.
  auto p = run_io(ioc, client.request(HttpRequest{"POST", base() + "/redirect/relative", {}, "x"}));
  EXPECT_EQ(p.status, 302);
}

TEST_F(NginxHttp, RedirectLoopIsBounded) {
  HttpClientOptions opt;
  opt.max_redirects = 3;
  HttpClient client(ioc.get_executor(), opt);
  try {
    run_io(ioc, client.get(base() + "/redirect/loop"));
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 3 redirects"), std::string::npos) << e.what();
  }
}

TEST_F(NginxHttp, BodyLimitsAreEnforced) {
  write_pattern_file("one-mb.bin", 1u << 20);
  HttpClientOptions opt;
  opt.max_body_bytes = 1000;
  HttpClient client(ioc.get_executor(), opt);
  EXPECT_THROW(run_io(ioc, client.get(base() + "/one-mb.bin")), NetworkError);
  auto all = run_io(ioc, [&]() -> asio::awaitable<SharedBytes> {
    auto s = co_await client.open(HttpRequest{"GET", base() + "/one-mb.bin"});
    co_return co_await s.read_all(1u << 20);
  }());
  EXPECT_EQ(all.size(), 1u << 20);
  try {
    run_io(ioc, [&]() -> asio::awaitable<void> {
      auto s = co_await client.open(HttpRequest{"GET", base() + "/one-mb.bin"});
      co_await s.read_all((1u << 20) - 1);
    }());
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the limit"), std::string::npos) << e.what();
  }
}

TEST_F(NginxHttp, HeadHasNoBodyAndKeepsTheConnection) {
  HttpClient client(ioc.get_executor());
  auto h = run_io(ioc, client.request(HttpRequest{"HEAD", base() + "/small.txt"}));
  EXPECT_EQ(h.status, 200);
  EXPECT_TRUE(h.body.empty());
  EXPECT_EQ(h.headers.get("Content-Length").value_or(""), "17");
  auto r = run_io(ioc, client.get(base() + "/small.txt"));
  EXPECT_EQ(r.body, "hello from nginx\n");
  EXPECT_EQ(client.stats().connections_opened, 1u);
}

TEST_F(NginxHttp, AbandonedStreamClosesItsConnection) {
  write_pattern_file("two-mb.bin", 2u << 20);
  HttpClientOptions opt;
  opt.max_connections_per_host = 1;
  opt.body_chunk_bytes = 64 * 1024;
  HttpClient client(ioc.get_executor(), opt);
  run_io(ioc, [&]() -> asio::awaitable<void> {
    {
      auto s = co_await client.open(HttpRequest{"GET", base() + "/two-mb.bin"});
      auto c = co_await s.next();
      EXPECT_EQ(c.size(), 64u * 1024);
    }  // dropped mid-body: its slot must be freed, or the next request would wait forever
    auto r = co_await client.get(base() + "/small.txt");
    EXPECT_EQ(r.status, 200);
  }());
  EXPECT_EQ(client.stats().connections_opened, 2u);
}

TEST_F(NginxHttp, TlsVerifiesWithTheTestCa) {
  HttpClientOptions opt;
  opt.tls.ca_file = kRun + "/ca.pem";
  HttpClient client(ioc.get_executor(), opt);
  auto r = run_io(ioc, client.get(https_base() + "/small.txt"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello from nginx\n");
  auto again = run_io(ioc, client.get(https_base() + "/small.txt"));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(client.stats().connections_opened, 1u);
}

TEST_F(NginxHttp, TlsFailsWithoutTheCa) {
  HttpClient client(ioc.get_executor());  // system CAs only
  try {
    run_io(ioc, client.get(https_base() + "/small.txt"));
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("TLS handshake"), std::string::npos) << what;
    EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
  }
}

TEST_F(NginxHttp, TlsFailsOnHostNameMismatch) {
  HttpClientOptions opt;
  opt.tls.ca_file = kRun + "/ca.pem";
  HttpClient client(ioc.get_executor(), opt);
  // The certificate names "localhost" only; 127.0.0.1 is the same server.
  std::string url = https_base();
  url.replace(url.find("localhost"), 9, "127.0.0.1");
  try {
    run_io(ioc, client.get(url + "/small.txt"));
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("mismatch"), std::string::npos) << what;
  }
}

TEST_F(NginxHttp, TlsVerificationCanBeDisabledExplicitly) {
  HttpClientOptions opt;
  opt.tls.verify_peer = false;
  HttpClient client(ioc.get_executor(), opt);
  auto r = run_io(ioc, client.get(https_base() + "/small.txt"));
  EXPECT_EQ(r.status, 200);
}

TEST_F(NginxHttp, LargeBodyOverTls) {
  constexpr std::size_t kSize = 8u << 20;
  const std::uint64_t want = write_pattern_file("tls-large.bin", kSize);
  HttpClientOptions opt;
  opt.tls.ca_file = kRun + "/ca.pem";
  HttpClient client(ioc.get_executor(), opt);
  auto all = run_io(ioc, [&]() -> asio::awaitable<SharedBytes> {
    auto s = co_await client.open(HttpRequest{"GET", https_base() + "/tls-large.bin"});
    co_return co_await s.read_all(kSize);
  }());
  ASSERT_EQ(all.size(), kSize);
  std::uint64_t h = 1469598103934665603ull;
  for (std::byte b : all.span()) h = (h ^ static_cast<unsigned char>(b)) * 1099511628211ull;
  EXPECT_EQ(h, want);
}

TEST_F(NginxHttp, ConnectionRefusedNamesTheUrl) {
  HttpClient client(ioc.get_executor());
  // The fixture's TLS port speaks TLS; plain HTTP to it gets a 400, which is
  // a response. A closed port is needed for a transport error: pick the http
  // port of a stopped server by binding and releasing one.
  asio::ip::tcp::acceptor a(ioc, {asio::ip::address_v4::loopback(), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/x";
  try {
    run_io(ioc, client.get(url));
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(url), std::string::npos) << what;
    EXPECT_NE(what.find("connect"), std::string::npos) << what;
  }
}

}  // namespace

#include "atdata/dataset/shard_opener.hpp"
#include "atdata/net/http_byte_source.hpp"

namespace {

TEST_F(NginxHttp, ShardSourceStreamsALargeFile) {
  constexpr std::size_t kSize = 24u << 20;
  const std::uint64_t want = write_pattern_file("shard-000000.tar", kSize);
  // The dataset layer's default opener, through one client for both shards.
  auto client = std::make_shared<HttpClient>(ioc.get_executor());
  auto src = open_shard(ShardContext(base() + "/shard-000000.tar", ioc.get_executor(), client));
  auto sum = run_io(ioc, [&]() -> asio::awaitable<std::uint64_t> {
    std::uint64_t h = 1469598103934665603ull, total = 0;
    for (;;) {
      SharedBytes c = co_await src->next_chunk();
      if (c.empty()) break;
      total += c.size();
      for (std::byte b : c.span()) h = (h ^ static_cast<unsigned char>(b)) * 1099511628211ull;
    }
    EXPECT_EQ(total, kSize);
    co_return h;
  }());
  EXPECT_EQ(sum, want);
  EXPECT_EQ(src->size_hint().value_or(0), kSize);
  EXPECT_THROW(
      run_io(ioc,
             open_shard(ShardContext(base() + "/missing.tar", ioc.get_executor(), client))->next_chunk()),
      HttpError);
  EXPECT_EQ(client->stats().connections_opened, 1u);
}

}  // namespace
