#include "atdata/atproto/syntax.hpp"

#include <gtest/gtest.h>

#include <string>

namespace atdata::atproto {
namespace {

TEST(Syntax, Nsid) {
  for (auto s : {"com.atproto.repo.createRecord", "ac.foundation.dataset.record", "a.b.c",
                 "com.example.fooBar2", "net.users.bob.ping", "a-0.b-1.c"}) {
    EXPECT_TRUE(is_valid_nsid(s)) << s;
  }
  for (auto s :
       {"", "com.example", "com.example.3", "com..example.x", "com.example.foo-bar", ".com.example.x",
        "com.example.x.", "-com.example.x", "com.exa mple.x", "com.example.x/../y"}) {
    EXPECT_FALSE(is_valid_nsid(s)) << s;
  }
  EXPECT_FALSE(is_valid_nsid("a.b." + std::string(400, 'c')));
}

TEST(Syntax, Did) {
  for (auto s : {"did:plc:z72i7hdynmk6r22z27h6tvur", "did:web:example.com", "did:web:localhost%3A2583",
                 "did:method:val:two", "did:m:a_b.c-d"}) {
    EXPECT_TRUE(is_valid_did(s)) << s;
  }
  for (auto s : {"", "did:", "did:plc", "did:plc:", "did:PLC:abc", "did::abc", "did:plc:abc:", "did:plc:ab%",
                 "did:plc:a/b", "did:plc:a?b", "DID:plc:abc", "did:plc:a b"}) {
    EXPECT_FALSE(is_valid_did(s)) << s;
  }
}

TEST(Syntax, Handle) {
  for (auto s : {"alice.test", "bsky.social", "a.b.c.d", "xn--ls8h.test", "4chan.org"}) {
    EXPECT_TRUE(is_valid_handle(s)) << s;
  }
  for (auto s : {"", "alice", "alice.", ".alice.test", "al_ice.test", "-a.test", "a-.test", "alice.123",
                 "a..test", "alice.test/x"}) {
    EXPECT_FALSE(is_valid_handle(s)) << s;
  }
}

TEST(Syntax, Rkey) {
  for (auto s : {"3lc2q7xyzab2k", "self", "a:b", "a~b.c_d-e"}) EXPECT_TRUE(is_valid_rkey(s)) << s;
  for (auto s : {"", ".", "..", "a/b", "a b", "a?b", "a#b"}) EXPECT_FALSE(is_valid_rkey(s)) << s;
  EXPECT_FALSE(is_valid_rkey(std::string(513, 'a')));
}

}  // namespace
}  // namespace atdata::atproto
