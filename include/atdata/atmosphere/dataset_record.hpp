#pragma once
// `ac.foundation.dataset.record` dataset index records.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "atdata/atmosphere/datetime.hpp"

namespace atdata::atmosphere {

// Later upstream per-shard checksum `{algorithm, digest}` (read only).
struct ShardChecksum {
  std::string algorithm;
  std::string digest;
  friend bool operator==(const ShardChecksum&, const ShardChecksum&) = default;
};

// One PDS blob shard. `ref` is the blob reference object exactly as uploadBlob
// returned it (`{"$type":"blob","ref":{"$link":CID},"mimeType","size"}`); the
// Python atdata writes it verbatim, so hand-built objects are kept as given.
struct BlobEntry {
  boost::json::object ref;
  std::optional<ShardChecksum> checksum;  // later upstream `{blob, checksum}` items

  // `ref.$link` when it is a non-empty string, else "" (such blobs are skipped by readers).
  std::string cid() const;
  friend bool operator==(const BlobEntry&, const BlobEntry&) = default;
};

struct StorageLocation {
  // external: `storageExternal{urls}` or later `storageHttp{shards[].url}`;
  // blobs: `storageBlobs`; unknown: anything else, kept in `raw`.
  enum class Kind { external, blobs, unknown };
  Kind kind = Kind::external;
  std::vector<std::string> urls;                            // verbatim, brace patterns unexpanded
  std::vector<std::optional<ShardChecksum>> url_checksums;  // parallel to urls when read from storageHttp
  std::vector<BlobEntry> blobs;
  boost::json::object raw;  // the storage object as read (all kinds); not used by to_json
  std::string type;         // `$type` as read ("" for built locations)

  static StorageLocation external(std::vector<std::string> urls);
  static StorageLocation from_blob_refs(std::vector<boost::json::object> refs);

  // Seed form: storageExternal{urls} for external, storageBlobs{blobs} otherwise.
  boost::json::object to_json() const;
  static StorageLocation from_json(const boost::json::value& v, std::string_view path);

  friend bool operator==(const StorageLocation& a, const StorageLocation& b);
};

struct DatasetRecord {
  std::string name;
  std::string schema_ref;  // AT-URI of the schema record (not validated, like Python atdata)
  StorageLocation storage;
  std::string description;  // written only when non-empty
  std::vector<std::string> tags;
  std::string license;
  Timestamp created_at = now_utc();
  // msgpack encoding of the caller's metadata map; written as {"$bytes": base64}.
  std::optional<std::vector<std::byte>> metadata;
  std::string metadata_url;  // `metadataUrl` (read by Python atdata, written only when non-empty)

  boost::json::object to_record() const;
  // Reads `ac.foundation.dataset.record`, `…entry` and `science.alt.dataset.entry`.
  // `metadata` may be {"$bytes": base64 with or without padding}. A later-upstream
  // JSON-object metadata is kept in `metadata_object` instead.
  // Throws atdata::RecordError naming the missing or mistyped member.
  static DatasetRecord from_record(const boost::json::value& record);

  // Later upstream writes `metadata` as a JSON object; kept here when read (never written).
  std::optional<boost::json::object> metadata_object;

  friend bool operator==(const DatasetRecord& a, const DatasetRecord& b);
};

}  // namespace atdata::atmosphere
