// The low-level EC_KEY / ECDSA_SIG API is deprecated in OpenSSL 3 but is the
// only one that verifies a P-256 signature without a per-call EVP context,
// DER encoding of the signature, and provider lookups.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "atdata/atproto/signing_key.hpp"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <secp256k1.h>

#include <boost/json/value.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

#include "atdata/error.hpp"

namespace atdata::atproto {

namespace {

constexpr std::string_view kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kDidKeyPrefix = "did:key:";
// Far longer than any key encoding (an uncompressed legacy key is 89
// characters): bounds the quadratic base58 decoding of hostile input.
constexpr std::size_t kMaxMultibaseChars = 256;

constexpr unsigned kCodecSecp256k1Pub = 0xe7;
constexpr unsigned kCodecP256Pub = 0x1200;
constexpr unsigned kCodecEd25519Pub = 0xed;

using Scalar = std::array<std::uint8_t, 32>;

// Group orders n and floor(n/2), big-endian.
constexpr Scalar kSecp256k1N = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
constexpr Scalar kSecp256k1HalfN = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0xff, 0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4,
                                    0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};
constexpr Scalar kP256N = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
                           0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17,
                           0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51};
constexpr Scalar kP256HalfN = {0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff, 0xff, 0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b,
                               0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8};

// Big-endian comparison of a 32-byte integer with a constant: <0, 0, >0.
int compare(const std::byte* a, const Scalar& b) noexcept {
  return std::memcmp(a, b.data(), b.size());
}
bool is_zero(const std::byte* a) noexcept {
  return std::all_of(a, a + 32, [](std::byte x) { return x == std::byte{0}; });
}

// r, s in [1, n-1] and s <= n/2.
bool scalars_acceptable(Curve curve, std::span<const std::byte> sig) noexcept {
  if (sig.size() != 64) return false;
  const Scalar& n = curve == Curve::secp256k1 ? kSecp256k1N : kP256N;
  const Scalar& half = curve == Curve::secp256k1 ? kSecp256k1HalfN : kP256HalfN;
  const std::byte* r = sig.data();
  const std::byte* s = sig.data() + 32;
  if (is_zero(r) || is_zero(s) || compare(r, n) >= 0) return false;
  return compare(s, half) <= 0;
}

std::string shown(std::string_view input) {
  return std::string(input.substr(0, 120)) + (input.size() > 120 ? "…" : "");
}

[[noreturn]] void key_error(std::string_view input, const std::string& what) {
  throw VerifyError(VerifyError::Check::key, shown(input), what);
}

std::vector<std::uint8_t> base58_decode(std::string_view input, std::string_view text) {
  std::size_t zeros = 0;
  while (zeros < text.size() && text[zeros] == '1') ++zeros;
  // log(58) / log(256) < 0.733
  std::vector<std::uint8_t> num((text.size() - zeros) * 733 / 1000 + 1, 0);
  std::size_t used = 0;  // significant bytes at the end of `num`
  for (std::size_t i = zeros; i < text.size(); ++i) {
    auto pos = kBase58.find(text[i]);
    if (pos == std::string_view::npos) {
      key_error(input, "character '" + std::string(1, text[i]) + "' at position " + std::to_string(i + 1) +
                           " is not in the base58btc alphabet");
    }
    unsigned carry = static_cast<unsigned>(pos);
    std::size_t j = 0;
    for (auto it = num.rbegin(); (carry != 0 || j < used) && it != num.rend(); ++it, ++j) {
      carry += 58U * *it;
      *it = static_cast<std::uint8_t>(carry & 0xffU);
      carry >>= 8;
    }
    used = j;
  }
  std::vector<std::uint8_t> out(zeros, 0);
  out.insert(out.end(), num.end() - static_cast<std::ptrdiff_t>(used), num.end());
  return out;
}

