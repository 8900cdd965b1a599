// SHA256_Init/Update/Final hash the three parts of an unsigned commit from a
// context on the stack; the EVP interface allocates a context per digest.
#define OPENSSL_SUPPRESS_DEPRECATED

#include "atdata/atproto/commit.hpp"

#include <openssl/sha.h>

#include <array>
#include <cstring>
#include <string>

#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/syntax.hpp"
#include "atdata/error.hpp"

namespace atdata::atproto {

namespace {

// In canonical DAG-CBOR the "sig" entry of a commit is the text key (0x63
// "sig") then a byte string of 64 bytes (0x58 0x40, length in one byte).
constexpr std::array<std::byte, 6> kSigEntryHead = {std::byte{0x63}, std::byte{'s'},  std::byte{'i'},
                                                    std::byte{'g'},  std::byte{0x58}, std::byte{0x40}};

[[noreturn]] void commit_error(std::string field, const std::string& what) {
  throw VerifyError(VerifyError::Check::commit, std::move(field), "commit: " + what);
}

const DagCborValue& field(const DagCborValue& map, std::string_view name, DagCborValue::Kind kind,
                          std::string_view expected) {
  const DagCborValue* v = map.find(name);
  if (v == nullptr) commit_error(std::string(name), "missing field '" + std::string(name) + "'");
  if (v->kind() != kind) {
    commit_error(std::string(name), "field '" + std::string(name) + "' is " +
                                        std::string(to_string(v->kind())) + ", expected " +
                                        std::string(expected));
  }
  return *v;
}

void check_link(std::string_view name, std::span<const std::byte> cid) {
  const auto parsed = parse_binary_cid_v1_sha256(cid);
  if (!parsed || parsed->codec != kCodecDagCbor) {
    commit_error(std::string(name), "field '" + std::string(name) + "' is not a sha2-256 dag-cbor CID");
  }
}

}  // namespace

Commit decode_commit(std::span<const std::byte> block) {
  // A commit has no nesting and six entries.
  DagCborLimits limits;
  limits.max_depth = 2;
  limits.max_container_items = 64;
  limits.max_total_items = 64;
  const DagCborValue map = dag_cbor_decode(block, limits);
  if (map.kind() != DagCborValue::Kind::map) {
    commit_error("", "block is " + std::string(to_string(map.kind())) + ", expected a map");
  }
  for (std::string_view k : map.keys()) {
    if (k != "did" && k != "version" && k != "data" && k != "rev" && k != "prev" && k != "sig") {
      commit_error(std::string(k), "unknown field '" + std::string(k) + "'");
    }
  }

  Commit c;
  c.block = block;
  c.version = field(map, "version", DagCborValue::Kind::integer, "an integer").as_int();
  if (c.version != kCommitVersion) {
    commit_error("version", "version " + std::to_string(c.version) + ", only version 3 is supported");
  }
  c.did = field(map, "did", DagCborValue::Kind::text, "a DID string").as_text();
  if (!is_valid_did(c.did)) commit_error("did", "field 'did' is not a DID: '" + std::string(c.did) + "'");
  c.data = field(map, "data", DagCborValue::Kind::link, "a link").as_link();
  check_link("data", c.data);
  c.rev = field(map, "rev", DagCborValue::Kind::text, "a TID string").as_text();
  if (!is_valid_tid(c.rev)) commit_error("rev", "field 'rev' is not a TID: '" + std::string(c.rev) + "'");
  if (const DagCborValue* prev = map.find("prev")) {
    c.has_prev = true;
    if (prev->kind() == DagCborValue::Kind::link) {
      c.prev = prev->as_link();
      check_link("prev", *c.prev);
    } else if (!prev->is_null()) {
      commit_error("prev",
                   "field 'prev' is " + std::string(to_string(prev->kind())) + ", expected null or a link");
    }
  }
  c.sig = field(map, "sig", DagCborValue::Kind::bytes, "bytes").as_bytes();
  if (c.sig.size() != 64) {
    commit_error("sig", "field 'sig' has " + std::to_string(c.sig.size()) + " bytes, expected 64");
  }

  // The decoder accepted canonical bytes only, so the sig entry sits right
  // before the signature bytes it returned a view of.
  const auto sig_at = static_cast<std::size_t>(c.sig.data() - block.data());
  if (sig_at < 1 + kSigEntryHead.size() ||
      std::memcmp(block.data() + sig_at - kSigEntryHead.size(), kSigEntryHead.data(), kSigEntryHead.size()) !=
          0 ||
      block[0] != std::byte{static_cast<unsigned char>(0xa0 + map.size())}) {
    throw Error("commit: internal error: unexpected layout of the sig entry");
  }
  c.sig_entry_begin_ = sig_at - kSigEntryHead.size();
  c.sig_entry_end_ = sig_at + c.sig.size();
  return c;
}

Commit::Unsigned Commit::unsigned_parts() const noexcept {
  Unsigned u;
  if (sig_entry_end_ == 0) return u;  // not made by decode_commit
  // Entry counts up to 23 are in the map header's low bits.
  u.map_header = std::byte{static_cast<unsigned char>(static_cast<unsigned>(block[0]) - 1)};
  u.before_sig = block.subspan(1, sig_entry_begin_ - 1);
  u.after_sig = block.subspan(sig_entry_end_);
  return u;
}

std::vector<std::byte> Commit::unsigned_bytes() const {
  const Unsigned u = unsigned_parts();
  std::vector<std::byte> out;
  if (sig_entry_end_ == 0) return out;
  out.reserve(1 + u.before_sig.size() + u.after_sig.size());
  out.push_back(u.map_header);
  out.insert(out.end(), u.before_sig.begin(), u.before_sig.end());
  out.insert(out.end(), u.after_sig.begin(), u.after_sig.end());
  return out;
}

Sha256Digest Commit::unsigned_digest() const noexcept {
  const Unsigned u = unsigned_parts();
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, &u.map_header, 1);
  SHA256_Update(&ctx, u.before_sig.data(), u.before_sig.size());
  SHA256_Update(&ctx, u.after_sig.data(), u.after_sig.size());
  Sha256Digest digest;
  SHA256_Final(reinterpret_cast<unsigned char*>(digest.data()), &ctx);
  return digest;
}

void verify_commit_signature(const Commit& commit, const PublicKey& key) {
  if (key.verify_digest(commit.unsigned_digest(), commit.sig)) return;
  std::string what =
      "commit signature of " + std::string(commit.did) + " (rev " + std::string(commit.rev) + ")";
  if (is_high_s(key.curve(), commit.sig)) {
    what += " is high-S (s > n/2), which ATProto rejects";
  } else {
    what += " does not verify with " + std::string(curve_name(key.curve())) + " key " + key.did_key();
  }
  throw VerifyError(VerifyError::Check::signature, std::string(commit.did), what);
}

void check_commit_did(const Commit& commit, std::string_view expected_did) {
  if (commit.did == expected_did) return;
  commit_error("did", "commit is for repository " + std::string(commit.did) + ", expected " +
                          std::string(expected_did));
}

}  // namespace atdata::atproto
