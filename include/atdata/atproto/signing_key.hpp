#pragma once
// ATProto signing keys: the public half of an account's repository signing
// key, read from a did:key, a Multikey `publicKeyMultibase`, or a DID
// document, and used to verify commit signatures. Sans-I/O.
//
// ATProto allows two curves, secp256k1 ("K-256", JWT alg ES256K) and NIST
// P-256 (ES256). A signature is the 64-byte compact form r || s (two 32-byte
// big-endian integers) over the SHA-256 of the message, and must be low-S
// (s <= n/2): the high-S twin of a valid signature is rejected, so a
// signature cannot be altered into another valid one.
//
// A PublicKey is parsed once (point decompressed and checked to be on the
// curve) and is immutable afterwards: copies share the parsed key, and one
// key may verify from many threads at once. verify() does not allocate.

#include <boost/json/fwd.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "atdata/atproto/cid.hpp"

namespace atdata::atproto {

enum class Curve {
  secp256k1,  // K-256, multicodec secp256k1-pub (0xe7)
  p256,       // NIST P-256 / secp256r1, multicodec p256-pub (0x1200)
};

// "secp256k1" / "p256".
std::string_view curve_name(Curve curve) noexcept;

// Every parse function throws VerifyError(Check::key, <subject>, <what is
// wrong>) for an unusable key: not "z"-prefixed base58btc, a character
// outside the base58 alphabet, an unknown multicodec, a wrong length, a point
// that is not on the curve. The subject is the key text given (the DID for
// from_did_document, "<curve> public key" for from_point).
class PublicKey {
 public:
  // "did:key:z…": the Multikey value after "did:key:".
  static PublicKey from_did_key(std::string_view did_key);
  // Multikey `publicKeyMultibase`: "z" + base58btc(multicodec varint prefix
  // + 33-byte compressed point); prefixes e7 01 (secp256k1) and 80 24 (P-256).
  static PublicKey from_multikey(std::string_view multibase);
  // The legacy verification method types EcdsaSecp256k1VerificationKey2019
  // and EcdsaSecp256r1VerificationKey2019: "z" + base58btc of the bare point
  // (no multicodec prefix; the curve comes from the type), compressed (33
  // bytes) or uncompressed (65 bytes, 0x04 || x || y).
  static PublicKey from_legacy_multibase(Curve curve, std::string_view multibase);
  // A SEC1 point, compressed (33 bytes) or uncompressed (65 bytes).
  static PublicKey from_point(Curve curve, std::span<const std::byte> sec1);
  // The repository signing key of a DID document (JSON): the entry of
  // `verificationMethod` whose `id` is "#atproto" or "<doc id>#atproto", of
  // type "Multikey" or one of the legacy types above.
  static PublicKey from_did_document(const boost::json::value& doc);

  Curve curve() const noexcept;
  // 33-byte SEC1 compressed point.
  const std::array<std::byte, 33>& compressed() const noexcept;
  // "z…" Multikey value and "did:key:z…" (always the compressed form).
  std::string multikey() const;
  std::string did_key() const;

  // True when `sig64` is a valid low-S signature of SHA-256(message). False
  // for any other signature, including one that is not 64 bytes long, has r
  // or s equal to 0 or >= n, or has s > n/2. Never throws.
  bool verify(std::span<const std::byte> message, std::span<const std::byte> sig64) const noexcept;
  // Same, given the message's SHA-256 digest.
  bool verify_digest(const Sha256Digest& digest, std::span<const std::byte> sig64) const noexcept;

  friend bool operator==(const PublicKey& a, const PublicKey& b) noexcept {
    return a.curve() == b.curve() && a.compressed() == b.compressed();
  }

  struct Impl;

 private:
  explicit PublicKey(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// True when the 32-byte big-endian s of a 64-byte r || s signature is above
// n/2 for `curve` (false for any other length): lets callers report "high-S"
// rather than only "does not verify".
bool is_high_s(Curve curve, std::span<const std::byte> sig64) noexcept;

}  // namespace atdata::atproto
