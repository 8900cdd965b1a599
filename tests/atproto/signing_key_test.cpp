#include "atdata/atproto/signing_key.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "atdata/core/detail/text_codecs.hpp"
#include "atdata/error.hpp"
#include "crypto_test_util.hpp"

namespace atdata::atproto {
namespace {

using test::base58_decode;
using test::base58_encode;
using test::concat;
using test::TestSigner;

std::span<const std::byte> as_span(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// Runs `f`, expecting VerifyError(Check::key) whose message contains `needle`.
#define expect_key_error(...)       \
  do {                              \
    SCOPED_TRACE(#__VA_ARGS__);     \
    expect_key_error_(__VA_ARGS__); \
  } while (0)

template <class F>
void expect_key_error_(F&& f, std::string_view needle) {
  try {
    f();
    ADD_FAILURE() << "no VerifyError (expected one mentioning '" << needle << "')";
  } catch (const VerifyError& e) {
    EXPECT_EQ(e.check(), VerifyError::Check::key) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

std::string multikey_of(const std::vector<std::uint8_t>& prefix, std::span<const std::byte> point) {
  std::vector<std::byte> p(prefix.size());
  std::transform(prefix.begin(), prefix.end(), p.begin(), [](std::uint8_t b) { return std::byte{b}; });
  return "z" + base58_encode(concat({p, point}));
}

std::vector<std::byte> off_curve_compressed(Curve c) {
  // x^3 + ax + b has no square root mod p for these x (x = 5 on secp256k1,
  // x = 1 on P-256), so no point has them as x coordinate.
  std::vector<std::byte> p(33, std::byte{0});
  p[0] = std::byte{0x02};
  p[32] = std::byte{static_cast<unsigned char>(c == Curve::secp256k1 ? 5 : 1)};
  return p;
}

TEST(SigningKey, BothKeyFormsOfEachFixtureAccountAgree) {
  const auto dids = test::firehose_dids();
  ASSERT_EQ(dids.as_object().size(), 2U);
  for (const auto& [did, account] : dids.as_object()) {
    SCOPED_TRACE(std::string(did));
    const auto& doc = account.at("didDoc");
    const std::string did_key(account.at("signingKeyDidKey").as_string());
    const auto from_doc = PublicKey::from_did_document(doc);
    const auto from_did_key = PublicKey::from_did_key(did_key);
    EXPECT_EQ(from_doc.curve(), Curve::secp256k1);
    EXPECT_TRUE(from_doc == from_did_key);
    EXPECT_EQ(from_doc.did_key(), did_key);
    EXPECT_EQ("did:key:" + from_did_key.multikey(), did_key);
    // The documents use the legacy type, whose value is the bare
    // uncompressed point: its x coordinate is the compressed key's.
    const auto& vm = doc.at("verificationMethod").at(0);
    EXPECT_EQ(vm.at("type").as_string(), "EcdsaSecp256k1VerificationKey2019");
    const auto legacy = base58_decode(std::string_view(vm.at("publicKeyMultibase").as_string()).substr(1));
    ASSERT_EQ(legacy.size(), 65U);
    EXPECT_EQ(legacy[0], std::byte{0x04});
    EXPECT_TRUE(std::equal(legacy.begin() + 1, legacy.begin() + 33, from_doc.compressed().begin() + 1));
  }
  // The two accounts have different keys.
  auto it = dids.as_object().begin();
  const auto a = PublicKey::from_did_key(std::string(it->value().at("signingKeyDidKey").as_string()));
  ++it;
  const auto b = PublicKey::from_did_key(std::string(it->value().at("signingKeyDidKey").as_string()));
  EXPECT_FALSE(a == b);
}

TEST(SigningKey, OfficialSignatureVectors) {
  const auto vectors =
      test::read_json(std::filesystem::path(ATDATA_TEST_DATA_DIR) / "crypto/signature-fixtures.json");
  ASSERT_EQ(vectors.as_array().size(), 4U);
  int valid = 0;
  for (const auto& v : vectors.as_array()) {
    const std::string alg(v.at("algorithm").as_string());
    SCOPED_TRACE(alg + " " + std::string(v.at("signatureBase64").as_string()));
    const Curve curve = alg == "ES256K" ? Curve::secp256k1 : Curve::p256;
    ASSERT_TRUE(alg == "ES256K" || alg == "ES256");
    const auto key = PublicKey::from_did_key(std::string(v.at("publicKeyDid").as_string()));
    EXPECT_EQ(key.curve(), curve);
    // Their publicKeyMultibase is the bare compressed point, the legacy form.
    const auto legacy =
        PublicKey::from_legacy_multibase(curve, std::string(v.at("publicKeyMultibase").as_string()));
    EXPECT_TRUE(key == legacy);
    EXPECT_EQ(key.did_key(), v.at("publicKeyDid").as_string());
    const auto message = detail::base64_decode(std::string(v.at("messageBase64").as_string()));
    const auto sig = detail::base64_decode(std::string(v.at("signatureBase64").as_string()));
    ASSERT_TRUE(message && sig);
    ASSERT_EQ(sig->size(), 64U);
    const bool expected = v.at("validSignature").as_bool();
    EXPECT_EQ(key.verify(*message, *sig), expected);
    EXPECT_EQ(key.verify_digest(sha256(*message), *sig), expected);
    // The invalid vectors are the high-S twins of the valid ones.
    EXPECT_EQ(is_high_s(curve, *sig), !expected);
    if (!expected) {
      EXPECT_TRUE(key.verify(*message, test::high_s_twin(curve, *sig)));
    }
    valid += expected ? 1 : 0;
  }
  EXPECT_EQ(valid, 2);
}

TEST(SigningKey, OfficialDidKeyVectors) {
  const auto vectors =
      test::read_json(std::filesystem::path(ATDATA_TEST_DATA_DIR) / "crypto/did-key-vectors.json");
  int n = 0;
  for (const auto& v : vectors.at("secp256k1").as_array()) {
    const std::string id(v.at("id").as_string());
    SCOPED_TRACE(id);
    const auto priv = test::hex_bytes(std::string(v.at("privateKeyHex").as_string()));
    TestSigner signer(Curve::secp256k1,
                      std::span(reinterpret_cast<const std::uint8_t*>(priv.data()), priv.size()));
    EXPECT_EQ(PublicKey::from_point(Curve::secp256k1, signer.point()).did_key(), id);
    EXPECT_EQ(PublicKey::from_point(Curve::secp256k1, signer.point(false)).did_key(), id);
    const auto parsed = PublicKey::from_did_key(id);
    EXPECT_TRUE(std::equal(parsed.compressed().begin(), parsed.compressed().end(), signer.point().begin()));
    ++n;
  }
  for (const auto& v : vectors.at("p256").as_array()) {
    const std::string id(v.at("id").as_string());
    SCOPED_TRACE(id);
    const auto priv = base58_decode(std::string(v.at("privateKeyBase58").as_string()));
    ASSERT_EQ(priv.size(), 32U);
    TestSigner signer(Curve::p256,
                      std::span(reinterpret_cast<const std::uint8_t*>(priv.data()), priv.size()));
    EXPECT_EQ(PublicKey::from_point(Curve::p256, signer.point()).did_key(), id);
    const auto parsed = PublicKey::from_did_key(id);
    EXPECT_EQ(parsed.curve(), Curve::p256);
    EXPECT_TRUE(std::equal(parsed.compressed().begin(), parsed.compressed().end(), signer.point().begin()));
    ++n;
  }
  EXPECT_EQ(n, 6);
}

TEST(SigningKey, GeneratedKeysOfBothCurvesSignAndVerify) {
  for (Curve curve : {Curve::secp256k1, Curve::p256}) {
    SCOPED_TRACE(std::string(curve_name(curve)));
    TestSigner signer(curve);
    const auto key = PublicKey::from_multikey(multikey_of(curve == Curve::secp256k1
                                                              ? std::vector<std::uint8_t>{0xe7, 0x01}
                                                              : std::vector<std::uint8_t>{0x80, 0x24},
                                                          signer.point()));
    EXPECT_EQ(key.curve(), curve);
    EXPECT_EQ(key.did_key().substr(0, 11), curve == Curve::secp256k1 ? "did:key:zQ3" : "did:key:zDn");
    EXPECT_TRUE(PublicKey::from_did_key(key.did_key()) == key);
    EXPECT_TRUE(PublicKey::from_point(curve, signer.point(false)) == key);
    EXPECT_TRUE(PublicKey::from_legacy_multibase(curve, "z" + base58_encode(signer.point(false))) == key);

    for (int i = 0; i < 20; ++i) {
      const std::string msg = "message " + std::to_string(i);
      const auto sig = signer.sign(as_span(msg));
      EXPECT_TRUE(key.verify(as_span(msg), sig));
      EXPECT_FALSE(key.verify(as_span(msg + "!"), sig));
      // The high-S twin is a valid ECDSA signature that ATProto rejects.
      const auto twin = test::high_s_twin(curve, sig);
      EXPECT_TRUE(is_high_s(curve, twin));
      EXPECT_FALSE(key.verify(as_span(msg), twin));
      EXPECT_FALSE(key.verify(as_span(msg), signer.sign(as_span(msg), false)));
      // Each bit of the signature matters.
      for (std::size_t bit = 0; bit < 512; bit += 37) {
        auto flipped = sig;
        flipped[bit / 8] ^= std::byte{static_cast<unsigned char>(1U << (bit % 8))};
        EXPECT_FALSE(key.verify(as_span(msg), flipped)) << "bit " << bit;
      }
    }
    // Another key of the same curve does not verify.
    TestSigner other(curve);
    EXPECT_FALSE(PublicKey::from_point(curve, other.point()).verify(as_span("m"), signer.sign(as_span("m"))));
  }
}

TEST(SigningKey, RejectsOutOfRangeScalars) {
  for (Curve curve : {Curve::secp256k1, Curve::p256}) {
    SCOPED_TRACE(std::string(curve_name(curve)));
    TestSigner signer(curve);
    const auto key = PublicKey::from_point(curve, signer.point());
    const auto sig = signer.sign(as_span("m"));
    ASSERT_TRUE(key.verify(as_span("m"), sig));
    auto zero_r = sig;
    std::fill(zero_r.begin(), zero_r.begin() + 32, std::byte{0});
    auto zero_s = sig;
    std::fill(zero_s.begin() + 32, zero_s.end(), std::byte{0});
    // r + n is the same residue as r: it must be refused as >= n, not reduced.
    std::vector<std::byte> n(32);
    BIGNUM* order = test::curve_order(curve);
    BN_bn2binpad(order, reinterpret_cast<unsigned char*>(n.data()), 32);
    BN_free(order);
    auto r_n = sig;
    std::copy(n.begin(), n.end(), r_n.begin());
    auto s_n = sig;
    std::copy(n.begin(), n.end(), s_n.begin() + 32);
    auto all_ff = std::vector<std::byte>(64, std::byte{0xff});
    for (const auto& bad : {zero_r, zero_s, r_n, s_n, all_ff}) EXPECT_FALSE(key.verify(as_span("m"), bad));
    EXPECT_FALSE(key.verify(as_span("m"), std::span(sig).first(63)));
    auto longer = sig;
    longer.push_back(std::byte{0});
    EXPECT_FALSE(key.verify(as_span("m"), longer));
    EXPECT_FALSE(key.verify(as_span("m"), {}));
  }
}

TEST(SigningKey, MalformedKeysNameTheProblem) {
  const std::string good = "did:key:zQ3shbiDjBfgyyx6HNsTnG7xYgDh6dADXcMSk98ZaUFESyLU7";
  ASSERT_NO_THROW(PublicKey::from_did_key(good));
  for (char bad : {'0', 'O', 'I', 'l', '+', '/'}) {
    std::string k = good;
    k[20] = bad;
    expect_key_error([&] { PublicKey::from_did_key(k); }, "base58btc alphabet");
  }
  expect_key_error([&] { PublicKey::from_did_key("did:web:example.com"); }, "not a did:key");
  expect_key_error(
      [&] { PublicKey::from_did_key("did:key:Q3shbiDjBfgyyx6HNsTnG7xYgDh6dADXcMSk98ZaUFESyLU7"); },
      "must start with 'z'");
  expect_key_error([&] { PublicKey::from_multikey(""); }, "must start with 'z'");
  expect_key_error([&] { PublicKey::from_multikey("z"); }, "empty key value");
  // Cutting base58 digits changes every byte, the multicodec prefix too.
  expect_key_error([&] { PublicKey::from_did_key(good.substr(0, good.size() - 4)); }, "decodes to 33 bytes");
  expect_key_error([&] { PublicKey::from_did_key(good.substr(0, 12)); }, "unsupported multicodec");
  expect_key_error([&] { PublicKey::from_multikey("z" + std::string(300, '2')); }, "too long");

  TestSigner k1(Curve::secp256k1);
  TestSigner p256(Curve::p256);
  // Multicodecs other than the two ATProto curves.
  std::vector<std::byte> ed(32, std::byte{7});
  expect_key_error([&] { PublicKey::from_multikey(multikey_of({0xed, 0x01}, ed)); }, "0xed (ed25519-pub)");
  expect_key_error([&] { PublicKey::from_multikey(multikey_of({0x81, 0x24}, p256.point())); }, "0x1201");
  expect_key_error(
      [&] {
        PublicKey::from_multikey(multikey_of({0xe7, 0x81, 0x00}, k1.point()));
      },
      "unsupported multicodec");
  expect_key_error([&] { PublicKey::from_multikey(multikey_of({0xe7}, k1.point())); },
                   "unsupported multicodec");
  // The right multicodec with the other curve's point: either not on the
  // curve or (rarely) a valid but different key; never the signer's.
  try {
    const auto crossed = PublicKey::from_multikey(multikey_of({0x80, 0x24}, k1.point()));
    EXPECT_FALSE(crossed.verify(as_span("m"), k1.sign(as_span("m"))));
  } catch (const VerifyError& e) {
    EXPECT_EQ(e.check(), VerifyError::Check::key);
  }
  // Multikey values hold compressed points only.
  expect_key_error(
      [&] {
        PublicKey::from_multikey(multikey_of({0xe7, 0x01}, k1.point(false)));
      },
      "expected a 33-byte compressed point");
  // Points not on the curve.
  for (Curve c : {Curve::secp256k1, Curve::p256}) {
    const auto prefix =
        c == Curve::secp256k1 ? std::vector<std::uint8_t>{0xe7, 0x01} : std::vector<std::uint8_t>{0x80, 0x24};
    const auto off = off_curve_compressed(c);
    expect_key_error([&] { PublicKey::from_multikey(multikey_of(prefix, off)); }, "not on the");
    expect_key_error([&] { PublicKey::from_point(c, off); }, "not on the");
    auto bad_prefix = TestSigner(c).point();
    bad_prefix[0] = std::byte{0x05};
    expect_key_error([&] { PublicKey::from_multikey(multikey_of(prefix, bad_prefix)); }, "expected 2 or 3");
    auto unc = TestSigner(c).point(false);
    unc[64] ^= std::byte{1};  // y no longer matches x
    expect_key_error([&] { PublicKey::from_point(c, unc); }, "not on the");
    expect_key_error([&] { PublicKey::from_legacy_multibase(c, "z" + base58_encode(unc)); }, "not on the");
    auto hybrid = TestSigner(c).point(false);
    hybrid[0] = std::byte{0x06};
    expect_key_error([&] { PublicKey::from_point(c, hybrid); }, "expected 4");
    expect_key_error([&] { PublicKey::from_point(c, std::span(off).first(20)); }, "expected 33");
  }
}

boost::json::value doc_with(std::string_view id, std::string_view type, const std::string& value) {
  boost::json::object vm;
  vm["id"] = id;
  vm["type"] = type;
  vm["controller"] = "did:plc:abc";
  vm["publicKeyMultibase"] = value;
  boost::json::array vms;
  boost::json::object other;
  other["id"] = "#other";
  other["type"] = "Multikey";
  other["publicKeyMultibase"] = "zQ3shbiDjBfgyyx6HNsTnG7xYgDh6dADXcMSk98ZaUFESyLU7";
  vms.push_back(other);
  vms.push_back(vm);
  boost::json::object doc;
  doc["id"] = "did:plc:abc";
  doc["verificationMethod"] = vms;
  return doc;
}

TEST(SigningKey, DidDocumentForms) {
  for (Curve c : {Curve::secp256k1, Curve::p256}) {
    SCOPED_TRACE(std::string(curve_name(c)));
    TestSigner signer(c);
    const auto key = PublicKey::from_point(c, signer.point());
    const std::string legacy_type =
        c == Curve::secp256k1 ? "EcdsaSecp256k1VerificationKey2019" : "EcdsaSecp256r1VerificationKey2019";
    // Multikey, with the short and the full method id.
    EXPECT_TRUE(PublicKey::from_did_document(doc_with("#atproto", "Multikey", key.multikey())) == key);
    EXPECT_TRUE(PublicKey::from_did_document(doc_with("did:plc:abc#atproto", "Multikey", key.multikey())) ==
                key);
    // Legacy types: bare point, uncompressed or compressed.
    EXPECT_TRUE(PublicKey::from_did_document(
                    doc_with("#atproto", legacy_type, "z" + base58_encode(signer.point(false)))) == key);
    EXPECT_TRUE(PublicKey::from_did_document(
                    doc_with("#atproto", legacy_type, "z" + base58_encode(signer.point()))) == key);
    // A legacy value given the multicodec prefix is not a point.
    expect_key_error([&] { PublicKey::from_did_document(doc_with("#atproto", legacy_type, key.multikey())); },
                     "#atproto key of did:plc:abc");
  }
  expect_key_error([] { PublicKey::from_did_document(doc_with("#atproto_label", "Multikey", "z")); },
                   "has no #atproto verification method");
  expect_key_error([] { PublicKey::from_did_document(doc_with("did:plc:other#atproto", "Multikey", "z")); },
                   "has no #atproto verification method");
  expect_key_error(
      [] {
        PublicKey::from_did_document(doc_with("#atproto", "Ed25519VerificationKey2020",
                                              "zQ3shbiDjBfgyyx6HNsTnG7xYgDh6dADXcMSk98ZaUFESyLU7"));
      },
      "unsupported type \"Ed25519VerificationKey2020\"");
  expect_key_error([] { PublicKey::from_did_document(boost::json::value(3)); }, "string \"id\"");
  boost::json::object no_methods;
  no_methods["id"] = "did:plc:abc";
  expect_key_error([&] { PublicKey::from_did_document(no_methods); }, "has no #atproto verification method");
  auto no_value = doc_with("#atproto", "Multikey", "z");
  no_value.as_object()["verificationMethod"].as_array()[1].as_object().erase("publicKeyMultibase");
  expect_key_error([&] { PublicKey::from_did_document(no_value); }, "publicKeyMultibase");
}

TEST(SigningKey, CopiesShareOneParsedKey) {
  TestSigner signer(Curve::p256);
  std::optional<PublicKey> copy;
  {
    const auto key = PublicKey::from_point(Curve::p256, signer.point());
    copy = key;
  }
  EXPECT_TRUE(copy->verify(as_span("m"), signer.sign(as_span("m"))));
}

TEST(SigningKey, OneKeyVerifiesFromManyThreads) {
  for (Curve curve : {Curve::secp256k1, Curve::p256}) {
    SCOPED_TRACE(std::string(curve_name(curve)));
    TestSigner signer(curve);
    const auto key = PublicKey::from_point(curve, signer.point());
    std::vector<std::vector<std::byte>> sigs;
    sigs.reserve(8);
    for (int i = 0; i < 8; ++i) sigs.push_back(signer.sign(as_span(std::to_string(i))));
    std::atomic<int> good{0}, bad{0};
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int round = 0; round < 10; ++round) {
          for (int i = 0; i < 8; ++i) {
            if (key.verify(as_span(std::to_string(i)), sigs[static_cast<std::size_t>(i)])) ++good;
            if (key.verify(as_span(std::to_string(i + 1)), sigs[static_cast<std::size_t>(i)])) ++bad;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(good.load(), 4 * 10 * 8);
    EXPECT_EQ(bad.load(), 0);
  }
}

TEST(SigningKey, EverySingleCharacterChangeIsAnotherKeyOrRejected) {
  TestSigner signer(Curve::secp256k1);
  const auto key = PublicKey::from_point(Curve::secp256k1, signer.point());
  const auto sig = signer.sign(as_span("m"));
  const std::string did_key = key.did_key();
  static constexpr std::string_view kAlphabet =
      "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0OIl";
  int rejected = 0, other_key = 0;
  for (std::size_t i = 8; i < did_key.size(); ++i) {
    for (char c : kAlphabet) {
      if (c == did_key[i]) continue;
      std::string changed = did_key;
      changed[i] = c;
      try {
        const auto k = PublicKey::from_did_key(changed);
        EXPECT_FALSE(k == key);
        EXPECT_FALSE(k.verify(as_span("m"), sig)) << changed;
        ++other_key;
      } catch (const VerifyError& e) {
        EXPECT_EQ(e.check(), VerifyError::Check::key);
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(other_key, 0);
}

}  // namespace
}  // namespace atdata::atproto
