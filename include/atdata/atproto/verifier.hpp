#pragma once
// Verifier: everything a consumer of the event stream must check before it
// believes a #commit, in one call. Given a decoded frame and the account's
// signing key it checks, in this order,
//   1. the blocks CAR: well-formed, every block's bytes hash to its CID;
//   2. the CAR's root is the frame's `commit`, and that block is present;
//   3. the commit object: version 3, `did` is the frame's repo, `rev` is the
//      frame's rev;
//   4. the commit signature, with the key (low-S only);
//   5. every op against the tree under the commit's `data`: create/update
//      paths map to the op's CID, delete paths are absent, proven from the
//      blocks the frame carries; created/updated records are in the CAR;
//   6. when the frame names `prevData` (the root before the commit) and the
//      options ask for it: undoing the ops on the partial tree gives back
//      prevData, so the frame says everything that changed.
// and returns the verified record operations, or throws VerifyError naming
// the check that failed and what it was about (block CID, path, field), with
// the byte offset in the frame where there is one. Bytes that do not even
// parse are DecodeError, also with the frame offset. Sans-I/O; the key comes
// from the caller (resolved from the account's DID document and cached: see
// PublicKey::from_did_document).
//
// Results are views into the frame's bytes: keep the buffer alive while
// using them.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/commit.hpp"
#include "atdata/atproto/event_frame.hpp"
#include "atdata/atproto/mst.hpp"
#include "atdata/atproto/signing_key.hpp"
#include "atdata/error.hpp"  // VerifyError, DecodeError: what the checks throw

namespace atdata::atproto {

struct VerifiedOp {
  RepoOp::Action action = RepoOp::Action::create;
  std::string_view path;  // "collection/rkey"
  std::string_view collection() const noexcept { return path.substr(0, path.find('/')); }
  std::string_view rkey() const noexcept { return path.substr(path.find('/') + 1); }
  std::span<const std::byte> cid;     // the record's CID; empty for delete
  std::span<const std::byte> prev;    // the record's CID before; empty when the frame does not say
  std::span<const std::byte> record;  // the record block (DAG-CBOR); empty for delete
};

struct VerifiedCommit {
  std::string_view did;
  std::string_view rev;
  std::optional<std::string_view> since;
  std::int64_t seq = 0;
  Commit commit;
  std::vector<VerifiedOp> ops;
  // Blocks of the frame (views into it), for callers that want more than
  // the op records.
  BlockMap blocks;
};

struct VerifierOptions {
  VerifierOptions() = default;  // not an aggregate (see XrpcCall)
  // Step 6. On by default; frames without prevData skip it either way.
  bool check_prev_data = true;
  MstLimits mst;
  DagCborLimits limits;
  std::size_t max_blocks = 100'000;  // blocks in one frame's CAR
};

class Verifier {
 public:
  explicit Verifier(VerifierOptions options = {}) : options_(options) {}
  const VerifierOptions& options() const noexcept { return options_; }

  // A #commit frame. Throws VerifyError / DecodeError as described above, or
  // InvalidArgument when `frame` is not a #commit. A tooBig commit carries
  // no blocks and cannot be verified: VerifyError(Check::commit, "tooBig").
  VerifiedCommit verify_commit(const EventFrame& frame, const PublicKey& key) const;
  // A #sync frame: steps 1–4 on its commit; returns the commit (its `data`
  // is the account's current tree, to compare with local state).
  Commit verify_sync(const EventFrame& frame, const PublicKey& key) const;

  // Every check but the signature (step 4), for frames whose source is
  // already trusted (a relay that verifies, a local replay) or whose key is
  // not at hand (a debugging tool).
  VerifiedCommit verify_commit_unsigned(const EventFrame& frame) const;
  Commit verify_sync_unsigned(const EventFrame& frame) const;

 private:
  VerifiedCommit commit_impl(const EventFrame& frame, const PublicKey* key) const;
  Commit sync_impl(const EventFrame& frame, const PublicKey* key) const;
  VerifierOptions options_;
};

}  // namespace atdata::atproto
