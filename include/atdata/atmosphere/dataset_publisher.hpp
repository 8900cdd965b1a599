#pragma once
// Publishing dataset index records (`ac.foundation.dataset.record`) with
// external URLs or PDS blobs, and reading them back (api-surface §5).

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/listed.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/core/msgpack.hpp"
#include "atdata/core/sample.hpp"
#include "atdata/core/shared_bytes.hpp"
#include "atdata/core/value.hpp"
#include "atdata/error.hpp"

namespace atdata::atmosphere {

struct DatasetPublishOptions {
  std::string name;  // required
  std::string description;
  std::vector<std::string> tags;
  std::string license;                          // SPDX id suggested
  std::optional<boost::json::object> metadata;  // written as msgpack {"$bytes"}
  std::string metadata_url;                     // `metadataUrl`, read by to_dataset
  std::string rkey;                             // empty = the PDS assigns a TID
  bool validate = true;                         // check against the shipped lexicon before writing
};

struct BlobPublishOptions {
  DatasetPublishOptions record;
  // The seed's argument is ignored on the wire (the PDS sniffs the type);
  // kept for API parity and passed to upload_blob.
  std::string mime_type = "application/x-tar";
  std::size_t max_in_flight = 4;  // concurrent uploads; the record keeps input order
  // Called after each finished upload with (uploaded so far, total), one call
  // at a time; the dataset record is written after the last one.
  std::function<void(std::size_t, std::size_t)> on_progress;
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

// DatasetPublisher::publish (the seed's `publish(dataset, …)`).
struct PublishDatasetOptions {
  std::string name;        // required
  std::string schema_uri;  // empty: publish the dataset's sample type first
  bool auto_publish_schema = true;
  std::string schema_version = "1.0.0";  // of the auto-published schema
  std::string description;
  std::vector<std::string> tags;
  std::string license;
  std::string rkey;
  bool validate = true;  // check against the shipped lexicon before writing
};

class DatasetPublisher {
 public:
  explicit DatasetPublisher(atproto::AtmosphereClient& client) : client_(&client) {}

  // A dataset object with url(), a sample_type and fetch_metadata() (e.g.
  // atdata::Dataset<T>): external storage [ds.url()] verbatim; the schema is
  // published first when schema_uri is empty; the dataset's metadata (from its
  // metadata_url) is written as msgpack. Checked before any I/O:
  // InvalidArgument "schema_uri is required when auto_publish_schema=False",
  // and (unless !validate) the record against the lexicon (RecordError), so
  // an invalid dataset never leaves a published schema behind.
  template <class D>
  requires requires(const D& d) {
    { d.url() } -> std::convertible_to<std::string>;
    typename D::sample_type;
    d.fetch_metadata();
  }
  boost::asio::awaitable<AtUri> publish(D ds, PublishDatasetOptions options) {
    if (options.schema_uri.empty() && !options.auto_publish_schema) {
      throw InvalidArgument("schema_uri is required when auto_publish_schema=False");
    }
    if (options.name.empty()) throw InvalidArgument("dataset name is required");
    return publish_dataset(std::move(ds), std::move(options));
  }

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
  // Checks the record against the shipped lexicon first (RecordError) unless !validate.
  boost::asio::awaitable<AtUri> publish_record(DatasetRecord record, std::string rkey = {},
                                               bool validate = true);

  // The lexicon check of publish_record for a record still missing what I/O
  // will provide: an empty schema_ref stands for a schema about to be
  // published and, with pending_blobs, blob storage of that many uploads.
  static void check_draft(DatasetRecord draft, std::optional<std::size_t> pending_blobs = std::nullopt);

 private:
  template <class D>
  boost::asio::awaitable<AtUri> publish_dataset(D ds, PublishDatasetOptions o) {
    std::string schema_uri = std::move(o.schema_uri);
    if (o.validate) {
      DatasetPublishOptions draft;
      draft.name = o.name;
      draft.description = o.description;
      draft.tags = o.tags;
      draft.license = o.license;
      DatasetRecord rec = make_record(schema_uri, draft);
      std::vector<std::string> urls;
      urls.push_back(std::string(ds.url()));
      rec.storage = StorageLocation::external(std::move(urls));
      check_draft(std::move(rec));
    }
    if (schema_uri.empty()) {
      SchemaPublisher schemas(*client_);
      SchemaPublishOptions so;
      so.version = o.schema_version;
      so.validate = o.validate;
      SampleSchema sample_schema = schema_of<typename D::sample_type>();
      AtUri s = co_await schemas.publish(std::move(sample_schema), std::move(so));
      schema_uri = s.str();
    }
    DatasetPublishOptions po;
    po.name = std::move(o.name);
    po.description = std::move(o.description);
    po.tags = std::move(o.tags);
    po.license = std::move(o.license);
    DatasetRecord rec = make_record(std::move(schema_uri), po);
    std::vector<std::string> urls;
    urls.push_back(std::string(ds.url()));
    rec.storage = StorageLocation::external(std::move(urls));
    std::optional<Value> md = co_await ds.fetch_metadata();
    if (md) {
      std::vector<std::byte> bytes;
      msgpack::Writer w(bytes);
      msgpack::write_value(w, *md);
      rec.metadata = std::move(bytes);
    }
    co_return co_await publish_record(std::move(rec), std::move(o.rkey), o.validate);
  }
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
  // The same for a record already fetched from `uri`.
  boost::asio::awaitable<std::vector<std::string>> data_urls_of(AtUri uri, DatasetRecord rec);

 private:
  atproto::AtmosphereClient* client_;
};

}  // namespace atdata::atmosphere