std::string base58_encode(std::span<const std::uint8_t> data) {
  std::size_t zeros = 0;
  while (zeros < data.size() && data[zeros] == 0) ++zeros;
  // log(256) / log(58) < 1.366
  std::vector<std::uint8_t> digits((data.size() - zeros) * 1366 / 1000 + 1, 0);
  std::size_t used = 0;
  for (std::size_t i = zeros; i < data.size(); ++i) {
    unsigned carry = data[i];
    std::size_t j = 0;
    for (auto it = digits.rbegin(); (carry != 0 || j < used) && it != digits.rend(); ++it, ++j) {
      carry += 256U * *it;
      *it = static_cast<std::uint8_t>(carry % 58U);
      carry /= 58U;
    }
    used = j;
  }
  std::string out(zeros, '1');
  for (auto it = digits.end() - static_cast<std::ptrdiff_t>(used); it != digits.end(); ++it) {
    out += kBase58[*it];
  }
  return out;
}

std::vector<std::uint8_t> multibase_base58(std::string_view input) {
  if (input.empty() || input.front() != 'z') {
    key_error(input, "'" + shown(input) + "' is not a base58btc multibase value (it must start with 'z')");
  }
  if (input.size() > kMaxMultibaseChars) {
    key_error(input,
              "key value of " + std::to_string(input.size()) + " characters is too long for a public key");
  }
  return base58_decode(input, input.substr(1));
}

const secp256k1_context* k256_context() {
  // The built-in static context verifies without allocating; the self test
  // guards against a miscompiled library.
  static const secp256k1_context* ctx = [] {
    secp256k1_selftest();
    return secp256k1_context_static;
  }();
  return ctx;
}

// Per-thread signature scratch for OpenSSL, so that a verification reuses
// two BIGNUMs instead of allocating an ECDSA_SIG.
struct P256Scratch {
  ECDSA_SIG* sig = nullptr;
  BIGNUM* r = nullptr;
  BIGNUM* s = nullptr;
  P256Scratch() {
    sig = ECDSA_SIG_new();
    BIGNUM* rr = BN_new();
    BIGNUM* ss = BN_new();
    if (sig == nullptr || rr == nullptr || ss == nullptr || ECDSA_SIG_set0(sig, rr, ss) != 1) {
      BN_free(rr);
      BN_free(ss);
      ECDSA_SIG_free(sig);
      sig = nullptr;
      return;
    }
    r = rr;
    s = ss;
  }
  ~P256Scratch() { ECDSA_SIG_free(sig); }
  P256Scratch(const P256Scratch&) = delete;
  P256Scratch& operator=(const P256Scratch&) = delete;
};

}  // namespace

struct PublicKey::Impl {
  Curve curve = Curve::secp256k1;
  std::array<std::byte, 33> compressed{};
  secp256k1_pubkey k256{};
  EC_KEY* p256 = nullptr;

