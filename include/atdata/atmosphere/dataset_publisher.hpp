#pragma once
// Publishing dataset index records (`ac.foundation.dataset.record`) with
// external URLs or PDS blobs (Python's DatasetPublisher). Reading them back:
// dataset_loader.hpp.

#include <concepts>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/core/detail/chained_options.hpp"
#include "atdata/core/detail/string_range.hpp"
#include "atdata/core/msgpack.hpp"
#include "atdata/core/sample.hpp"
#include "atdata/core/shared_bytes.hpp"
#include "atdata/core/value.hpp"
#include "atdata/error.hpp"

namespace atdata::atmosphere {

// The options of every call that publishes a dataset record: publish(ds),
// publish_with_urls, publish_with_blobs, publish_with_blob_files and
// AtmosphereIndex::insert_dataset. Not an aggregate (GCC 12 corrupts
// aggregate temporaries inside co_await, see docs/gcc12.md): fill it member by
// member, or inline with the chainable setters:
//
//   co_await index.insert_dataset(ds, DatasetPublishOptions("mnist").with_tags("images", "mnist"));
class DatasetPublishOptions : public atdata::detail::ChainedOptions<DatasetPublishOptions> {
 public:
  DatasetPublishOptions() = default;
  explicit DatasetPublishOptions(std::string name_) : name(std::move(name_)) {}

  std::string name;  // required
  std::string description;
  std::vector<std::string> tags;
  std::string license;                          // SPDX id suggested
  std::optional<boost::json::object> metadata;  // written as msgpack {"$bytes"}
  std::string metadata_url;                     // `metadataUrl`, read by to_dataset
  std::string rkey;                             // empty = the PDS assigns a TID
  // Check the record against the shipped lexicon before writing (RecordError
  // with the validator's message); false writes it as given.
  bool validate = true;

  // For the calls that take no schema argument (publish(ds), insert_dataset):
  // the schema record's AT-URI; empty = publish the sample type's schema first
  // (version `schema_version`), unless auto_publish_schema is false, which
  // makes an empty schema_ref an InvalidArgument.
  std::string schema_ref;
  bool auto_publish_schema = true;
  std::string schema_version = "1.0.0";

  // Blob uploads (publish_with_blobs / publish_with_blob_files). The MIME type
  // is sent with each upload; the PDS sniffs its own.
  std::string mime_type = "application/x-tar";
  std::size_t max_in_flight = 4;  // concurrent uploads; the record keeps input order
  // Called after each finished upload with (uploaded so far, total), one call
  // at a time; the dataset record is written after the last one.
  std::function<void(std::size_t, std::size_t)> on_progress;

  DatasetPublishOptions&& with_name(std::string v) && { return set(name, std::move(v)); }
  DatasetPublishOptions&& with_description(std::string v) && { return set(description, std::move(v)); }
  DatasetPublishOptions&& with_license(std::string v) && { return set(license, std::move(v)); }
  DatasetPublishOptions&& with_metadata_url(std::string v) && { return set(metadata_url, std::move(v)); }
  DatasetPublishOptions&& with_rkey(std::string v) && { return set(rkey, std::move(v)); }
  DatasetPublishOptions&& with_schema_ref(std::string v) && { return set(schema_ref, std::move(v)); }
  DatasetPublishOptions&& with_schema_ref(const AtUri& v) && { return set(schema_ref, v.str()); }
  // A literal AT-URI would otherwise be ambiguous between the two above.
  DatasetPublishOptions&& with_schema_ref(const char* v) && { return set(schema_ref, std::string(v)); }
  DatasetPublishOptions&& with_auto_publish_schema(bool v) && { return set(auto_publish_schema, v); }
  DatasetPublishOptions&& with_schema_version(std::string v) && { return set(schema_version, std::move(v)); }
  DatasetPublishOptions&& with_mime_type(std::string v) && { return set(mime_type, std::move(v)); }
  DatasetPublishOptions&& with_max_in_flight(std::size_t v) && { return set(max_in_flight, v); }
  DatasetPublishOptions&& with_validate(bool v) && { return set(validate, v); }
  DatasetPublishOptions&& with_on_progress(std::function<void(std::size_t, std::size_t)> v) && {
    return set(on_progress, std::move(v));
  }
  // Tags as separate arguments (`with_tags("a", "b")`) or one range of strings.
  // A braced list is refused on purpose: it does not compile inside co_await
  // on GCC 12.
  template <class... S>
  requires(sizeof...(S) > 0 && (std::convertible_to<const S&, std::string_view> && ...)) DatasetPublishOptions
      && with_tags(const S&... v) && {
    tags.clear();
    (tags.emplace_back(std::string_view(v)), ...);
    return std::move(*this);
  }
  template <atdata::detail::StringRange R>
  DatasetPublishOptions&& with_tags(const R& range) && {
    tags.assign(std::ranges::begin(range), std::ranges::end(range));
    return std::move(*this);
  }
  // The whole metadata map (a named json::object), or one entry at a time:
  // `with_metadata("source", "training").with_metadata("rows", 1000)`.
  template <class O>
  requires std::same_as<std::remove_cvref_t<O>, boost::json::object> DatasetPublishOptions &&
      with_metadata(O&& map) && {
    metadata = std::forward<O>(map);
    return std::move(*this);
  }
  template <class V>
  requires std::constructible_from<boost::json::value, V> DatasetPublishOptions &&
      with_metadata(std::string_view key, V&& value) && {
    if (!metadata) metadata.emplace();
    (*metadata)[key] = boost::json::value(std::forward<V>(value));
    return std::move(*this);
  }
};

// Storage accessors on a record already fetched (the loader's get_* calls on
// a URI are these after getRecord), with Python atdata's errors as RecordError:
//   "Unknown storage type: <type>",
//   "Dataset uses blob storage, not external URLs. Use get_blob_urls() instead.",
//   "Dataset uses external URL storage, not blobs. Use get_urls() instead."
std::string get_storage_type(const DatasetRecord& rec);  // "external" | "blobs"
const std::vector<std::string>& get_urls(const DatasetRecord& rec);
const std::vector<BlobEntry>& get_blobs(const DatasetRecord& rec);
// nullopt without metadata; DecodeError for bytes that are not a msgpack map.
std::optional<boost::json::object> get_metadata(const DatasetRecord& rec);

class DatasetPublisher {
 public:
  explicit DatasetPublisher(atproto::AtmosphereClient& client) : client_(&client) {}

