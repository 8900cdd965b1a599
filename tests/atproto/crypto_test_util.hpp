#pragma once
// Test-side key material for the signing-key and commit suites: keys made and
// signatures computed with OpenSSL (independently of the library's verify
// path), a plain base58btc codec, and the firehose fixtures' commits.

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/obj_mac.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/signing_key.hpp"
#include "firehose_fixtures.hpp"

namespace atdata::test {

inline int curve_nid(atproto::Curve c) {
  return c == atproto::Curve::secp256k1 ? NID_secp256k1 : NID_X9_62_prime256v1;
}

// The curve order n, from OpenSSL's group.
inline BIGNUM* curve_order(atproto::Curve c) {
  EC_GROUP* g = EC_GROUP_new_by_curve_name(curve_nid(c));
  BIGNUM* n = BN_dup(EC_GROUP_get0_order(g));
  EC_GROUP_free(g);
  return n;
}

// r || (n - s): the other signature that ECDSA accepts for the same message.
inline std::vector<std::byte> high_s_twin(atproto::Curve c, std::span<const std::byte> sig) {
  BIGNUM* n = curve_order(c);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()) + 32, 32, nullptr);
  BN_sub(s, n, s);
  std::vector<std::byte> out(sig.begin(), sig.end());
  BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
  BN_free(s);
  BN_free(n);
  return out;
}

class TestSigner {
 public:
  explicit TestSigner(atproto::Curve c) : curve_(c), key_(EC_KEY_new_by_curve_name(curve_nid(c))) {
    if (EC_KEY_generate_key(key_) != 1) throw std::runtime_error("EC_KEY_generate_key");
  }
  // From a 32-byte private scalar.
  TestSigner(atproto::Curve c, std::span<const std::uint8_t> priv)
      : curve_(c), key_(EC_KEY_new_by_curve_name(curve_nid(c))) {
    BIGNUM* d = BN_bin2bn(priv.data(), static_cast<int>(priv.size()), nullptr);
    const EC_GROUP* g = EC_KEY_get0_group(key_);
    EC_POINT* q = EC_POINT_new(g);
    EC_POINT_mul(g, q, d, nullptr, nullptr, nullptr);
    EC_KEY_set_private_key(key_, d);
    EC_KEY_set_public_key(key_, q);
    EC_POINT_free(q);
    BN_free(d);
  }
  ~TestSigner() { EC_KEY_free(key_); }
  TestSigner(const TestSigner&) = delete;
  TestSigner& operator=(const TestSigner&) = delete;

  atproto::Curve curve() const { return curve_; }

  std::vector<std::byte> point(bool compressed = true) const {
    const EC_GROUP* g = EC_KEY_get0_group(key_);
    const auto form = compressed ? POINT_CONVERSION_COMPRESSED : POINT_CONVERSION_UNCOMPRESSED;
    std::vector<std::byte> out(compressed ? 33 : 65);
    EC_POINT_point2oct(g, EC_KEY_get0_public_key(key_), form, reinterpret_cast<unsigned char*>(out.data()),
                       out.size(), nullptr);
    return out;
  }

  // Compact r || s over SHA-256(message), low-S (or high-S on request).
  std::vector<std::byte> sign(std::span<const std::byte> message, bool low_s = true) const {
    const auto digest = atproto::sha256(message);
    ECDSA_SIG* sig = ECDSA_do_sign(reinterpret_cast<const unsigned char*>(digest.data()), 32, key_);
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig, &r, &s);
    std::vector<std::byte> out(64);
    BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), 32);
    BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
    ECDSA_SIG_free(sig);
    if (atproto::is_high_s(curve_, out) == low_s) out = high_s_twin(curve_, out);
    return out;
  }

 private:
  atproto::Curve curve_;
  EC_KEY* key_;
};

inline std::string base58_encode(std::span<const std::byte> data) {
  static constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  std::vector<unsigned> num;
  for (auto b : data) num.push_back(static_cast<unsigned>(b));
  std::string out;
  // Repeated division of the big-endian number by 58.
  while (std::any_of(num.begin(), num.end(), [](unsigned v) { return v != 0; })) {
    unsigned rem = 0;
    for (auto& v : num) {
      const unsigned cur = rem * 256 + v;
      v = cur / 58;
      rem = cur % 58;
    }
    out += kAlphabet[rem];
  }
  for (auto b : data) {
    if (b != std::byte{0}) break;
    out += '1';
  }
  std::reverse(out.begin(), out.end());
  return out;
}

inline std::vector<std::byte> base58_decode(std::string_view text) {
  static constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  std::vector<unsigned> num;  // big-endian base 256
  for (char c : text) {
    unsigned carry = static_cast<unsigned>(kAlphabet.find(c));
    for (auto it = num.rbegin(); it != num.rend(); ++it) {
      carry += *it * 58;
      *it = carry & 0xff;
      carry >>= 8;
    }
    while (carry != 0) {
      num.insert(num.begin(), carry & 0xff);
      carry >>= 8;
    }
  }
  std::vector<std::byte> out;
  for (char c : text) {
    if (c != '1') break;
    out.push_back(std::byte{0});
  }
  for (auto v : num) out.push_back(static_cast<std::byte>(v));
  return out;
}

inline std::vector<std::byte> concat(std::initializer_list<std::span<const std::byte>> parts) {
  std::vector<std::byte> out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline std::vector<std::byte> hex_bytes(std::string_view hex) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

inline boost::json::value read_json(const std::filesystem::path& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return boost::json::parse(ss.str());
}

inline boost::json::value firehose_dids() {
  return read_json(firehose_dir() / "dids.json");
}

// The commit block of every #commit and #sync frame of the fixtures.
struct FixtureCommit {
  std::string name;  // frame file
  std::string type;  // "#commit" / "#sync"
  std::string repo;  // the body's `repo` (#commit) or `did` (#sync)
  std::vector<std::byte> block;
};

inline std::vector<FixtureCommit> fixture_commits() {
  std::vector<FixtureCommit> out;
  for (const auto& [name, type] : index_types()) {
    if (type != "#commit" && type != "#sync") continue;
    const auto frame = read_bytes(firehose_dir() / name);
    std::span<const std::byte> all(frame);
    const auto head = atproto::dag_cbor_decode_prefix(all);
    const auto body = atproto::dag_cbor_decode(all.subspan(head.end));
    const auto car = body.find("blocks")->as_bytes();
    atproto::CarReader reader(car);
    const auto root = reader.roots().at(0);
    const auto blocks = atproto::BlockMap::from_car(reader);
    const auto block = blocks.find(root);
    if (!block) throw std::runtime_error(name + ": no commit block");
    FixtureCommit fc;
    fc.name = name;
    fc.type = type;
    fc.repo = std::string(body.find(type == "#commit" ? "repo" : "did")->as_text());
    fc.block.assign(block->begin(), block->end());
    out.push_back(std::move(fc));
  }
  return out;
}

}  // namespace atdata::test
