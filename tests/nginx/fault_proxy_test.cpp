// HttpClient / HttpByteSource against the nginx fixture through the
// fault-injecting proxy (tools/faultproxy): resets at random offsets, 5xx and
// 429 answers, an origin without Range support, stalls and latency. The
// faults are spelled in each URL (/f/<spec>/<path>); `id=` keeps every test's
// counters apart from other tests and processes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "atdata/error.hpp"
#include "atdata/net/http_byte_source.hpp"
#include "atdata/net/http_client.hpp"
#include "fault_proxy_client.hpp"
#include "support/net_run.hpp"

namespace asio = boost::asio;
using namespace atdata;
using namespace atdata::net;
using atdata::test::ProxyStats;
using atdata::test::read_line;
using atdata::test::run_io;
using ::testing::HasSubstr;

namespace {

const std::string kNginxRun = ATDATA_NGINX_RUN_DIR;

// Deterministic pseudo-random bytes, published by rename so nginx never
// serves a half-written file (test processes run in parallel).
std::string publish_pattern(const std::string& name, std::size_t size) {
  std::string buf(size, '\0');
  std::uint64_t x = 0x2545f4914f6cdd1dull ^ size;
  for (auto& c : buf) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  const std::string final_path = kNginxRun + "/www/" + name;
  const std::string tmp = final_path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream f(tmp, std::ios::binary);
    f.write(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (!f.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, final_path);
  return buf;
}

class FaultProxy : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef ATDATA_FAULTPROXY_RUN_DIR
    proxy_ = read_line(std::string(ATDATA_FAULTPROXY_RUN_DIR) + "/url");
#else
    GTEST_SKIP() << "built without the faultproxy fixture (python3 not found)";
#endif
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    name_ = std::string("fp-") + info->name();
    id_ = name_ + "-" + std::to_string(::getpid()) + "-" +
          std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  }

  // The fault spec for this test: its own counter key, then the faults.
  std::string spec(const std::string& faults) const {
    return "id=" + id_ + (faults.empty() ? "" : "," + faults);
  }
  std::string url(const std::string& spec, const std::string& file) const {
    return proxy_ + "/f/" + spec + "/" + file;
  }

  ProxyStats stats(const std::string& spec, const std::string& file) {
    return atdata::test::proxy_stats(proxy_, spec, file);
  }

  // Every byte of the source, or the exception it throws.
  std::string read_all(ByteSource& src) {
    return run_io(ioc, [&]() -> asio::awaitable<std::string> {
      std::string out;
      for (;;) {
        SharedBytes c = co_await src.next_chunk();
        if (c.empty()) break;
        out.append(reinterpret_cast<const char*>(c.span().data()), c.size());
      }
      co_return out;
    }());
  }

  asio::io_context ioc;
  std::string proxy_;
  std::string name_;  // this test's file in the nginx docroot
  std::string id_;
};

// Bodies reset at three pseudo-random offsets are completed by three ranged
// resumes, and the bytes are exactly the file's.
TEST_F(FaultProxy, ResetsAtRandomOffsetsAreResumedWithRanges) {
  const std::string file = name_ + ".bin";
  const std::string want = publish_pattern(file, 6u << 20);
  for (int seed : {1, 77}) {
    const std::string s = spec("reset=rand" + std::to_string(seed) + ",resets=3");
    auto client = std::make_shared<HttpClient>(ioc.get_executor());
    HttpSourceOptions so;
    so.resume_backoff = std::chrono::milliseconds(1);
    HttpByteSource src(client, url(s, file), so);
    const std::string got = read_all(src);
    ASSERT_EQ(got.size(), want.size()) << "seed " << seed;
    EXPECT_TRUE(got == want) << "seed " << seed << ": resumed body differs from the file";
    EXPECT_EQ(src.resumes(), 3);
    const ProxyStats st = stats(s, file);
    EXPECT_EQ(st.resets, 3);
    EXPECT_EQ(st.requests, 4);
    EXPECT_EQ(st.ranged, 3);  // every resume asked for a range
  }
}

// An injected 503/500/429 is an HttpError with that status from the first
// next_chunk(); HttpByteSource itself does not retry, so the proxy sees one
// request per source. Once the injected answers are used up, the file flows.
TEST_F(FaultProxy, InjectedStatusesAreHttpErrorsWithoutRetry) {
  const std::string file = name_ + ".bin";
  const std::string want = publish_pattern(file, 100'000);
  for (int code : {503, 500, 429}) {
    const std::string s = spec("status=" + std::to_string(code) + "x2");
    auto client = std::make_shared<HttpClient>(ioc.get_executor());
    for (int attempt = 1; attempt <= 2; ++attempt) {
      HttpByteSource src(client, url(s, file));
      try {
        (void)read_all(src);
        ADD_FAILURE() << "expected HttpError " << code << " on attempt " << attempt;
      } catch (const HttpError& e) {
        EXPECT_EQ(e.status(), code);
        EXPECT_EQ(e.url(), url(s, file));
      }
      EXPECT_EQ(stats(s, file).requests, attempt);
    }
    HttpByteSource third(client, url(s, file));
    EXPECT_TRUE(read_all(third) == want);
    const ProxyStats st = stats(s, file);
    EXPECT_EQ(st.requests, 3);
    EXPECT_EQ(st.statuses, 2);
  }
  // 429 and 503 tell the client when to come back.
  HttpClient c(ioc.get_executor());
  auto r = run_io(ioc, c.get(url(spec("status=429"), file)));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.get("Retry-After").value_or(""), "0");
}