  // A dataset object with url(), a sample_type and fetch_metadata() (e.g.
  // atdata::Dataset<T>): external storage [ds.url()] verbatim; the schema is
  // `options.schema_ref`, or the sample type's, published first when that is
  // empty; the dataset's metadata (from its metadata_url) is written as
  // msgpack. Checked before any I/O: InvalidArgument "schema_uri is required
  // when auto_publish_schema=False", "dataset name is required", and (unless
  // !validate) the record against the lexicon (RecordError), so an invalid
  // dataset never leaves a published schema behind.
  template <class D>
  requires requires(const D& d) {
    { d.url() } -> std::convertible_to<std::string>;
    typename D::sample_type;
    d.fetch_metadata();
  }
  boost::asio::awaitable<AtUri> publish(D ds, DatasetPublishOptions options) {
    if (options.schema_ref.empty() && !options.auto_publish_schema) {
      throw InvalidArgument("schema_uri is required when auto_publish_schema=False");
    }
    if (options.name.empty()) throw InvalidArgument("dataset name is required");
    return publish_dataset(std::move(ds), std::move(options));
  }
  template <class D>
  requires requires(const D& d) {
    { d.url() } -> std::convertible_to<std::string>;
    typename D::sample_type;
    d.fetch_metadata();
  }
  boost::asio::awaitable<AtUri> publish(D ds, std::string name) {
    return publish(std::move(ds), DatasetPublishOptions(std::move(name)));
  }

  // External storage, URLs verbatim (brace patterns unexpanded, order kept).
  boost::asio::awaitable<AtUri> publish_with_urls(std::vector<std::string> urls, AtUri schema_uri,
                                                  DatasetPublishOptions options);
  boost::asio::awaitable<AtUri> publish_with_urls(std::vector<std::string> urls, AtUri schema_uri,
                                                  std::string name) {
    return publish_with_urls(std::move(urls), std::move(schema_uri), DatasetPublishOptions(std::move(name)));
  }
  // Uploads every shard (≤ max_in_flight at once), then one record listing the
  // blob refs in input order. A failure leaves earlier blobs unreferenced (the
  // PDS garbage-collects them).
  boost::asio::awaitable<AtUri> publish_with_blobs(std::vector<SharedBytes> blobs, AtUri schema_uri,
                                                   DatasetPublishOptions options);
  boost::asio::awaitable<AtUri> publish_with_blobs(std::vector<SharedBytes> blobs, AtUri schema_uri,
                                                   std::string name) {
    return publish_with_blobs(std::move(blobs), std::move(schema_uri),
                              DatasetPublishOptions(std::move(name)));
  }
  // As publish_with_blobs, streaming each file from disk.
  boost::asio::awaitable<AtUri> publish_with_blob_files(std::vector<std::string> paths, AtUri schema_uri,
                                                        DatasetPublishOptions options);
  // Checks the record against the shipped lexicon first (RecordError) unless !validate.
  boost::asio::awaitable<AtUri> publish_record(DatasetRecord record, std::string rkey = {},
                                               bool validate = true);

  // The lexicon check of publish_record for a record still missing what I/O
  // will provide: an empty schema_ref stands for a schema about to be
  // published and, with pending_blobs, blob storage of that many uploads.
  static void check_draft(DatasetRecord draft, std::optional<std::size_t> pending_blobs = std::nullopt);
  // The record the options describe (no storage yet). InvalidArgument without a name.
  static DatasetRecord make_record(std::string schema_uri, const DatasetPublishOptions& o);

 private:
  template <class D>
  boost::asio::awaitable<AtUri> publish_dataset(D ds, DatasetPublishOptions o) {
    std::string schema_uri = std::move(o.schema_ref);
    // With a schema to publish first, check the dataset before it, so an
    // invalid dataset leaves nothing behind; otherwise publish_record checks.
    if (o.validate && schema_uri.empty()) {
      DatasetRecord rec = make_record(schema_uri, o);
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
    DatasetRecord rec = make_record(std::move(schema_uri), o);
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
  atproto::AtmosphereClient* client_;
};

}  // namespace atdata::atmosphere
