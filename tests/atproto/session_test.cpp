#include "atdata/atproto/session.hpp"

#include <gtest/gtest.h>

#include "atdata/error.hpp"

namespace atdata::atproto {
namespace {

// header {"typ":"at+jwt","alg":"HS256"}, payload with exp (signature irrelevant).
std::string make_jwt(std::string_view payload_json) {
  return base64url_encode(R"({"typ":"at+jwt","alg":"HS256"})") + "." + base64url_encode(payload_json) +
         ".c2ln";
}

TEST(SessionString, FormatIsTheSdkString) {
  Session s{"alice.test", "did:plc:abc", "acc.x.y", "ref.x.y", "https://pds.example.com"};
  EXPECT_EQ(format_session_string(s),
            "alice.test:::did:plc:abc:::acc.x.y:::ref.x.y:::https://pds.example.com");
  EXPECT_EQ(format_session_string(s, true),
            "alice.test:::did:plc:abc:::acc.x.y:::ref.x.y:::https://pds.example.com/xrpc");
}

TEST(SessionString, ParseCurrentAndLegacy) {
  auto s = parse_session_string("alice.test:::did:plc:abc:::A:::R:::https://pds.example.com/xrpc");
  EXPECT_EQ(s.handle, "alice.test");
  EXPECT_EQ(s.did, "did:plc:abc");
  EXPECT_EQ(s.access_jwt, "A");
  EXPECT_EQ(s.refresh_jwt, "R");
  EXPECT_EQ(s.pds_endpoint, "https://pds.example.com");
  auto legacy = parse_session_string("bob.test:::did:plc:def:::A:::R");
  EXPECT_EQ(legacy.pds_endpoint, "https://bsky.social");
  // round trip
  Session t{"h.test", "did:web:x.example", "a.b.c", "d.e.f", "http://localhost:2583"};
  auto u = parse_session_string(format_session_string(t));
  EXPECT_EQ(u.handle, t.handle);
  EXPECT_EQ(u.did, t.did);
  EXPECT_EQ(u.access_jwt, t.access_jwt);
  EXPECT_EQ(u.refresh_jwt, t.refresh_jwt);
  EXPECT_EQ(u.pds_endpoint, t.pds_endpoint);
}

TEST(SessionString, MalformedNeverEchoesSecrets) {
  const std::string secret = "SECRET-TOKEN-VALUE";
  for (std::string bad :
       {std::string("a:::b:::") + secret, "h:::did:plc:x:::" + secret + ":::r:::e:::extra", std::string(""),
        "h::::::" + secret + ":::r:::e", "h:::notadid:::" + secret + ":::r:::e"}) {
    try {
      parse_session_string(bad);
      FAIL() << "accepted a malformed session string";
    } catch (const AuthError& e) {
      EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("session string"), std::string::npos);
    }
  }
  EXPECT_THROW(parse_session_string(std::string(100, ':')), AuthError);
}

TEST(ServiceUrl, Normalize) {
  EXPECT_EQ(normalize_service_url(""), "https://bsky.social");
  EXPECT_EQ(normalize_service_url("https://x.example/"), "https://x.example");
  EXPECT_EQ(normalize_service_url("https://x.example/xrpc"), "https://x.example");
  EXPECT_EQ(normalize_service_url("https://x.example/xrpc/"), "https://x.example");
  EXPECT_EQ(normalize_service_url("http://127.0.0.1:2583"), "http://127.0.0.1:2583");
}

TEST(Jwt, ExpiryDecoded) {
  EXPECT_EQ(jwt_expiry(make_jwt(R"({"sub":"did:plc:x","exp":1795572667,"iat":1})")), 1795572667);
  // a real token issued by the reference PDS
  EXPECT_EQ(
      jwt_expiry(
          "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJIUzI1NiJ9."
          "eyJzY29wZSI6ImNvbS5hdHByb3RvLmFjY2VzcyIsImF1ZCI6ImRpZDp3ZWI6bG9jYWxob3N0Iiwic3ViIjoiZGlkOnBsYzpo"
          "cDZrZzZxN25yc2h2c3FhbWFnbnhrZGciLCJpYXQiOjE3OTU1NjU0NjcsImV4cCI6MTc5NTU3MjY2N30."
          "KsuXy2ZM0kOPP7SMtfn0XjXsOgGV0S6Znh8DXxE7NfY"),
      1795572667);
}

TEST(Jwt, UnreadableTokensGiveNoExpiry) {
  EXPECT_FALSE(jwt_expiry(""));
  EXPECT_FALSE(jwt_expiry("abc"));
  EXPECT_FALSE(jwt_expiry("a.b"));
  EXPECT_FALSE(jwt_expiry("a.!!!.c"));
  EXPECT_FALSE(jwt_expiry(make_jwt(R"({"sub":"x"})")));
  EXPECT_FALSE(jwt_expiry(make_jwt(R"({"exp":"soon"})")));
  EXPECT_FALSE(jwt_expiry(make_jwt(R"([1,2])")));
  EXPECT_FALSE(jwt_expiry(make_jwt(R"({"exp":1e300})")));
  EXPECT_FALSE(jwt_expiry(make_jwt("not json")));
}

TEST(Base64Url, RoundTripAndPadding) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01"}) {
    EXPECT_EQ(base64url_decode(base64url_encode(s)), s);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("Zm9vYg=="), std::optional<std::string>("foob"));
  EXPECT_FALSE(base64url_decode("Z"));
  EXPECT_FALSE(base64url_decode("Zm9v*"));
}

}  // namespace
}  // namespace atdata::atproto
