#pragma once
// The firehose subscriber's protocol logic, sans-I/O: one frame's bytes (and
// a key lookup) in, what the run loop must do out. No sockets, no clocks:
// tested from captured frames.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atdata/atproto/repo_event.hpp"
#include "atdata/atproto/signing_key.hpp"
#include "atdata/atproto/verifier.hpp"

namespace atdata::atproto::detail {

// `patterns`: exact NSIDs or prefixes ending in ".*"; empty matches all.
bool collection_matches(const std::vector<std::string>& patterns, std::string_view collection) noexcept;

struct FrameOutcome {
  enum class Kind {
    deliver,    // queue `event`
    skip,       // nothing to queue (an unknown message type); `seq` may still advance the cursor
    need_key,   // the commit must be verified with the key of `did`, which the lookup did not have
    fatal,      // the stream cannot continue: `error_name` (FutureCursor)
    reconnect,  // the host ended the stream with an error frame (ConsumerTooSlow, …): `event` is its info
                // event
  };
  Kind kind = Kind::deliver;
  RepoEvent event;
  std::optional<std::int64_t> seq;
  std::string did;  // need_key, and the repository of commits / syncs
  std::string error_name, message;
};

// What the first bytes of a frame say about it: enough to report and skip a
// frame too large to read whole. DAG-CBOR sorts map keys shortest first, so
// an event body's `seq` (and `repo` / `did`) come before its blocks.
struct FramePeek {
  std::string type;                 // header `t` ("#commit"); empty when not reached
  std::optional<std::int64_t> seq;  // absent when not within the prefix
  std::string did;                  // `repo` of a commit, `did` of the others
};
FramePeek peek_frame(std::span<const std::byte> prefix) noexcept;

class FirehoseTranslator {
 public:
  using KeyLookup = std::function<const PublicKey*(std::string_view did)>;

  FirehoseTranslator(std::string source, std::vector<std::string> collections, bool verify,
                     VerifierOptions verifier, std::size_t max_frame_bytes);

  // A frame whose seq is at or before `after` (one already queued, resent
  // after a reconnect) is skipped before any verification.
  FrameOutcome translate(std::span<const std::byte> frame, const KeyLookup& key,
                         std::optional<std::int64_t> after = std::nullopt) const;
  // A frame of `size` bytes of which only `prefix` was read (the rest was
  // discarded): rejected with check "size" and the seq it names, so the
  // cursor moves past it; skipped like translate() when at or before `after`.
  FrameOutcome oversized(std::span<const std::byte> prefix, std::size_t size,
                         std::optional<std::int64_t> after = std::nullopt) const;
  const std::string& source() const noexcept { return source_; }

 private:
  RepoEvent base(RepoEvent::Kind kind) const;
  RepoEvent commit_event(std::int64_t seq, std::string_view repo, std::string_view rev,
                         std::string_view time) const;
  FrameOutcome rejected(std::optional<std::int64_t> seq, std::string did, std::string check,
                        std::string message) const;

  std::string source_;
  std::vector<std::string> collections_;
  bool verify_;
  Verifier verifier_;
  std::size_t max_frame_bytes_;
};

}  // namespace atdata::atproto::detail