  Impl() = default;
  ~Impl() { EC_KEY_free(p256); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

std::string_view curve_name(Curve curve) noexcept {
  return curve == Curve::secp256k1 ? "secp256k1" : "p256";
}

PublicKey PublicKey::from_point(Curve curve, std::span<const std::byte> sec1) {
  const std::string name(curve_name(curve));
  const std::string label = name + " public key";
  const auto* bytes = reinterpret_cast<const unsigned char*>(sec1.data());
  if (sec1.size() == 33) {
    if (bytes[0] != 0x02 && bytes[0] != 0x03) {
      key_error(label, name + " compressed point starts with byte " + std::to_string(bytes[0]) +
                           ", expected 2 or 3");
    }
  } else if (sec1.size() == 65) {
    if (bytes[0] != 0x04) {
      key_error(label,
                name + " uncompressed point starts with byte " + std::to_string(bytes[0]) + ", expected 4");
    }
  } else {
    key_error(label, name + " point of " + std::to_string(sec1.size()) +
                         " bytes, expected 33 (compressed) or 65 (uncompressed)");
  }

  auto impl = std::make_shared<Impl>();
  impl->curve = curve;
  if (curve == Curve::secp256k1) {
    if (secp256k1_ec_pubkey_parse(k256_context(), &impl->k256, bytes, sec1.size()) != 1) {
      key_error(label, "the point is not on the secp256k1 curve");
    }
    std::size_t len = impl->compressed.size();
    secp256k1_ec_pubkey_serialize(k256_context(), reinterpret_cast<unsigned char*>(impl->compressed.data()),
                                  &len, &impl->k256, SECP256K1_EC_COMPRESSED);
  } else {
    impl->p256 = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
    if (impl->p256 == nullptr) throw Error("OpenSSL cannot create a P-256 key");
    const EC_GROUP* group = EC_KEY_get0_group(impl->p256);
    EC_POINT* point = EC_POINT_new(group);
    const bool ok = point != nullptr && EC_POINT_oct2point(group, point, bytes, sec1.size(), nullptr) == 1 &&
                    EC_KEY_set_public_key(impl->p256, point) == 1 && EC_KEY_check_key(impl->p256) == 1 &&
                    EC_POINT_point2oct(group, point, POINT_CONVERSION_COMPRESSED,
                                       reinterpret_cast<unsigned char*>(impl->compressed.data()),
                                       impl->compressed.size(), nullptr) == impl->compressed.size();
    EC_POINT_free(point);
    ERR_clear_error();
    if (!ok) key_error(label, "the point is not on the P-256 curve");
  }
  return PublicKey(std::move(impl));
}

PublicKey PublicKey::from_multikey(std::string_view multibase) {
  const auto raw = multibase_base58(multibase);
  // Unsigned LEB128 multicodec code; both ATProto codes take two bytes.
  unsigned code = 0;
  std::size_t i = 0;
  bool complete = false;
  for (unsigned shift = 0; i < raw.size() && i < 3; shift += 7) {
    const unsigned b = raw[i++];
    code |= (b & 0x7fU) << shift;
    if ((b & 0x80U) == 0) {
      complete = true;
      break;
    }
  }
  Curve curve{};
  if (complete && code == kCodecSecp256k1Pub && i == 2) {
    curve = Curve::secp256k1;
  } else if (complete && code == kCodecP256Pub && i == 2) {
    curve = Curve::p256;
  } else {
    std::string what = raw.empty() ? std::string("empty key value") : "unsupported multicodec";
    if (complete) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "0x%x", code);
      what += std::string(" ") + hex;
      if (code == kCodecEd25519Pub) what += " (ed25519-pub)";
    }
    // A truncated or damaged value shows up here too: base58 digits
    // shift every byte, the prefix included.
    if (!raw.empty()) what += " (the value decodes to " + std::to_string(raw.size()) + " bytes)";
    key_error(multibase, what + "; ATProto signing keys are secp256k1-pub (0xe7) or p256-pub (0x1200)");
  }
  const std::size_t point_len = raw.size() - i;
  if (point_len != 33) {
    key_error(multibase, std::string(curve_name(curve)) + " multikey holds " + std::to_string(point_len) +
                             " bytes after the multicodec prefix, expected a 33-byte compressed point");
  }
  try {
    return from_point(curve, std::as_bytes(std::span(raw).subspan(i)));
  } catch (const VerifyError& e) {
    key_error(multibase, e.what());
  }
}

PublicKey PublicKey::from_did_key(std::string_view did_key) {
  if (did_key.substr(0, kDidKeyPrefix.size()) != kDidKeyPrefix) {
    key_error(did_key, "'" + shown(did_key) + "' is not a did:key (expected \"did:key:z…\")");
  }
  try {
    return from_multikey(did_key.substr(kDidKeyPrefix.size()));
  } catch (const VerifyError& e) {
    key_error(did_key, e.what());
  }
}

PublicKey PublicKey::from_legacy_multibase(Curve curve, std::string_view multibase) {
  const auto raw = multibase_base58(multibase);
  try {
    return from_point(curve, std::as_bytes(std::span(raw)));
  } catch (const VerifyError& e) {
    key_error(multibase, e.what());
  }
}