// The origin ignores ranges (norange): the resume gets 200 with the whole
// body, which cannot be spliced onto the bytes already delivered.
TEST_F(FaultProxy, ResumeAgainstAServerWithoutRangesFails) {
  const std::string file = name_ + ".bin";
  publish_pattern(file, 1u << 20);
  const std::string s = spec("norange,reset=rand5");
  auto client = std::make_shared<HttpClient>(ioc.get_executor());
  HttpSourceOptions so;
  so.resume_backoff = std::chrono::milliseconds(1);
  HttpByteSource src(client, url(s, file), so);
  try {
    (void)read_all(src);
    FAIL() << "expected NetworkError";
  } catch (const HttpError& e) {
    FAIL() << "expected a NetworkError that is not an HttpError: " << e.what();
  } catch (const NetworkError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot resume at byte "));
    EXPECT_THAT(e.what(), HasSubstr("server answered 200 instead of 206"));
  }
  EXPECT_EQ(src.resumes(), 1);
  const ProxyStats st = stats(s, file);
  EXPECT_EQ(st.requests, 2);
  EXPECT_EQ(st.ranged, 1);  // the client asked; the proxy dropped the header
}

// Without a validator (noetag) a reset body is never resumed.
TEST_F(FaultProxy, ResetWithoutValidatorIsNotResumed) {
  const std::string file = name_ + ".bin";
  publish_pattern(file, 1u << 20);
  const std::string s = spec("noetag,reset=300000");
  auto client = std::make_shared<HttpClient>(ioc.get_executor());
  HttpByteSource src(client, url(s, file));
  try {
    (void)read_all(src);
    FAIL() << "expected NetworkError";
  } catch (const NetworkError& e) {
    EXPECT_THAT(e.what(), HasSubstr("body interrupted at byte 300000 of 1048576"));
  }
  EXPECT_EQ(src.resumes(), 0);
  EXPECT_EQ(stats(s, file).requests, 1);
}

// A stalled body hits read_body_idle_timeout: a NetworkError at the exact
// offset within bounded time, never a hang. With a resume allowed, the same
// stall is recovered from.
TEST_F(FaultProxy, StalledBodyTimesOutInsteadOfHanging) {
  const std::string file = name_ + ".bin";
  const std::string want = publish_pattern(file, 2u << 20);
  HttpClientOptions co;
  co.read_body_idle_timeout = std::chrono::milliseconds(300);
  {
    const std::string s = spec("stall=100000");
    auto client = std::make_shared<HttpClient>(ioc.get_executor(), co);
    HttpSourceOptions so;
    so.max_resume_attempts = 0;
    HttpByteSource src(client, url(s, file), so);
    const auto t0 = std::chrono::steady_clock::now();
    try {
      (void)read_all(src);
      FAIL() << "expected NetworkError";
    } catch (const NetworkError& e) {
      EXPECT_THAT(e.what(), HasSubstr("body interrupted at byte 100000 of 2097152"));
      EXPECT_THAT(e.what(), HasSubstr("stalled at byte 100000 (no data for 300 ms)"));
    }
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(took, std::chrono::milliseconds(300));
    EXPECT_LT(took, std::chrono::seconds(10));
    EXPECT_EQ(stats(s, file).stalls, 1);
  }
  {
    const std::string s = spec("stall=rand9");
    auto client = std::make_shared<HttpClient>(ioc.get_executor(), co);
    HttpSourceOptions so;
    so.max_resume_attempts = 1;
    so.resume_backoff = std::chrono::milliseconds(1);
    HttpByteSource src(client, url(s, file), so);
    EXPECT_TRUE(read_all(src) == want);
    EXPECT_EQ(src.resumes(), 1);
    EXPECT_EQ(stats(s, file).ranged, 1);
  }
}

// delay=50 holds every response header back by 50 ms, on a kept-alive
// connection too.
TEST_F(FaultProxy, DelayHoldsEveryResponseBack) {
  const std::string file = name_ + ".bin";
  const std::string want = publish_pattern(file, 1000);
  const std::string s = spec("delay=50");
  HttpClient client(ioc.get_executor());
  for (int i = 0; i < 2; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run_io(ioc, client.get(url(s, file)));
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == want);
    EXPECT_GE(took, std::chrono::milliseconds(50)) << "request " << i;
  }
  EXPECT_EQ(client.stats().connections_opened, 1u);
  EXPECT_EQ(stats(s, file).requests, 2);
}

// Requests outside /f/ pass untouched, keeping the origin's range support.
TEST_F(FaultProxy, PlainPathsAreForwardedUntouched) {
  const std::string file = name_ + ".bin";
  const std::string want = publish_pattern(file, 5000);
  HttpClient client(ioc.get_executor());
  HttpHeaders h;
  h.set("Range", "bytes=1000-");
  auto r = run_io(ioc, client.get(proxy_ + "/" + file, h));
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.headers.get("Content-Range").value_or(""), "bytes 1000-4999/5000");
  EXPECT_TRUE(r.headers.contains("ETag"));
  EXPECT_TRUE(r.body == want.substr(1000));
}

}  // namespace
