// Signature verification cost per curve and backend, and a commit block's
// decode + signature check: the per-commit crypto budget of a firehose
// verifier. Also counts heap allocations per verification (the verify path
// must not allocate). Keys and signatures are made here with OpenSSL.
//
//   build/bench/bench_crypto_verify --benchmark_min_time=1
#define OPENSSL_SUPPRESS_DEPRECATED
#include <benchmark/benchmark.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/commit.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/signing_key.hpp"

namespace {
// Heap allocations by C++ code (operator new) and by OpenSSL (its allocator
// hooks); libsecp256k1 allocates nothing after its context exists.
std::atomic<std::size_t> g_allocs{0};

void* counting_malloc(std::size_t n, const char*, int) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n);
}
void* counting_realloc(void* p, std::size_t n, const char*, int) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, n);
}
void plain_free(void* p, const char*, int) {
  std::free(p);
}
// Before OpenSSL allocates anything (static initialisation of this file).
const bool g_hooked = CRYPTO_set_mem_functions(counting_malloc, counting_realloc, plain_free) == 1;
}  // namespace

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace atdata::atproto;

struct Fixture {
  EC_KEY* key = nullptr;
  std::vector<std::byte> point;
  Sha256Digest digest{};
  std::vector<std::byte> sig;  // low-S compact
  ECDSA_SIG* der_sig = nullptr;

  explicit Fixture(int nid) {
    key = EC_KEY_new_by_curve_name(nid);
    EC_KEY_generate_key(key);
    const EC_GROUP* g = EC_KEY_get0_group(key);
    point.resize(33);
    EC_POINT_point2oct(g, EC_KEY_get0_public_key(key), POINT_CONVERSION_COMPRESSED,
                       reinterpret_cast<unsigned char*>(point.data()), 33, nullptr);
    const std::string msg = "the unsigned bytes of a commit";
    digest = sha256(std::as_bytes(std::span(msg.data(), msg.size())));
    sig = sign(digest);
    const auto* s = reinterpret_cast<const unsigned char*>(sig.data());
    der_sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(der_sig, BN_bin2bn(s, 32, nullptr), BN_bin2bn(s + 32, 32, nullptr));
  }
  std::vector<std::byte> sign(const Sha256Digest& d) const {
    ECDSA_SIG* es = ECDSA_do_sign(reinterpret_cast<const unsigned char*>(d.data()), 32, key);
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(es, &r, &s);
    BIGNUM* low = BN_dup(s);
    const BIGNUM* n = EC_GROUP_get0_order(EC_KEY_get0_group(key));
    BIGNUM* half = BN_new();
    BN_rshift1(half, n);
    if (BN_cmp(low, half) > 0) BN_sub(low, n, low);
    std::vector<std::byte> out(64);
    BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), 32);
    BN_bn2binpad(low, reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
    BN_free(low);
    BN_free(half);
    ECDSA_SIG_free(es);
    return out;
  }
  ~Fixture() {
    ECDSA_SIG_free(der_sig);
    EC_KEY_free(key);
  }
};

void report_allocs(benchmark::State& state, std::size_t before) {
  if (!g_hooked) state.SkipWithError("OpenSSL allocator hooks not installed");
  state.counters["allocs/op"] = benchmark::Counter(static_cast<double>(g_allocs.load() - before) /
                                                   static_cast<double>(state.iterations()));
}

void BM_PublicKeyVerify(benchmark::State& state, Curve curve) {
  Fixture f(curve == Curve::secp256k1 ? NID_secp256k1 : NID_X9_62_prime256v1);
  const auto key = PublicKey::from_point(curve, f.point);
  if (!key.verify_digest(f.digest, f.sig)) state.SkipWithError("does not verify");
  key.verify_digest(f.digest, f.sig);  // per-thread scratch made outside the count
  const std::size_t before = g_allocs.load();
  for (auto _ : state) benchmark::DoNotOptimize(key.verify_digest(f.digest, f.sig));
  report_allocs(state, before);
}
BENCHMARK_CAPTURE(BM_PublicKeyVerify, k256_libsecp256k1, Curve::secp256k1);
BENCHMARK_CAPTURE(BM_PublicKeyVerify, p256_openssl, Curve::p256);

// OpenSSL's own ECDSA on each curve (the alternative backend for K-256).
void BM_OpenSslEcdsaDoVerify(benchmark::State& state, int nid) {
  Fixture f(nid);
  const auto* d = reinterpret_cast<const unsigned char*>(f.digest.data());
  if (ECDSA_do_verify(d, 32, f.der_sig, f.key) != 1) state.SkipWithError("does not verify");
  const std::size_t before = g_allocs.load();
  for (auto _ : state) benchmark::DoNotOptimize(ECDSA_do_verify(d, 32, f.der_sig, f.key));
  report_allocs(state, before);
}
BENCHMARK_CAPTURE(BM_OpenSslEcdsaDoVerify, k256, NID_secp256k1);
BENCHMARK_CAPTURE(BM_OpenSslEcdsaDoVerify, p256, NID_X9_62_prime256v1);