PublicKey PublicKey::from_did_document(const boost::json::value& doc) {
  const auto* obj = doc.if_object();
  const boost::json::value* id_value = obj != nullptr ? obj->if_contains("id") : nullptr;
  if (id_value == nullptr || !id_value->is_string()) {
    key_error("", "DID document is not an object with a string \"id\"");
  }
  const std::string did(id_value->as_string());
  const auto* methods_value = obj->if_contains("verificationMethod");
  const auto* methods = methods_value != nullptr ? methods_value->if_array() : nullptr;
  const std::string full_id = did + "#atproto";
  const boost::json::object* method = nullptr;
  if (methods != nullptr) {
    for (const auto& m : *methods) {
      const auto* mo = m.if_object();
      const auto* mid = mo != nullptr ? mo->if_contains("id") : nullptr;
      if (mid != nullptr && mid->is_string() &&
          (mid->as_string() == "#atproto" || mid->as_string() == full_id)) {
        method = mo;
        break;
      }
    }
  }
  if (method == nullptr) key_error(did, "DID document of " + did + " has no #atproto verification method");
  const auto* type = method->if_contains("type");
  const auto* value = method->if_contains("publicKeyMultibase");
  if (type == nullptr || !type->is_string()) {
    key_error(did, "the #atproto verification method of " + did + " has no string \"type\"");
  }
  if (value == nullptr || !value->is_string()) {
    key_error(did, "the #atproto verification method of " + did + " has no string \"publicKeyMultibase\"");
  }
  const std::string_view t = type->as_string();
  const std::string_view v = value->as_string();
  try {
    if (t == "Multikey") return from_multikey(v);
    if (t == "EcdsaSecp256k1VerificationKey2019") return from_legacy_multibase(Curve::secp256k1, v);
    if (t == "EcdsaSecp256r1VerificationKey2019") return from_legacy_multibase(Curve::p256, v);
  } catch (const VerifyError& e) {
    key_error(did, "#atproto key of " + did + ": " + e.what());
  }
  key_error(did, "the #atproto verification method of " + did + " has unsupported type \"" + std::string(t) +
                     "\" (expected Multikey, EcdsaSecp256k1VerificationKey2019 or "
                     "EcdsaSecp256r1VerificationKey2019)");
}

Curve PublicKey::curve() const noexcept {
  return impl_->curve;
}

const std::array<std::byte, 33>& PublicKey::compressed() const noexcept {
  return impl_->compressed;
}

std::string PublicKey::multikey() const {
  std::array<std::uint8_t, 35> raw{};
  if (impl_->curve == Curve::secp256k1) {
    raw[0] = 0xe7;
    raw[1] = 0x01;
  } else {
    raw[0] = 0x80;
    raw[1] = 0x24;
  }
  std::memcpy(raw.data() + 2, impl_->compressed.data(), impl_->compressed.size());
  return "z" + base58_encode(raw);
}

std::string PublicKey::did_key() const {
  return std::string(kDidKeyPrefix) + multikey();
}

bool PublicKey::verify(std::span<const std::byte> message, std::span<const std::byte> sig64) const noexcept {
  if (!scalars_acceptable(impl_->curve, sig64)) return false;
  return verify_digest(sha256(message), sig64);
}

bool PublicKey::verify_digest(const Sha256Digest& digest, std::span<const std::byte> sig64) const noexcept {
  if (!scalars_acceptable(impl_->curve, sig64)) return false;
  const auto* sig = reinterpret_cast<const unsigned char*>(sig64.data());
  const auto* hash = reinterpret_cast<const unsigned char*>(digest.data());
  if (impl_->curve == Curve::secp256k1) {
    secp256k1_ecdsa_signature parsed;
    if (secp256k1_ecdsa_signature_parse_compact(k256_context(), &parsed, sig) != 1) return false;
    return secp256k1_ecdsa_verify(k256_context(), &parsed, hash, &impl_->k256) == 1;
  }
  thread_local P256Scratch scratch;
  if (scratch.sig == nullptr) return false;
  if (BN_bin2bn(sig, 32, scratch.r) == nullptr || BN_bin2bn(sig + 32, 32, scratch.s) == nullptr) return false;
  const int rc = ECDSA_do_verify(hash, static_cast<int>(digest.size()), scratch.sig, impl_->p256);
  if (rc < 0) ERR_clear_error();
  return rc == 1;
}

bool is_high_s(Curve curve, std::span<const std::byte> sig64) noexcept {
  if (sig64.size() != 64) return false;
  return compare(sig64.data() + 32, curve == Curve::secp256k1 ? kSecp256k1HalfN : kP256HalfN) > 0;
}

}  // namespace atdata::atproto
