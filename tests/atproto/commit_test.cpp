#include "atdata/atproto/commit.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/syntax.hpp"
#include "atdata/error.hpp"
#include "crypto_test_util.hpp"

namespace atdata::atproto {
namespace {

using test::fixture_commits;
using test::TestSigner;

using test::fixture_keys;

template <class F>
void expect_verify_error(F&& f, VerifyError::Check check, std::string_view subject) {
  try {
    f();
    ADD_FAILURE() << "no VerifyError (expected one about '" << subject << "')";
  } catch (const VerifyError& e) {
    EXPECT_EQ(e.check(), check) << e.what();
    EXPECT_EQ(e.subject(), subject) << e.what();
  }
}

// A commit map: the fields of `base` with `changes` applied (a null
// DagCborValue with key in `remove` drops the field).
std::vector<std::byte> edited(const DagCborValue& base, const std::map<std::string, DagCborValue>& changes,
                              const std::vector<std::string>& remove = {}) {
  std::vector<std::string_view> keys;
  std::vector<DagCborValue> values;
  for (std::size_t i = 0; i < base.keys().size(); ++i) {
    const std::string k(base.keys()[i]);
    if (std::find(remove.begin(), remove.end(), k) != remove.end() || changes.count(k)) continue;
    keys.push_back(base.keys()[i]);
    values.push_back(base.items()[i]);
  }
  for (const auto& [k, v] : changes) {
    keys.push_back(k);
    values.push_back(v);
  }
  return dag_cbor_encode(DagCborValue::make_map(keys, values));
}

TEST(Commit, EveryFixtureCommitDecodesAndVerifies) {
  const auto keys = fixture_keys();
  ASSERT_EQ(keys.size(), 2U);
  const auto commits = fixture_commits();
  int commit_frames = 0, sync_frames = 0;
  for (const auto& fc : commits) {
    SCOPED_TRACE(fc.name);
    const Commit c = decode_commit(fc.block);
    EXPECT_EQ(c.did, fc.repo);
    EXPECT_EQ(c.version, 3);
    EXPECT_TRUE(is_valid_tid(c.rev));
    EXPECT_TRUE(c.has_prev);
    EXPECT_FALSE(c.prev.has_value());
    EXPECT_EQ(c.sig.size(), 64U);
    EXPECT_TRUE(parse_binary_cid_v1_sha256(c.data).has_value());
    // Zero-copy: the views point into the block.
    EXPECT_GE(c.did.data(), reinterpret_cast<const char*>(fc.block.data()));
    EXPECT_GE(c.sig.data(), fc.block.data());
    EXPECT_LE(c.sig.data() + 64, fc.block.data() + fc.block.size());

    // The unsigned bytes are the canonical encoding of the map without sig.
    const auto map = dag_cbor_decode(fc.block);
    const auto reencoded = edited(map, {}, {"sig"});
    EXPECT_EQ(c.unsigned_bytes(), reencoded);
    EXPECT_EQ(c.unsigned_digest(), sha256(reencoded));

    const auto& key = keys.at(fc.repo);
    EXPECT_NO_THROW(verify_commit_signature(c, key));
    EXPECT_TRUE(key.verify(c.unsigned_bytes(), c.sig));
    EXPECT_NO_THROW(check_commit_did(c, fc.repo));

    // The other account's key does not verify it.
    for (const auto& entry : keys) {
      const std::string& did = entry.first;
      const PublicKey& other = entry.second;
      if (did == fc.repo) continue;
      expect_verify_error([&] { verify_commit_signature(c, other); }, VerifyError::Check::signature, fc.repo);
      expect_verify_error([&] { check_commit_did(c, did); }, VerifyError::Check::commit, "did");
    }

    // A flipped bit in the signature, in the signed fields, or the high-S
    // twin of the signature: rejected.
    for (std::size_t bit : {0UL, 9UL, 255UL, 256UL, 300UL, 511UL}) {
      auto block = fc.block;
      const auto sig_at = static_cast<std::size_t>(c.sig.data() - fc.block.data());
      block[sig_at + bit / 8] ^= std::byte{static_cast<unsigned char>(1U << (bit % 8))};
      const Commit flipped = decode_commit(block);
      expect_verify_error([&] { verify_commit_signature(flipped, key); }, VerifyError::Check::signature,
                          fc.repo);
    }
    {
      auto block = fc.block;
      const auto rev_at =
          static_cast<std::size_t>(c.rev.data() - reinterpret_cast<const char*>(fc.block.data()));
      block[rev_at + 12] = block[rev_at + 12] == std::byte{'2'} ? std::byte{'3'} : std::byte{'2'};
      const Commit changed = decode_commit(block);
      expect_verify_error([&] { verify_commit_signature(changed, key); }, VerifyError::Check::signature,
                          fc.repo);
    }
    {
      const auto twin = test::high_s_twin(Curve::secp256k1, c.sig);
      EXPECT_TRUE(key.verify(c.unsigned_bytes(), c.sig));
      EXPECT_FALSE(key.verify(c.unsigned_bytes(), twin));
      const auto block = edited(map, {{"sig", DagCborValue::make_bytes(twin)}});
      const Commit high = decode_commit(block);
      try {
        verify_commit_signature(high, key);
        ADD_FAILURE() << "high-S accepted";
      } catch (const VerifyError& e) {
        EXPECT_EQ(e.check(), VerifyError::Check::signature);
        EXPECT_NE(std::string(e.what()).find("high-S"), std::string::npos) << e.what();
      }
    }
    (fc.type == "#commit" ? commit_frames : sync_frames)++;
  }
  EXPECT_EQ(commit_frames, 17);
  EXPECT_EQ(sync_frames, 2);
}

TEST(Commit, MalformedCommitObjects) {
  const auto fc = fixture_commits().at(0);
  const auto map = dag_cbor_decode(fc.block);
  ASSERT_NO_THROW(decode_commit(edited(map, {})));
  const auto commit_error = [&](const std::vector<std::byte>& block, std::string_view field) {
    expect_verify_error([&] { decode_commit(block); }, VerifyError::Check::commit, field);
  };
  const auto data = map.find("data")->as_link();
  commit_error(edited(map, {{"version", DagCborValue::make_int(2)}}), "version");
  commit_error(edited(map, {{"version", DagCborValue::make_int(4)}}), "version");
  commit_error(edited(map, {{"version", DagCborValue::make_text("3")}}), "version");
  commit_error(edited(map, {}, {"version"}), "version");
  commit_error(edited(map, {}, {"data"}), "data");
  commit_error(edited(map, {{"data", DagCborValue::make_bytes(data)}}), "data");
  commit_error(edited(map, {}, {"did"}), "did");
  commit_error(edited(map, {{"did", DagCborValue::make_text("not a did")}}), "did");
  commit_error(edited(map, {{"did", DagCborValue::make_int(1)}}), "did");
  commit_error(edited(map, {}, {"rev"}), "rev");
  commit_error(edited(map, {{"rev", DagCborValue::make_text("not-a-tid")}}), "rev");
  commit_error(edited(map, {{"rev", DagCborValue::make_text("3N33QOUUT5K2S")}}), "rev");
  commit_error(edited(map, {{"rev", DagCborValue::make_text("kn33qouut5k2s")}}), "rev");  // top bit set
  commit_error(edited(map, {{"rev", DagCborValue::make_text("3n33qouut5k2")}}), "rev");
  commit_error(edited(map, {}, {"sig"}), "sig");
  const auto sig = map.find("sig")->as_bytes();
  commit_error(edited(map, {{"sig", DagCborValue::make_bytes(sig.first(63))}}), "sig");
  std::vector<std::byte> sig65(sig.begin(), sig.end());
  sig65.push_back(std::byte{0});
  commit_error(edited(map, {{"sig", DagCborValue::make_bytes(sig65)}}), "sig");
  commit_error(edited(map, {{"sig", DagCborValue::make_text("sig")}}), "sig");
  commit_error(edited(map, {{"prev", DagCborValue::make_text("bafy")}}), "prev");
  commit_error(edited(map, {{"prev", DagCborValue::make_bytes(data)}}), "prev");
  commit_error(edited(map, {{"extra", DagCborValue::make_null()}}), "extra");
  commit_error(edited(map, {{"tree", DagCborValue::make_link(data)}}), "tree");
  commit_error(dag_cbor_encode(DagCborValue::make_list({})), "");
  // A raw-codec CID is not an MST node.
  auto raw_cid = std::vector<std::byte>(data.begin(), data.end());
  raw_cid[1] = std::byte{0x55};
  commit_error(edited(map, {{"data", DagCborValue::make_link(raw_cid)}}), "data");
  // Non-canonical bytes are a DecodeError (here: the map's entry count in a
  // longer form than needed).
  std::vector<std::byte> long_header = {std::byte{0xb8}, std::byte{6}};
  long_header.insert(long_header.end(), fc.block.begin() + 1, fc.block.end());
  EXPECT_THROW(decode_commit(long_header), DecodeError);
  EXPECT_THROW(decode_commit(std::span(fc.block).first(fc.block.size() - 1)), DecodeError);
  // A Commit not made by decode_commit has no unsigned bytes and no valid
  // signature.
  const Commit empty;
  EXPECT_TRUE(empty.unsigned_bytes().empty());
  expect_verify_error([&] { verify_commit_signature(empty, fixture_keys().begin()->second); },
                      VerifyError::Check::signature, "");
}

TEST(Commit, PrevLinkAndAbsentPrev) {
  // Commits signed here with a P-256 key: prev as a link, and no prev key at
  // all (earlier writers); both are signed over exactly the fields present.
  const auto fc = fixture_commits().at(0);
  const auto map = dag_cbor_decode(fc.block);
  const auto data = map.find("data")->as_link();
  TestSigner signer(Curve::p256);
  const auto key = PublicKey::from_did_key(PublicKey::from_point(Curve::p256, signer.point()).did_key());
  for (bool with_prev : {true, false}) {
    SCOPED_TRACE(with_prev ? "prev link" : "no prev");
    const auto unsigned_block = with_prev ? edited(map, {{"prev", DagCborValue::make_link(data)}}, {"sig"})
                                          : edited(map, {}, {"sig", "prev"});
    const auto sig = signer.sign(unsigned_block);
    const auto signed_block = dag_cbor_encode([&] {
      auto m = dag_cbor_decode(unsigned_block);
      std::vector<std::string_view> keys(m.keys().begin(), m.keys().end());
      std::vector<DagCborValue> values(m.items().begin(), m.items().end());
      keys.emplace_back("sig");
      values.push_back(DagCborValue::make_bytes(sig));
      return DagCborValue::make_map(keys, values);
    }());
    const Commit c = decode_commit(signed_block);
    EXPECT_EQ(c.has_prev, with_prev);
    EXPECT_EQ(c.prev.has_value(), with_prev);
    if (with_prev) {
      EXPECT_TRUE(std::equal(c.prev->begin(), c.prev->end(), data.begin(), data.end()));
    }
    EXPECT_EQ(c.unsigned_bytes(), unsigned_block);
    EXPECT_NO_THROW(verify_commit_signature(c, key));
    // Signed by P-256 but checked as the account's K-256 key.
    expect_verify_error([&] { verify_commit_signature(c, fixture_keys().at(fc.repo)); },
                        VerifyError::Check::signature, c.did);
    // High-S P-256 signature.
    const auto high_block = edited(dag_cbor_decode(signed_block),
                                   {{"sig", DagCborValue::make_bytes(test::high_s_twin(Curve::p256, sig))}});
    const auto high = decode_commit(high_block);
    expect_verify_error([&] { verify_commit_signature(high, key); }, VerifyError::Check::signature, c.did);
  }
}

TEST(Commit, EverySingleByteChangeIsRejected) {
  // Every byte of a commit is either signed or part of the signature, and a
  // canonical encoding has no equivalent spelling, so no changed byte can
  // leave a commit that decodes and verifies.
  const auto keys = fixture_keys();
  const auto commits = fixture_commits();
  for (std::size_t n = 0; n < commits.size(); n += 5) {
    const auto& fc = commits[n];
    SCOPED_TRACE(fc.name);
    const auto& key = keys.at(fc.repo);
    int decode_errors = 0, commit_errors = 0, signature_errors = 0;
    for (std::size_t i = 0; i < fc.block.size(); ++i) {
      for (unsigned char x : {0x01, 0x80, 0xff}) {
        auto block = fc.block;
        block[i] ^= std::byte{x};
        try {
          const Commit c = decode_commit(block);
          check_commit_did(c, fc.repo);
          verify_commit_signature(c, key);
          ADD_FAILURE() << "byte " << i << " ^ " << int(x) << " accepted";
        } catch (const DecodeError&) {
          ++decode_errors;
        } catch (const VerifyError& e) {
          ASSERT_TRUE(e.check() == VerifyError::Check::commit || e.check() == VerifyError::Check::signature)
              << e.what();
          ++(e.check() == VerifyError::Check::commit ? commit_errors : signature_errors);
        }
      }
    }
    EXPECT_GT(decode_errors, 0);
    EXPECT_GT(commit_errors, 0);
    EXPECT_GT(signature_errors, 0);
  }
}

}  // namespace
}  // namespace atdata::atproto
