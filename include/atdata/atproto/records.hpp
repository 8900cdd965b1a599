#pragma once
// Value types of com.atproto.repo record and blob calls.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace atdata::atproto {

// What createRecord / putRecord answer.
struct RecordRef {
  std::string uri;  // at://<did>/<collection>/<rkey>
  std::string cid;  // CID of the record block (dag-cbor, "bafyrei…")
};

// A record as getRecord / listRecords return it: uri + cid + value (Python atdata 0.2
// discarded uri and cid; they are kept here so listed records can be
// addressed and checked).
struct Record {
  std::string uri;
  std::string cid;
  boost::json::value value;
};

struct RecordPage {
  std::vector<Record> records;
  // Pass back to get the next page. The reference PDS sets it on every
  // non-empty page, so the end is an empty page or an absent cursor.
  std::optional<std::string> cursor;
};

struct CreateRecordOptions {
  CreateRecordOptions() = default;  // not an aggregate: see XrpcCall (xrpc_client.hpp)
  std::string rkey;                 // empty: the PDS assigns a TID
  bool validate = false;            // the PDS does not know ac.foundation.dataset.* lexicons
  std::string swap_commit;          // CAS on the repo head, when not empty
};

struct PutRecordOptions {
  PutRecordOptions() = default;  // not an aggregate: see XrpcCall (xrpc_client.hpp)
  bool validate = false;
  std::string swap_record;  // CAS on the record's current CID, when not empty
  std::string swap_commit;
};

struct ListRecordsOptions {
  ListRecordsOptions() = default;  // not an aggregate: see XrpcCall (xrpc_client.hpp)
  std::string repo;                // DID or handle; empty: the logged-in account
  int limit = 100;                 // 1..100 (checked before sending)
  std::string cursor;              // empty: first page
  bool reverse = false;            // false: newest rkey first (the PDS default)
};

// One applyWrites result, in the order of the ops (empty uri/cid for deletes).
struct WriteResult {
  std::string uri;
  std::string cid;
};

// {"$type":"blob","ref":{"$link":CID},"mimeType":…,"size":…} — the blob
// reference records embed (docs/format.md, "ATProto records").
struct BlobRef {
  std::string cid;
  std::string mime_type;
  std::uint64_t size = 0;

  boost::json::object to_json() const;
  // Accepts the object above (or the uploadBlob answer {"blob": {…}}).
  // Throws RecordError naming the bad member.
  static BlobRef from_json(const boost::json::value& v);
};

}  // namespace atdata::atproto
