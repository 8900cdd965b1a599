#pragma once
// Repository commit objects (repo format version 3): the signed block at the
// top of an account's repository, naming the root of its record tree. Sans-I/O
// and zero-copy: a Commit's text and byte fields are views into the block it
// was decoded from, which must outlive it.
//
// A commit is a DAG-CBOR map
//   did      the account DID (string)
//   version  3 (integer)
//   data     link to the root node of the repository's Merkle search tree
//   rev      the revision, a TID (string)
//   prev     null or a link to an earlier commit; the current format requires
//            the key, but earlier writers could leave it out, so a commit
//            without it is accepted (and verified without it)
//   sig      the signature (64 bytes) over the DAG-CBOR encoding of the same
//            map without `sig`, made with the account's signing key

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/signing_key.hpp"

namespace atdata::atproto {

inline constexpr std::int64_t kCommitVersion = 3;

class Commit {
 public:
  std::string_view did;
  std::int64_t version = 0;
  std::span<const std::byte> data;                 // binary CID of the MST root
  std::string_view rev;                            // TID
  std::optional<std::span<const std::byte>> prev;  // binary CID; nullopt when null or absent
  bool has_prev = false;                           // the `prev` key is present (even as null)
  std::span<const std::byte> sig;                  // 64 bytes
  std::span<const std::byte> block;                // the whole commit block

  // The unsigned commit, which the signature covers, is the block with the
  // `sig` entry cut out and the map's entry count lowered by one: a one-byte
  // map header and two slices of the block, so neither re-encoding nor a
  // copy is needed to hash it. Empty for a Commit not made by decode_commit.
  struct Unsigned {
    std::byte map_header{};
    std::span<const std::byte> before_sig;
    std::span<const std::byte> after_sig;
  };
  Unsigned unsigned_parts() const noexcept;
  // The unsigned commit's bytes, contiguous (a copy).
  std::vector<std::byte> unsigned_bytes() const;
  // SHA-256 of the unsigned commit, without allocating.
  Sha256Digest unsigned_digest() const noexcept;

 private:
  friend Commit decode_commit(std::span<const std::byte> block);
  std::size_t sig_entry_begin_ = 0;  // offset of the "sig" key in `block`
  std::size_t sig_entry_end_ = 0;    // just past the signature bytes
};

// Decodes and checks a commit block. Throws DecodeError when the bytes are
// not canonical DAG-CBOR, and VerifyError(Check::commit, <field>, …) for a
// commit that is not a version 3 commit: a missing, unknown or mistyped field
// (`subject()` names it; empty when the block is not a map), a version other
// than 3, a `did` that is not DID syntax, a `rev` that is not a TID, `data` or
// `prev` that is not a sha2-256 dag-cbor CID, a `sig` that is not 64 bytes.
Commit decode_commit(std::span<const std::byte> block);

// Throws VerifyError(Check::signature, commit.did, …) unless `commit.sig` is
// a valid low-S signature of the unsigned commit by `key`. Does not allocate
// unless it throws.
void verify_commit_signature(const Commit& commit, const PublicKey& key);

// Throws VerifyError(Check::commit, "did", …) when the commit names another
// repository than `expected_did`.
void check_commit_did(const Commit& commit, std::string_view expected_did);

}  // namespace atdata::atproto
