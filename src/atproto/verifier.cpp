#include "atdata/atproto/verifier.hpp"

#include <algorithm>
#include <string>

#include "atdata/error.hpp"

namespace atdata::atproto {
namespace {

using Check = VerifyError::Check;

bool same(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Offset of `inner` (a view into the frame) from the frame's first byte.
std::uint64_t offset_in(const EventFrame& frame, std::span<const std::byte> inner) {
  if (frame.bytes.empty() || inner.data() < frame.bytes.data() ||
      inner.data() > frame.bytes.data() + frame.bytes.size())
    return 0;
  return static_cast<std::uint64_t>(inner.data() - frame.bytes.data());
}

// Steps 1 and 2: the CAR's blocks, CID-checked, and the commit block.
struct CarCommit {
  BlockMap blocks;
  Commit commit;
};

CarCommit read_car(const EventFrame& frame, std::span<const std::byte> car,
                   std::span<const std::byte> commit_cid, const VerifierOptions& options) {
  const std::uint64_t base = offset_in(frame, car);
  CarCommit out;
  std::vector<std::span<const std::byte>> roots;
  try {
    CarOptions co;
    co.limits = options.limits;
    co.max_blocks = options.max_blocks;
    CarReader reader(car, co);
    roots = reader.roots();
    out.blocks = BlockMap::from_car(reader);
  } catch (const VerifyError& e) {
    throw e.rebased("blocks: ", base);
  } catch (const DecodeError& e) {
    throw e.rebased("blocks: ", base);
  }
  if (commit_cid.empty()) {
    if (roots.size() != 1) {
      throw VerifyError(Check::commit, "blocks",
                        "the blocks CAR has " + std::to_string(roots.size()) +
                            " roots; a #sync CAR has exactly one, its commit");
    }
    commit_cid = roots.front();
  } else if (roots.size() != 1 || !same(roots.front(), commit_cid)) {
    throw VerifyError(Check::commit, "commit",
                      "the blocks CAR's root is not the frame's commit " + format_binary_cid(commit_cid),
                      base);
  }
  const auto block = out.blocks.find(commit_cid);
  if (!block) {
    throw VerifyError(Check::block_missing, format_binary_cid(commit_cid),
                      "the commit block " + format_binary_cid(commit_cid) + " is not in the frame's blocks",
                      base);
  }
  try {
    out.commit = decode_commit(*block);
  } catch (const VerifyError& e) {
    throw e.rebased("commit " + format_binary_cid(commit_cid) + ": ", offset_in(frame, *block));
  } catch (const DecodeError& e) {
    throw e.rebased("commit block: ", offset_in(frame, *block));
  }
  return out;
}

// Steps 3 and 4.
void check_commit(const Commit& commit, std::string_view did, std::string_view rev, const PublicKey* key) {
  check_commit_did(commit, did);
  if (commit.rev != rev) {
    throw VerifyError(
        Check::commit, "rev",
        "the commit's rev " + std::string(commit.rev) + " is not the frame's rev " + std::string(rev));
  }
  if (key) verify_commit_signature(commit, *key);
}

}  // namespace

VerifiedCommit Verifier::verify_commit(const EventFrame& frame, const PublicKey& key) const {
  return commit_impl(frame, &key);
}
VerifiedCommit Verifier::verify_commit_unsigned(const EventFrame& frame) const {
  return commit_impl(frame, nullptr);
}
Commit Verifier::verify_sync(const EventFrame& frame, const PublicKey& key) const {
  return sync_impl(frame, &key);
}
Commit Verifier::verify_sync_unsigned(const EventFrame& frame) const {
  return sync_impl(frame, nullptr);
}

VerifiedCommit Verifier::commit_impl(const EventFrame& frame, const PublicKey* key) const {
  const auto* event = std::get_if<CommitEvent>(&frame.event);
  if (!event) throw InvalidArgument("Verifier::verify_commit: the frame is not a #commit");
  if (event->too_big) {
    throw VerifyError(Check::commit, "tooBig",
                      "commit " + std::string(event->rev) + " of " + std::string(event->repo) +
                          " is tooBig: the frame leaves its blocks out, fetch the repository instead");
  }
  CarCommit cc = read_car(frame, event->blocks, event->commit, options_);
  check_commit(cc.commit, event->repo, event->rev, key);

  VerifiedCommit out;
  out.did = event->repo;
  out.rev = event->rev;
  out.since = event->since;
  out.seq = event->seq;
  out.ops.reserve(event->ops.size());
  for (const RepoOp& op : event->ops) {
    const bool removes = op.action == RepoOp::Action::remove;
    mst_prove(cc.blocks, cc.commit.data, op.path,
              removes ? std::nullopt : std::optional<std::span<const std::byte>>(op.cid), options_.mst);
    VerifiedOp v;
    v.action = op.action;
    v.path = op.path;
    v.cid = op.cid;
    v.prev = op.prev;
    if (!removes) {
      const auto record = cc.blocks.find(op.cid);
      if (!record) {
        throw VerifyError(Check::block_missing, format_binary_cid(op.cid),
                          "the record " + format_binary_cid(op.cid) + " of " + std::string(op.path) +
                              " is not in the frame's blocks");
      }
      v.record = *record;
    }
    out.ops.push_back(v);
  }
  if (options_.check_prev_data && !event->prev_data.empty()) {
    std::vector<MstOp> undo;
    undo.reserve(event->ops.size());
    for (const RepoOp& op : event->ops) {
      if (op.action != RepoOp::Action::create && op.prev.empty()) {
        throw VerifyError(Check::mst_proof, std::string(op.path),
                          std::string(to_string(op.action)) + " of " + std::string(op.path) +
                              " has no prev CID, so the commit cannot be checked against prevData");
      }
      MstOp u;
      u.path = op.path;
      if (!op.cid.empty()) u.cid = op.cid;
      if (!op.prev.empty()) u.prev = op.prev;
      undo.push_back(u);
    }
    const auto root = mst_invert(cc.blocks, cc.commit.data, undo, options_.mst);
    if (!same(root, event->prev_data)) {
      throw VerifyError(Check::mst_proof, "prevData",
                        "undoing the commit's ops gives the tree " + format_binary_cid(root) +
                            ", not the frame's prevData " + format_binary_cid(event->prev_data) +
                            " (the frame does not list every change)");
    }
  }
  out.commit = cc.commit;
  out.blocks = std::move(cc.blocks);
  return out;
}

Commit Verifier::sync_impl(const EventFrame& frame, const PublicKey* key) const {
  const auto* event = std::get_if<SyncEvent>(&frame.event);
  if (!event) throw InvalidArgument("Verifier::verify_sync: the frame is not a #sync");
  CarCommit cc = read_car(frame, event->blocks, {}, options_);
  check_commit(cc.commit, event->did, event->rev, key);
  return cc.commit;
}

}  // namespace atdata::atproto
