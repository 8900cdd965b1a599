#include <gtest/gtest.h>

#include "atdata/error.hpp"
#include "atdata/net/http_message.hpp"
#include "atdata/net/url.hpp"

using namespace atdata;
using namespace atdata::net;

TEST(HttpUrl, ParsesSchemesHostsPortsAndTargets) {
  auto u = HttpUrl::parse("https://Example.COM/xrpc/com.atproto.sync.getBlob?did=did:plc:abc&cid=bafk#frag");
  EXPECT_EQ(u.scheme, "https");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.target, "/xrpc/com.atproto.sync.getBlob?did=did:plc:abc&cid=bafk");
  EXPECT_TRUE(u.tls());
  EXPECT_EQ(u.host_header(), "example.com");
  EXPECT_EQ(u.origin(), "https://example.com:443");

  auto p = HttpUrl::parse("http://127.0.0.1:8080");
  EXPECT_EQ(p.port, 8080);
  EXPECT_EQ(p.target, "/");
  EXPECT_TRUE(p.host_is_ip);
  EXPECT_EQ(p.host_header(), "127.0.0.1:8080");

  auto v6 = HttpUrl::parse("http://[::1]:9/a");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.host_header(), "[::1]:9");
}

TEST(HttpUrl, RejectsWhatItCannotServe) {
  EXPECT_THROW(HttpUrl::parse("ftp://x/y"), InvalidArgument);
  EXPECT_THROW(HttpUrl::parse("/relative/path"), InvalidArgument);
  EXPECT_THROW(HttpUrl::parse("http:///nohost"), InvalidArgument);
  EXPECT_THROW(HttpUrl::parse("http://user:pw@host/"), InvalidArgument);
  EXPECT_THROW(HttpUrl::parse("http://host:99999/"), InvalidArgument);
  EXPECT_THROW(HttpUrl::parse("http://host/a b"), InvalidArgument);
}

TEST(HttpUrl, ResolvesRedirectLocations) {
  EXPECT_EQ(resolve_url("http://h:1/a/b?x", "/c"), "http://h:1/c");
  EXPECT_EQ(resolve_url("http://h:1/a/b", "c?d=1"), "http://h:1/a/c?d=1");
  EXPECT_EQ(resolve_url("http://h:1/a/b", "https://o/p"), "https://o/p");
  EXPECT_EQ(resolve_url("https://h/a", "//other/x"), "https://other/x");
}

TEST(HttpHeaders, CaseInsensitiveLookupAndSet) {
  HttpHeaders h{{"Content-Type", "a"}, {"X-A", "1"}};
  EXPECT_EQ(h.get("content-type").value_or(""), "a");
  h.set("CONTENT-TYPE", "b");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get("Content-Type").value_or(""), "b");
  h.erase("x-a");
  EXPECT_FALSE(h.contains("X-A"));
}

TEST(HttpResponse, ThrowIfErrorCarriesStatusUrlAndSnippet) {
  HttpResponse r{503, {}, std::string("overloaded\n\x01 now") + std::string(500, 'x'), "http://h/p"};
  try {
    r.throw_if_error();
    FAIL();
  } catch (const HttpError& e) {
    EXPECT_EQ(e.status(), 503);
    EXPECT_EQ(e.url(), "http://h/p");
    const std::string what = e.what();
    EXPECT_NE(what.find("overloaded ? now"), std::string::npos) << what;
    EXPECT_LT(what.size(), 300u);
  }
  HttpResponse ok{204, {}, "", "http://h/p"};
  EXPECT_NO_THROW(ok.throw_if_error());
}
