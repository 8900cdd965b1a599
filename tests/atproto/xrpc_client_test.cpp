// XrpcClient's retry and error policy against a scripted loopback server
// (the real PDS runs with rate limits off, so 429/503 are produced here).

#include "atdata/atproto/xrpc_client.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/json/value.hpp>

#include <deque>

#include "atdata/error.hpp"
#include "net/mock_server.hpp"
#include "support/net_run.hpp"

namespace atdata::atproto {
namespace {

using test::run_io;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

using test::kReset;

std::string response(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra + "\r\n" + body;
}

using Scripted = test::ScriptedServer;

XrpcOptions fast() {
  XrpcOptions o;
  o.backoff_base = std::chrono::milliseconds(1);
  o.backoff_cap = std::chrono::milliseconds(5);
  return o;
}

struct XrpcClientMock : ::testing::Test {
  asio::io_context io;
  std::shared_ptr<net::HttpClient> http = std::make_shared<net::HttpClient>(io.get_executor());
};

TEST_F(XrpcClientMock, QueryEncodesParamsAndSendsBearer) {
  Scripted s(io, {response(200, R"({"did":"did:plc:x"})")});
  XrpcClient x(http, s.base() + "/xrpc/", fast());
  XrpcCall call;
  call.bearer = "tok123";
  auto v = run_io(io, x.query("com.atproto.identity.resolveHandle", {{"handle", "a b&c.test"}}, call));
  EXPECT_EQ(v.at("did").as_string(), "did:plc:x");
  ASSERT_EQ(s.seen.size(), 1u);
  EXPECT_EQ(
      s.seen[0].head.rfind("GET /xrpc/com.atproto.identity.resolveHandle?handle=a%20b%26c.test HTTP/1.1", 0),
      0u)
      << s.seen[0].head;
  EXPECT_NE(s.seen[0].head.find("Authorization: Bearer tok123"), std::string::npos);
  EXPECT_THROW(x.url("not/an.nsid"), InvalidArgument);
}

TEST_F(XrpcClientMock, RateLimitedCallIsRetriedAfterRetryAfter) {
  Scripted s(io,
             {response(429, R"({"error":"RateLimitExceeded","message":"slow down"})", "Retry-After: 0\r\n"),
              response(200, R"({"ok":true})",
                       "RateLimit-Limit: 3000\r\nRateLimit-Remaining: 2998\r\nRateLimit-Reset: 1900000000\r\n"
                       "RateLimit-Policy: 3000;w=300\r\n")});
  XrpcClient x(http, s.base(), fast());
  // A procedure: 429 means the server did nothing, so even POST is retried.
  auto v = run_io(io, x.procedure("com.atproto.repo.createRecord", boost::json::object{{"a", 1}}));
  EXPECT_TRUE(v.at("ok").as_bool());
  EXPECT_EQ(s.seen.size(), 2u);
  EXPECT_EQ(s.seen[1].body, R"({"a":1})");
  auto rl = x.rate_limit();
  EXPECT_EQ(rl.limit, 3000);
  EXPECT_EQ(rl.remaining, 2998);
  EXPECT_EQ(rl.policy, "3000;w=300");
  ASSERT_TRUE(rl.reset);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*rl.reset), 1900000000);
}

TEST_F(XrpcClientMock, TooLongAWaitIsThrownNotSlept) {
  auto reset = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() +
      3600);
  Scripted s(
      io, {response(429, R"({"error":"RateLimitExceeded","message":"Rate Limit Exceeded"})",
                    "RateLimit-Limit: 30\r\nRateLimit-Remaining: 0\r\nRateLimit-Reset: " + reset + "\r\n")});
  XrpcClient x(http, s.base(), fast());
  try {
    run_io(io, x.query("com.atproto.server.getSession"));
    FAIL();
  } catch (const XrpcError& e) {
    EXPECT_EQ(e.status(), 429);
    EXPECT_EQ(e.error(), "RateLimitExceeded");
    EXPECT_EQ(e.message(), "Rate Limit Exceeded");
  }
  EXPECT_EQ(s.seen.size(), 1u);
  EXPECT_EQ(x.rate_limit().remaining, 0);
}

