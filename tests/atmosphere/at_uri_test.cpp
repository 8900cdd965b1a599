#include "atdata/atmosphere/at_uri.hpp"

#include <gtest/gtest.h>

#include "atdata/error.hpp"

namespace {

using atdata::atmosphere::AtUri;

TEST(AtUri, ParsesDidAuthority) {
  auto u = AtUri::parse("at://did:plc:abc123/com.example.record/key456");
  EXPECT_EQ(u.authority, "did:plc:abc123");
  EXPECT_EQ(u.collection, "com.example.record");
  EXPECT_EQ(u.rkey, "key456");
}

TEST(AtUri, ParsesHandleAuthorityAndAtdataCollection) {
  auto u = AtUri::parse("at://alice.bsky.social/app.bsky.feed.post/abc123");
  EXPECT_EQ(u.authority, "alice.bsky.social");
  auto s = AtUri::parse("at://did:plc:test123/ac.foundation.dataset.sampleSchema/xyz789");
  EXPECT_EQ(s.collection, "ac.foundation.dataset.sampleSchema");
}

TEST(AtUri, SlashesAfterCollectionBelongToRkey) {
  auto u = AtUri::parse("at://did:plc:abc/collection/path/to/key");
  EXPECT_EQ(u.collection, "collection");
  EXPECT_EQ(u.rkey, "path/to/key");
  EXPECT_EQ(u.str(), "at://did:plc:abc/collection/path/to/key");
}

TEST(AtUri, EmptyComponentsAreAccepted) {
  auto u = AtUri::parse("at://a/b/");
  EXPECT_EQ(u.authority, "a");
  EXPECT_EQ(u.collection, "b");
  EXPECT_EQ(u.rkey, "");
  EXPECT_EQ(AtUri::parse("at:////").str(), "at:////");
}

TEST(AtUri, FormatRoundTrips) {
  const std::string s = "at://did:plc:test123/ac.foundation.dataset.sampleSchema/xyz789";
  EXPECT_EQ(AtUri::parse(s).str(), s);
  AtUri u{"did:plc:x", "ac.foundation.dataset.record", "3lc2q7xyzab2k"};
  EXPECT_EQ(AtUri::parse(u.str()), u);
}

TEST(AtUri, RejectsMissingScheme) {
  for (const char* bad : {"https://example.com/path", "not-a-uri", "not-valid", "AT://a/b/c", ""}) {
    try {
      AtUri::parse(bad);
      FAIL() << bad;
    } catch (const atdata::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("must start with 'at://'"), std::string::npos) << e.what();
    }
  }
}

TEST(AtUri, RejectsMissingParts) {
  for (const char* bad : {"at://did:plc:abc/collection", "at://did:plc:abc", "at://"}) {
    try {
      AtUri::parse(bad);
      FAIL() << bad;
    } catch (const atdata::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find("expected authority/collection/rkey"), std::string::npos)
          << e.what();
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

}  // namespace
