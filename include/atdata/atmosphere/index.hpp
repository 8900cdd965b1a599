#pragma once
// AtmosphereIndex: Python atdata's index protocol over ATProto — the one
// object most programs need: publish a schema, insert a dataset, list and get
// datasets (with their URIs), list schemas, decode a schema into a run-time
// sample type usable with a dynamic Dataset.

#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "atdata/atmosphere/abstract_index.hpp"
#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/client.hpp"
#include "atdata/atmosphere/dataset_loader.hpp"
#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"

namespace atdata::atmosphere {

class Catalogue;
class Discovery;
struct DiscoveryConfig;

// A dataset record with its address. Accessors as on Listed<R>: uri(),
// record(); the IndexEntry ones (name, schema_ref, data_urls, metadata, ref =
// the AT-URI text) come from the record.
class AtmosphereIndexEntry : public IndexEntry {
 public:
  AtmosphereIndexEntry() = default;
  AtmosphereIndexEntry(AtUri uri, DatasetRecord record);

  const AtUri& uri() const noexcept { return uri_; }
  const DatasetRecord& record() const noexcept { return record_; }

 private:
  AtUri uri_;
  DatasetRecord record_;
};

// Implements Index: through an `Index&` references are AT-URI strings (or a
// dataset's name among this account's records) and entries plain IndexEntry
// values; used directly it offers the typed calls below.
class AtmosphereIndex final : public Index {
 public:
  explicit AtmosphereIndex(atproto::AtmosphereClient& client)
      : client_(&client),
        schema_publisher_(client),
        schema_loader_(client),
        dataset_publisher_(client),
        dataset_loader_(client) {}

  std::string_view kind() const noexcept override { return "atmosphere"; }

  atproto::AtmosphereClient& client() noexcept { return *client_; }
  SchemaPublisher& schema_publisher() noexcept { return schema_publisher_; }
  SchemaLoader& schema_loader() noexcept { return schema_loader_; }
  DatasetPublisher& dataset_publisher() noexcept { return dataset_publisher_; }
  DatasetLoader& dataset_loader() noexcept { return dataset_loader_; }

  // The created schema record's URI (print it, or .str() for text).
  template <DescribedSample T>
  boost::asio::awaitable<AtUri> publish_schema(SchemaPublishOptions options = SchemaPublishOptions()) {
    return schema_publisher_.publish<T>(std::move(options));
  }
  // The common case inline: publish_schema<T>("1.0.0", "Feature vectors").
  template <DescribedSample T>
  boost::asio::awaitable<AtUri> publish_schema(std::string version, std::string description = {}) {
    SchemaPublishOptions o;
    o.version = std::move(version);
    o.description = std::move(description);
    return schema_publisher_.publish<T>(std::move(o));
  }

  // A dataset record over `urls` (external storage), re-read after creation.
  // With an empty options.schema_ref, `sample_schema` is published first (it
  // must then be given; InvalidArgument otherwise).
  boost::asio::awaitable<AtmosphereIndexEntry> insert_dataset_urls(
      std::vector<std::string> urls, DatasetPublishOptions options,
      std::optional<SampleSchema> sample_schema = std::nullopt);

  // Any dataset object with `url()` and a `sample_type` (e.g. atdata::Dataset<T>):
  // stores `[ds.url()]` verbatim, auto-publishing schema_of<sample_type>() when
  // options.schema_ref is empty. Not a coroutine: `ds` is read now, so the
  // awaitable never refers to it.
  template <class D>
  requires requires(const D& d) {
    { d.url() } -> std::convertible_to<std::string>;
    typename D::sample_type;
  }
  boost::asio::awaitable<AtmosphereIndexEntry> insert_dataset(const D& ds, DatasetPublishOptions options) {
    std::vector<std::string> urls;
    urls.push_back(std::string(ds.url()));
    return insert_dataset_urls(std::move(urls), std::move(options), schema_of<typename D::sample_type>());
  }
  // The common case inline: insert_dataset(ds, "name", schema_uri); an empty
  // schema_uri publishes the sample type's schema first.
  template <class D>
  requires requires(const D& d) {
    { d.url() } -> std::convertible_to<std::string>;
    typename D::sample_type;
  }
  boost::asio::awaitable<AtmosphereIndexEntry> insert_dataset(const D& ds, std::string name,
                                                              std::string schema_uri = {}) {
    DatasetPublishOptions o(std::move(name));
    o.schema_ref = std::move(schema_uri);
    return insert_dataset(ds, std::move(o));
  }

  boost::asio::awaitable<AtmosphereIndexEntry> get_dataset(AtUri uri);
  // Every dataset record of `repo` (empty = own; a DID or handle of another
  // account is read from that account's PDS), each entry with its URI.
  boost::asio::awaitable<std::vector<AtmosphereIndexEntry>> list_datasets(std::string repo = {});

  boost::asio::awaitable<SchemaRecord> get_schema(AtUri uri) { return schema_loader_.get(std::move(uri)); }
  boost::asio::awaitable<std::vector<Listed<SchemaRecord>>> list_schemas(std::string repo = {}) {
    return schema_loader_.list_all(std::move(repo));
  }
  // Follows the network live into `catalogue` (see discovery.hpp; include it
  // to use the result): the firehose of this client's PDS unless
  // config.hosts / config.jetstreams name other sources. Run the returned
  // object's run() on the client's executor.
  std::unique_ptr<Discovery> watch(Catalogue& catalogue);
  std::unique_ptr<Discovery> watch(Catalogue& catalogue, DiscoveryConfig config);

  // The schema as a run-time sample type for DynamicSample / dynamic Datasets.
  boost::asio::awaitable<std::shared_ptr<const SampleSchema>> decode_schema(AtUri uri) {
    return schema_loader_.decode(std::move(uri));
  }

 private:
  boost::asio::awaitable<IndexEntry> do_insert_dataset(std::vector<std::string> urls,
                                                       DatasetPublishOptions options,
                                                       std::optional<SampleSchema> sample_schema) override;
  // An AT-URI, or the name of one of this account's datasets.
  boost::asio::awaitable<IndexEntry> do_get_dataset(std::string ref_or_name) override;
  boost::asio::awaitable<std::vector<IndexEntry>> do_list_datasets() override;
  boost::asio::awaitable<std::string> do_publish_schema(SampleSchema schema,
                                                        SchemaPublishOptions options) override;
  boost::asio::awaitable<SchemaRecord> do_get_schema(std::string ref) override;
  boost::asio::awaitable<std::vector<IndexedSchema>> do_list_schemas() override;
  boost::asio::awaitable<std::shared_ptr<const SampleSchema>> do_decode_schema(std::string ref) override;

  atproto::AtmosphereClient* client_;
  SchemaPublisher schema_publisher_;
  SchemaLoader schema_loader_;
  DatasetPublisher dataset_publisher_;
  DatasetLoader dataset_loader_;
};

}  // namespace atdata::atmosphere