TEST_F(XrpcClientMock, RetriesAreBounded) {
  std::deque<std::string> script;
  for (int i = 0; i < 10; ++i) script.push_back(response(503, "", "Retry-After: 0\r\n"));
  Scripted s(io, script);
  auto o = fast();
  o.max_rate_limit_retries = 2;
  XrpcClient x(http, s.base(), o);
  try {
    run_io(io, x.query("a.b.c"));
    FAIL();
  } catch (const XrpcError& e) {
    EXPECT_EQ(e.status(), 503);
    EXPECT_EQ(e.error(), "NotEnoughResources");
  }
  EXPECT_EQ(s.seen.size(), 3u);
}

TEST_F(XrpcClientMock, TransportFailuresRetriedOnlyWhenIdempotent) {
  {
    Scripted s(io, {kReset, response(200, R"({"n":1})")});
    XrpcClient x(http, s.base(), fast());
    auto v = run_io(io, x.query("a.b.c"));
    EXPECT_EQ(v.at("n").as_int64(), 1);
    EXPECT_EQ(s.seen.size(), 2u);
  }
  {
    Scripted s(io, {kReset, response(200, R"({"n":1})")});
    XrpcClient x(http, s.base(), fast());
    EXPECT_THROW(run_io(io, x.procedure("a.b.c", boost::json::object{})), NetworkError);
    EXPECT_EQ(s.seen.size(), 1u);
    // …unless the caller declares it idempotent.
    XrpcCall call;
    call.idempotent = true;
    auto v = run_io(io, x.procedure("a.b.c", boost::json::object{}, call));
    EXPECT_EQ(v.at("n").as_int64(), 1);
  }
  {
    Scripted s(io, {response(502, "<html>bad gateway</html>"), response(200, "{}")});
    XrpcClient x(http, s.base(), fast());
    EXPECT_TRUE(run_io(io, x.query("a.b.c")).is_object());
    EXPECT_EQ(s.seen.size(), 2u);
  }
  {
    Scripted s(io, {response(502, "<html>bad gateway</html>"), response(200, "{}")});
    XrpcClient x(http, s.base(), fast());
    try {
      run_io(io, x.procedure_empty("a.b.c"));
      FAIL();
    } catch (const XrpcError& e) {
      EXPECT_EQ(e.error(), "UpstreamFailure");
      EXPECT_EQ(e.message(), "<html>bad gateway</html>");
    }
    EXPECT_EQ(s.seen.size(), 1u);
  }
}

TEST_F(XrpcClientMock, ErrorsKeepTheServersWordsAndBodiesAreChecked) {
  Scripted s(io, {response(400, R"({"error":"InvalidSwap","message":"Record was at bafy..."})"),
                  response(200, "not json"), response(200, "")});
  XrpcClient x(http, s.base(), fast());
  try {
    run_io(io, x.procedure_json("com.atproto.repo.putRecord", "{}"));
    FAIL();
  } catch (const XrpcError& e) {
    EXPECT_EQ(e.status(), 400);
    EXPECT_EQ(e.nsid(), "com.atproto.repo.putRecord");
    EXPECT_EQ(e.error(), "InvalidSwap");
    EXPECT_EQ(e.message(), "Record was at bafy...");
  }
  EXPECT_THROW(run_io(io, x.query("a.b.c")), DecodeError);
  EXPECT_TRUE(run_io(io, x.query("a.b.c")).is_null());  // empty 2xx body
}

TEST_F(XrpcClientMock, StreamedQueryRetriesAndMapsErrors) {
  Scripted s(io, {response(503, R"({"error":"NotEnoughResources","message":"busy"})", "Retry-After: 0\r\n"),
                  response(200, "blob-bytes"),
                  response(400, R"({"error":"BlobNotFound","message":"Blob not found"})")});
  XrpcClient x(http, s.base(), fast());
  auto stream = run_io(io, x.query_stream("com.atproto.sync.getBlob", {{"did", "did:plc:x"}, {"cid", "b"}}));
  EXPECT_EQ(run_io(io, stream.read_all(1024)).as_string_view(), "blob-bytes");
  try {
    run_io(io, x.query_stream("com.atproto.sync.getBlob"));
    FAIL();
  } catch (const XrpcError& e) {
    EXPECT_EQ(e.error(), "BlobNotFound");
    EXPECT_EQ(e.message(), "Blob not found");
  }
}

}  // namespace
}  // namespace atdata::atproto
