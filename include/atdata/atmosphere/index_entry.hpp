#pragma once
// IndexEntry: one dataset as any index lists it (Python atdata's IndexEntry
// protocol): a name, the schema it was written with, its shard URLs and an
// optional metadata map. Both indexes return richer entries derived from it
// (AtmosphereIndexEntry adds the record and its AT-URI, LocalDatasetEntry its
// CID), so code written against `Index` sees the same four accessors.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>

namespace atdata::atmosphere {

class IndexEntry {
 public:
  IndexEntry() = default;
  IndexEntry(std::string name, std::string schema_ref, std::vector<std::string> data_urls,
             std::optional<boost::json::object> metadata, std::string ref)
      : name_(std::move(name)),
        schema_ref_(std::move(schema_ref)),
        data_urls_(std::move(data_urls)),
        metadata_(std::move(metadata)),
        ref_(std::move(ref)) {}

  const std::string& name() const noexcept { return name_; }
  // `local://schemas/<kind>@<version>` (local index) or the AT-URI of a
  // sampleSchema record (atmosphere).
  const std::string& schema_ref() const noexcept { return schema_ref_; }
  // Shard URLs as stored: brace patterns are not expanded. Empty for an
  // atmosphere dataset whose shards are PDS blobs (DatasetLoader resolves those).
  const std::vector<std::string>& data_urls() const noexcept { return data_urls_; }
  const std::optional<boost::json::object>& metadata() const noexcept { return metadata_; }
  // Where the entry lives, in the form its index's get_dataset() accepts: the
  // entry CID of a local entry, the AT-URI of an atmosphere one.
  const std::string& ref() const noexcept { return ref_; }

  friend bool operator==(const IndexEntry&, const IndexEntry&) = default;

 private:
  std::string name_;
  std::string schema_ref_;
  std::vector<std::string> data_urls_;
  std::optional<boost::json::object> metadata_;
  std::string ref_;
};

}  // namespace atdata::atmosphere
