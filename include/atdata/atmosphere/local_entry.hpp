#pragma once
// LocalDatasetEntry: a dataset in the local index, byte-compatible with Python
// atdata's `atdata.local.LocalDatasetEntry`. Its key is the entry CID: the
// DAG-CBOR map {schema_ref, data_urls} (name and metadata do not take part),
// hashed with SHA-256, as a CIDv1 dag-cbor in base32 ("bafyrei…"). Inserting
// the same URLs under the same schema again therefore addresses the same entry.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

#include "atdata/atmosphere/index_entry.hpp"

namespace atdata::atmosphere {

// The entry CID of (schema_ref, data_urls), exactly as Python atdata computes it.
std::string local_entry_cid(std::string_view schema_ref, std::span<const std::string> data_urls);

class LocalDatasetEntry : public IndexEntry {
 public:
  LocalDatasetEntry() = default;
  // The CID is computed from schema_ref and data_urls.
  LocalDatasetEntry(std::string name, std::string schema_ref, std::vector<std::string> data_urls,
                    std::optional<boost::json::object> metadata = std::nullopt);

  // Equal to ref().
  const std::string& cid() const noexcept { return ref(); }
  // Python's optional `legacy_uuid` field; empty when absent.
  const std::string& legacy_uuid() const noexcept { return legacy_uuid_; }

  // Python's legacy accessors: the first URL (or "") and the schema ref.
  std::string wds_url() const { return data_urls().empty() ? std::string() : data_urls().front(); }
  const std::string& sample_kind() const noexcept { return schema_ref(); }

  // Trusts `cid` as stored (Python does too); LocalIndex checks it.
  static LocalDatasetEntry stored(std::string cid, std::string name, std::string schema_ref,
                                  std::vector<std::string> data_urls,
                                  std::optional<boost::json::object> metadata, std::string legacy_uuid = {});

 private:
  LocalDatasetEntry(IndexEntry base, std::string legacy_uuid)
      : IndexEntry(std::move(base)), legacy_uuid_(std::move(legacy_uuid)) {}
  std::string legacy_uuid_;
};

namespace detail {

// One Redis hash field: name and raw value bytes.
using HashField = std::pair<std::string, std::string>;

// The hash fields Python's `write_to` writes, in its order: name, schema_ref,
// data_urls (msgpack array of str), cid, then metadata (msgpack map) and
// legacy_uuid when present.
std::vector<HashField> encode_entry_fields(const LocalDatasetEntry& entry);

// The value of the field `name`, or null when there is none.
const std::string* find_field(std::span<const HashField> fields, std::string_view name) noexcept;

// The inverse: fields in any order, unknown ones ignored, an absent `cid`
// recomputed from the content (as Python does). Throws atdata::DecodeError naming the field that is missing
// or malformed (listings skip and report such entries).
LocalDatasetEntry decode_entry_fields(std::span<const HashField> fields);

// msgpack array of msgpack str, as `msgpack.packb(list_of_str)`.
std::string encode_url_list(std::span<const std::string> urls);
std::vector<std::string> decode_url_list(std::string_view bytes);

}  // namespace detail

}  // namespace atdata::atmosphere