// The EVP interface (DER signature, a context per call), for comparison.
void BM_OpenSslEvpVerify(benchmark::State& state, int nid) {
  Fixture f(nid);
  EVP_PKEY* pkey = EVP_PKEY_new();
  EVP_PKEY_set1_EC_KEY(pkey, f.key);
  unsigned char der[80];
  unsigned char* p = der;
  const int der_len = i2d_ECDSA_SIG(f.der_sig, &p);
  const auto* d = reinterpret_cast<const unsigned char*>(f.digest.data());
  for (auto _ : state) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(pkey, nullptr);
    EVP_PKEY_verify_init(ctx);
    benchmark::DoNotOptimize(EVP_PKEY_verify(ctx, der, static_cast<std::size_t>(der_len), d, 32));
    EVP_PKEY_CTX_free(ctx);
  }
  EVP_PKEY_free(pkey);
}
BENCHMARK_CAPTURE(BM_OpenSslEvpVerify, k256, NID_secp256k1);
BENCHMARK_CAPTURE(BM_OpenSslEvpVerify, p256, NID_X9_62_prime256v1);

// A commit block of the size the PDS writes: decode_commit (DAG-CBOR decode,
// field checks) then verify_commit_signature (hash of the unsigned parts,
// signature check).
std::vector<std::byte> make_commit(const Fixture& f) {
  std::vector<std::byte> cid(36, std::byte{0x5a});
  cid[0] = std::byte{0x01};
  cid[1] = std::byte{0x71};
  cid[2] = std::byte{0x12};
  cid[3] = std::byte{0x20};
  std::vector<std::string_view> keys = {"did", "version", "data", "rev", "prev"};
  std::vector<DagCborValue> values = {DagCborValue::make_text("did:plc:7tgzjy4e57zsigdlaf226lra"),
                                      DagCborValue::make_int(3), DagCborValue::make_link(cid),
                                      DagCborValue::make_text("3n33qouut5k2s"), DagCborValue::make_null()};
  const auto unsigned_bytes = dag_cbor_encode(DagCborValue::make_map(keys, values));
  const auto sig = f.sign(sha256(unsigned_bytes));
  keys.emplace_back("sig");
  values.push_back(DagCborValue::make_bytes(sig));
  return dag_cbor_encode(DagCborValue::make_map(keys, values));
}

void BM_CommitDecodeAndVerify(benchmark::State& state, Curve curve) {
  Fixture f(curve == Curve::secp256k1 ? NID_secp256k1 : NID_X9_62_prime256v1);
  const auto key = PublicKey::from_point(curve, f.point);
  const auto block = make_commit(f);
  verify_commit_signature(decode_commit(block), key);
  for (auto _ : state) {
    const Commit c = decode_commit(block);
    verify_commit_signature(c, key);
    benchmark::DoNotOptimize(c.rev.data());
  }
  state.counters["block_bytes"] = static_cast<double>(block.size());
}
BENCHMARK_CAPTURE(BM_CommitDecodeAndVerify, k256, Curve::secp256k1);

void BM_CommitDecodeOnly(benchmark::State& state) {
  Fixture f(NID_secp256k1);
  const auto block = make_commit(f);
  const std::size_t before = g_allocs.load();
  for (auto _ : state) {
    const Commit c = decode_commit(block);
    benchmark::DoNotOptimize(c.rev.data());
  }
  report_allocs(state, before);
}
BENCHMARK(BM_CommitDecodeOnly);
BENCHMARK_CAPTURE(BM_CommitDecodeAndVerify, p256, Curve::p256);

// The signature check alone, on an already decoded commit.
void BM_CommitSignatureOnly(benchmark::State& state, Curve curve) {
  Fixture f(curve == Curve::secp256k1 ? NID_secp256k1 : NID_X9_62_prime256v1);
  const auto key = PublicKey::from_point(curve, f.point);
  const auto block = make_commit(f);
  const Commit c = decode_commit(block);
  verify_commit_signature(c, key);
  const std::size_t before = g_allocs.load();
  for (auto _ : state) verify_commit_signature(c, key);
  report_allocs(state, before);
}
BENCHMARK_CAPTURE(BM_CommitSignatureOnly, k256, Curve::secp256k1);
BENCHMARK_CAPTURE(BM_CommitSignatureOnly, p256, Curve::p256);

}  // namespace

BENCHMARK_MAIN();
