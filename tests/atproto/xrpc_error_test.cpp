#include "atdata/atproto/xrpc_error.hpp"

#include <gtest/gtest.h>

namespace atdata::atproto {
namespace {

TEST(XrpcErrorMapping, ServerJsonIsKept) {
  auto e = make_xrpc_error(400, "com.atproto.repo.getRecord",
                           R"({"error":"RecordNotFound","message":"Could not locate record: at://x/y/z"})");
  EXPECT_EQ(e.status(), 400);
  EXPECT_EQ(e.nsid(), "com.atproto.repo.getRecord");
  EXPECT_EQ(e.error(), "RecordNotFound");
  EXPECT_EQ(e.message(), "Could not locate record: at://x/y/z");
  EXPECT_EQ(std::string(e.what()),
            "com.atproto.repo.getRecord: 400 RecordNotFound: Could not locate record: at://x/y/z");
}

TEST(XrpcErrorMapping, MissingNameFallsBackToStatusName) {
  auto e = make_xrpc_error(401, "n.s.id", R"({"message":"no token"})");
  EXPECT_EQ(e.error(), "AuthenticationRequired");
  EXPECT_EQ(e.message(), "no token");
  EXPECT_EQ(make_xrpc_error(429, "a.b.c", "").error(), "RateLimitExceeded");
  EXPECT_EQ(make_xrpc_error(502, "a.b.c", "").error(), "UpstreamFailure");
  EXPECT_EQ(make_xrpc_error(599, "a.b.c", "").error(), "InternalServerError");
  EXPECT_EQ(make_xrpc_error(418, "a.b.c", "").error(), "Unknown");
}

TEST(XrpcErrorMapping, NonJsonBodyBecomesPrintableExcerpt) {
  std::string html = "<html>\n<body>Bad Gateway\x01\xff</body></html>" + std::string(500, 'x');
  auto e = make_xrpc_error(502, "a.b.c", html);
  EXPECT_EQ(e.error(), "UpstreamFailure");
  EXPECT_LE(e.message().size(), 203u);
  for (char c : e.message())
    EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f);
  EXPECT_EQ(e.message().substr(0, 13), "<html> <body>");
}

TEST(XrpcErrorMapping, WrongTypesIgnored) {
  auto e = make_xrpc_error(400, "a.b.c", R"({"error":42,"message":["x"]})");
  EXPECT_EQ(e.error(), "InvalidRequest");
  EXPECT_EQ(e.message(), "");
  auto big = make_xrpc_error(400, "a.b.c", R"({"error":"X","message":")" + std::string(10000, 'm') + "\"}");
  EXPECT_LE(big.message().size(), 2003u);
}

}  // namespace
}  // namespace atdata::atproto
