#pragma once
// RepoEvent: one event of a repository event stream, owned (no views into a
// frame), as delivered by both the firehose subscriber (subscribeRepos,
// binary DAG-CBOR frames, verified) and the Jetstream client (JSON). Consumers
// such as the discovery catalogue see one interface whatever the source.
//
// `cursor` is the value to resume after: the firehose `seq`, or Jetstream's
// `time_us`. A consumer that persists it with what it applied, and passes it
// back as the subscriber's starting cursor, resumes with no gap and no
// duplicate.

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "atdata/atproto/event_frame.hpp"

namespace atdata::atproto {

// One record create / update / delete of a commit.
struct RecordChange {
  RepoOp::Action action = RepoOp::Action::create;
  std::string collection;
  std::string rkey;
  std::string cid;             // the record's CID (text, base32); empty for delete
  boost::json::object record;  // the record in ATProto JSON form ($link, $bytes); empty for delete
};

struct RepoEvent {
  enum class Kind {
    commit,    // did, rev, changes
    sync,      // did, rev: the repository was reset; re-read it whole
    identity,  // did, handle: re-resolve the identity
    account,   // did, active, status
    info,      // info_name / message from the server (e.g. "OutdatedCursor")
    rejected,  // a frame that failed decoding or verification: `error` says why; nothing to apply
  };
  Kind kind = Kind::commit;
  std::string source;       // the host (subscription URL) the event came from
  std::int64_t cursor = 0;  // resume-after value; 0 when the event carries none (info)
  std::string did;
  std::string rev;
  std::string time;                   // the server's timestamp (ISO 8601)
  std::vector<RecordChange> changes;  // commit: the ops the subscriber was asked for
  std::optional<std::string> handle;  // identity
  bool active = true;                 // account
  std::optional<std::string> status;  // account, when inactive
  std::string info_name;              // info
  std::string message;                // info: its message; rejected: the error
  std::string error_check;            // rejected: VerifyError::check_name(), or "decode"
};

const char* to_string(RepoEvent::Kind kind) noexcept;

}  // namespace atdata::atproto
