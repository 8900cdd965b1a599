#pragma once
// One frame of an ATProto event stream (com.atproto.sync.subscribeRepos, the
// "firehose"), decoded from the bytes of one binary WebSocket message.
// Sans-I/O and zero-copy: every string, CID and byte view in the result
// points into the frame's buffer, which must outlive it.
//
// A frame is two DAG-CBOR values back to back: a header {op, t} and a body.
// op 1 is a message whose body type is named by t ("#commit", "#sync",
// "#identity", "#account", "#info"); op -1 is an error frame
// ({error, message}), after which the server closes the stream. A message
// type this library does not know is returned as UnknownEvent with its
// decoded body, never an error, so a newer server does not break readers.
//
// Decoding checks structure (canonical DAG-CBOR, required fields and their
// types); it does not check signatures, block CIDs or MST proofs: that is
// Verifier's job (verifier.hpp).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "atdata/atproto/dag_cbor.hpp"

namespace atdata::atproto {

// A record mutation of a #commit.
struct RepoOp {
  enum class Action { create, update, remove };
  Action action = Action::create;
  std::string_view path;            // "collection/rkey"
  std::span<const std::byte> cid;   // new record CID (binary); empty for remove
  std::span<const std::byte> prev;  // previous record CID; empty when absent
  std::string_view collection() const noexcept { return path.substr(0, path.find('/')); }
  std::string_view rkey() const noexcept {
    const auto slash = path.find('/');
    return slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
};

const char* to_string(RepoOp::Action action) noexcept;  // "create", "update", "delete"

struct CommitEvent {
  std::int64_t seq = 0;
  std::string_view repo;                  // the account's DID
  std::string_view rev;                   // the new commit's revision (TID)
  std::optional<std::string_view> since;  // previous revision, null for the first commit
  std::span<const std::byte> commit;      // CID of the commit block
  std::span<const std::byte> blocks;      // CAR with the commit, changed MST nodes, new records
  std::vector<RepoOp> ops;
  std::vector<std::span<const std::byte>> blobs;  // deprecated, usually empty
  std::span<const std::byte> prev_data;           // MST root before this commit; empty when absent
  std::string_view time;
  bool too_big = false;  // deprecated: blocks/ops were left out
  bool rebase = false;   // deprecated
};

// The account's current commit, without a diff (sent after a repo import or
// to resynchronize consumers).
struct SyncEvent {
  std::int64_t seq = 0;
  std::string_view did;
  std::string_view rev;
  std::span<const std::byte> blocks;  // CAR whose root is the commit block
  std::string_view time;
};

// Handle or DID document changed: consumers should re-resolve the identity.
struct IdentityEvent {
  std::int64_t seq = 0;
  std::string_view did;
  std::string_view time;
  std::optional<std::string_view> handle;
};

struct AccountEvent {
  std::int64_t seq = 0;
  std::string_view did;
  std::string_view time;
  bool active = false;
  std::optional<std::string_view> status;  // "takendown", "deactivated", … when inactive
};

// Advisory from the server ("OutdatedCursor"); no sequence number.
struct InfoEvent {
  std::string_view name;
  std::optional<std::string_view> message;
};

// op -1: the stream ends ("FutureCursor", "ConsumerTooSlow", …).
struct ErrorFrame {
  std::string_view error;
  std::optional<std::string_view> message;
};

// A message type not listed above (`t` of the header); `body` is the decoded
// body for callers that know it.
struct UnknownEvent {
  std::string_view type;
};

using FrameEvent =
    std::variant<CommitEvent, SyncEvent, IdentityEvent, AccountEvent, InfoEvent, ErrorFrame, UnknownEvent>;

struct EventFrame {
  std::int64_t op = 1;    // 1 message, -1 error
  std::string_view type;  // header `t` ("#commit"); empty for error frames
  DagCborValue header;
  DagCborValue body;
  FrameEvent event;
  std::size_t body_offset = 0;       // where the body starts in the frame
  std::span<const std::byte> bytes;  // the whole frame

  // The event's sequence number (commit, sync, identity, account; also an
  // unknown message's integer `seq`), nullopt otherwise.
  std::optional<std::int64_t> seq() const;
};

struct FrameOptions {
  FrameOptions() = default;
  DagCborLimits limits;
  // Larger frames are rejected before decoding. Relays send frames up to a
  // few MiB (a #commit's blocks are at most 2 MB).
  std::size_t max_frame_bytes = 8u << 20;
};

// Throws DecodeError (with the byte offset, and the body field when one is
// missing or mistyped) for anything that is not a well-formed frame.
EventFrame decode_event_frame(std::span<const std::byte> frame, const FrameOptions& options = {});

}  // namespace atdata::atproto
