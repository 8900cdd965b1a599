#pragma once
// Publishing dataset index records (`ac.foundation.dataset.record`) with
// external URLs or PDS blobs, and reading them back (api-surface §5).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/listed.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/core/shared_bytes.hpp"

namespace atdata::atmosphere {

struct DatasetPublishOptions {
  std::string name;  // required
  std::string description;
  std::vector<std::string> tags;
  std::string license;                          // SPDX id suggested
  std::optional<boost::json::object> metadata;  // written as msgpack {"$bytes"}
  std::string metadata_url;                     // `metadataUrl`, read by to_dataset
  std::string rkey;                             // empty = the PDS assigns a TID
};

struct BlobPublishOptions {
  DatasetPublishOptions record;
  // The seed's argument is ignored on the wire (the PDS sniffs the type);
  // kept for API parity and passed to upload_blob.
  std::string mime_type = "application/x-tar";
  std::size_t max_in_flight = 4;  // concurrent uploads; the record keeps input order
};

// Storage accessors on a record (what the loader methods do after getRecord),
// with the seed's errors as RecordError:
//   "Unknown storage type: <type>",
//   "Dataset uses blob storage, not external URLs. Use get_blob_urls() instead.",
//   "Dataset uses external URL storage, not blobs. Use get_urls() instead."
std::string storage_type_of(const DatasetRecord& rec);  // "external" | "blobs"
const std::vector<std::string>& urls_of(const DatasetRecord& rec);
const std::vector<BlobEntry>& blobs_of(const DatasetRecord& rec);
// nullopt without metadata; DecodeError for bytes that are not a msgpack map.
std::optional<boost::json::object> metadata_of(const DatasetRecord& rec);

class DatasetPublisher {
 public:
  explicit DatasetPublisher(atproto::AtmosphereClient& client) : client_(&client) {}

  // External storage, URLs verbatim (brace patterns unexpanded, order kept).
  boost::asio::awaitable<AtUri> publish_with_urls(std::vector<std::string> urls, std::string schema_uri,
                                                  DatasetPublishOptions options);
  // Uploads every shard (≤ max_in_flight at once), then one record listing the
  // blob refs in input order. A failure leaves earlier blobs unreferenced (the
  // PDS garbage-collects them).
  boost::asio::awaitable<AtUri> publish_with_blobs(std::vector<SharedBytes> blobs, std::string schema_uri,
                                                   BlobPublishOptions options);
  // As publish_with_blobs, streaming each file from disk.
  boost::asio::awaitable<AtUri> publish_with_blob_files(std::vector<std::string> paths,
                                                        std::string schema_uri, BlobPublishOptions options);
  boost::asio::awaitable<AtUri> publish_record(DatasetRecord record, std::string rkey = {});

 private:
  DatasetRecord make_record(std::string schema_uri, const DatasetPublishOptions& o) const;
  atproto::AtmosphereClient* client_;
};

class DatasetLoader {
 public:
  explicit DatasetLoader(atproto::AtmosphereClient& client) : client_(&client) {}

  // RecordError "Record at <uri> is not a dataset record. Expected
  // $type='ac.foundation.dataset.record', got '<actual>'" for other types.
  boost::asio::awaitable<DatasetRecord> get(AtUri uri);
  boost::asio::awaitable<DatasetRecord> get(std::string_view uri) { return get(AtUri::parse(uri)); }
  // All pages of `repo` (empty = own; another account is read on its own PDS).
  boost::asio::awaitable<std::vector<Listed<DatasetRecord>>> list_all(std::string repo = {},
                                                                      std::size_t max = 0);

  boost::asio::awaitable<std::string> get_storage_type(AtUri uri);
  boost::asio::awaitable<std::vector<std::string>> get_urls(AtUri uri);
  boost::asio::awaitable<std::vector<BlobEntry>> get_blobs(AtUri uri);
  // com.atproto.sync.getBlob URLs on the PDS of the record's authority, one
  // per blob with a non-empty CID, in order.
  boost::asio::awaitable<std::vector<std::string>> get_blob_urls(AtUri uri);
  boost::asio::awaitable<std::optional<boost::json::object>> get_metadata(AtUri uri);
  // The shard URLs a Dataset reads: external URLs, or blob URLs for blob storage.
  // RecordError "Dataset record has no storage URLs" when there are none.
  boost::asio::awaitable<std::vector<std::string>> get_data_urls(AtUri uri);

 private:
  atproto::AtmosphereClient* client_;
};

}  // namespace atdata::atmosphere
