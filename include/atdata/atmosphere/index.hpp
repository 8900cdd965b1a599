#pragma once
// AtmosphereIndex: the index protocol over ATProto (api-surface §2–3) — the
// one object most programs need: publish a schema, insert a dataset, list and
// get datasets (with their URIs), list schemas, decode a schema into a
// run-time sample type usable with a dynamic Dataset.

#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "atdata/atproto/atmosphere_client.hpp"

namespace atdata::atmosphere {

class AtmosphereIndexEntry {
 public:
  AtmosphereIndexEntry() = default;
  AtmosphereIndexEntry(AtUri uri, DatasetRecord record) : uri_(std::move(uri)), record_(std::move(record)) {}

  std::string uri() const { return uri_.str(); }
  const AtUri& at_uri() const noexcept { return uri_; }
  const std::string& name() const noexcept { return record_.name; }
  const std::string& schema_ref() const noexcept { return record_.schema_ref; }
  // External storage: the URLs as stored (patterns unexpanded); otherwise empty.
  std::vector<std::string> data_urls() const;
  // The decoded metadata map; nullopt when the record has none.
  std::optional<boost::json::object> metadata() const;
  const DatasetRecord& record() const noexcept { return record_; }

 private:
  AtUri uri_;
  DatasetRecord record_;
};

struct InsertDatasetOptions {
  std::string name;        // required
  std::string schema_ref;  // empty: publish the dataset's sample type first
  std::string description;
  std::vector<std::string> tags;
  std::string license;
  std::optional<boost::json::object> metadata;
  std::string metadata_url;
  std::string schema_version = "1.0.0";  // for the auto-published schema
  bool validate = true;                  // check against the shipped lexicon before writing
};

class AtmosphereIndex {
 public:
  explicit AtmosphereIndex(atproto::AtmosphereClient& client)
      : client_(&client),
        schema_publisher_(client),
        schema_loader_(client),
        dataset_publisher_(client),
        dataset_loader_(client) {}

  atproto::AtmosphereClient& client() noexcept { return *client_; }
  SchemaPublisher& schema_publisher() noexcept { return schema_publisher_; }
  SchemaLoader& schema_loader() noexcept { return schema_loader_; }
  DatasetPublisher& dataset_publisher() noexcept { return dataset_publisher_; }
  DatasetLoader& dataset_loader() noexcept { return dataset_loader_; }

  // The created schema URI as text ("at://…/ac.foundation.dataset.sampleSchema/…").
  template <DescribedSample T>
  boost::asio::awaitable<std::string> publish_schema(SchemaPublishOptions options) {
    return uri_text(schema_publisher_.publish<T>(std::move(options)));
  }
  template <DescribedSample T>
  boost::asio::awaitable<std::string> publish_schema() {
    return publish_schema<T>(SchemaPublishOptions{});
  }

  // A dataset record over `urls` (external storage), re-read after creation.
  // With an empty schema_ref, `sample_schema` is published first (it must
  // then be given; InvalidArgument otherwise).
  boost::asio::awaitable<AtmosphereIndexEntry> insert_dataset_urls(
      std::vector<std::string> urls, InsertDatasetOptions options,
      std::optional<SampleSchema> sample_schema = std::nullopt);

  // Any dataset object with `url()` and a `sample_type` (e.g. atdata::Dataset<T>):
  // stores `[ds.url()]` verbatim, auto-publishing schema_of<sample_type>() when
  // options.schema_ref is empty. Not a coroutine: `ds` is read now, so the
  // awaitable never refers to it. (Coroutine parameters in this layer are
  // taken by value for the same reason.)
  template <class D>
  requires requires(const D& d) {
    { d.url() } -> std::convertible_to<std::string>;
    typename D::sample_type;
  }
  boost::asio::awaitable<AtmosphereIndexEntry> insert_dataset(const D& ds, InsertDatasetOptions options) {
    std::vector<std::string> urls;
    urls.push_back(std::string(ds.url()));
    return insert_dataset_urls(std::move(urls), std::move(options), schema_of<typename D::sample_type>());
  }

  boost::asio::awaitable<AtmosphereIndexEntry> get_dataset(AtUri uri);
  boost::asio::awaitable<AtmosphereIndexEntry> get_dataset(std::string_view uri) {
    return get_dataset(AtUri::parse(uri));
  }
  // Every dataset record of `repo` (empty = own; a DID or handle of another
  // account is read from that account's PDS), each entry with its URI.
  boost::asio::awaitable<std::vector<AtmosphereIndexEntry>> list_datasets(std::string repo = {});

  boost::asio::awaitable<SchemaRecord> get_schema(AtUri uri) { return schema_loader_.get(uri); }
  boost::asio::awaitable<std::vector<Listed<SchemaRecord>>> list_schemas(std::string repo = {}) {
    return schema_loader_.list_all(std::move(repo));
  }
  // The schema as a run-time sample type for DynamicSample / dynamic Datasets.
  boost::asio::awaitable<std::shared_ptr<const SampleSchema>> decode_schema(AtUri uri) {
    return schema_loader_.decode(uri);
  }
  boost::asio::awaitable<std::shared_ptr<const SampleSchema>> decode_schema(std::string_view uri) {
    return schema_loader_.decode(AtUri::parse(uri));
  }

 private:
  static boost::asio::awaitable<std::string> uri_text(boost::asio::awaitable<AtUri> a);
  atproto::AtmosphereClient* client_;
  SchemaPublisher schema_publisher_;
  SchemaLoader schema_loader_;
  DatasetPublisher dataset_publisher_;
  DatasetLoader dataset_loader_;
};

}  // namespace atdata::atmosphere
