#pragma once
// Index: Python atdata's AbstractIndex protocol as a C++ interface, so code
// written against it works with the local index (Redis or SQLite) and with
// AtmosphereIndex (ATProto) alike: insert and look up datasets, publish and
// read schemas, decode a schema into a run-time sample type.
//
// The public calls are non-virtual and forward to the do_* hooks. A concrete
// index may offer same-named calls with richer results (AtmosphereIndex's
// get_dataset(AtUri) returns an AtmosphereIndexEntry); through an `Index&`
// every index answers with the types below.

#include <concepts>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/index_entry.hpp"
#include "atdata/atmosphere/schema_options.hpp"
#include "atdata/atmosphere/schema_record.hpp"
#include "atdata/core/sample.hpp"
#include "atdata/core/sample_schema.hpp"

namespace atdata::atmosphere {

// A schema as an index lists it: its reference and the record.
class IndexedSchema {
 public:
  IndexedSchema() = default;
  IndexedSchema(std::string ref, SchemaRecord record) : ref_(std::move(ref)), record_(std::move(record)) {}
  // `local://schemas/<kind>@<version>` or the record's AT-URI.
  const std::string& ref() const noexcept { return ref_; }
  const SchemaRecord& record() const noexcept { return record_; }

 private:
  std::string ref_;
  SchemaRecord record_;
};

class Index {
 public:
  virtual ~Index() = default;

  // "local" or "atmosphere": for listings that show where an entry came from.
  virtual std::string_view kind() const noexcept = 0;

  // A dataset entry over `urls` (stored verbatim, patterns unexpanded).
  // options.name is required; options.schema_ref empty = publish
  // `sample_schema` first (InvalidArgument when it is not given). The local
  // index uses name, schema_ref, schema_version and metadata; the atmosphere
  // index every option.
  boost::asio::awaitable<IndexEntry> insert_dataset_urls(
      std::vector<std::string> urls, DatasetPublishOptions options,
      std::optional<SampleSchema> sample_schema = std::nullopt) {
    return do_insert_dataset(std::move(urls), std::move(options), std::move(sample_schema));
  }
  // Any dataset object with url() and a sample_type (e.g. atdata::Dataset<T>):
  // stores [ds.url()]. Not a coroutine: `ds` is read now.
  template <class D>
  requires requires(const D& d) {
    { d.url() } -> std::convertible_to<std::string>;
    typename D::sample_type;
  }
  boost::asio::awaitable<IndexEntry> insert_dataset(const D& ds, DatasetPublishOptions options) {
    std::vector<std::string> urls;
    urls.push_back(std::string(ds.url()));
    return do_insert_dataset(std::move(urls), std::move(options), schema_of<typename D::sample_type>());
  }

  // By reference (a local entry's CID, an AT-URI) or by name. Throws
  // atdata::NotFound when nothing matches and InvalidArgument when a name
  // matches several entries (the message lists their references).
  boost::asio::awaitable<IndexEntry> get_dataset(std::string ref_or_name) {
    return do_get_dataset(std::move(ref_or_name));
  }
  boost::asio::awaitable<std::vector<IndexEntry>> list_datasets() { return do_list_datasets(); }

  // Returns the new schema's reference. options.name (empty = the schema's
  // own name) is, for the local index, the kind in the reference: give the
  // Python class's `module.Class` to share a schema with Python code.
  boost::asio::awaitable<std::string> publish_schema(SampleSchema schema,
                                                     SchemaPublishOptions options = SchemaPublishOptions()) {
    return do_publish_schema(std::move(schema), std::move(options));
  }
  template <DescribedSample T>
  boost::asio::awaitable<std::string> publish_schema(SchemaPublishOptions options = SchemaPublishOptions()) {
    return do_publish_schema(schema_of<T>(), std::move(options));
  }
  // Throws atdata::NotFound, or InvalidArgument for a malformed reference.
  boost::asio::awaitable<SchemaRecord> get_schema(std::string ref) { return do_get_schema(std::move(ref)); }
  boost::asio::awaitable<std::vector<IndexedSchema>> list_schemas() { return do_list_schemas(); }
  // The schema as a run-time sample type (DynamicSample, dynamic Datasets).
  boost::asio::awaitable<std::shared_ptr<const SampleSchema>> decode_schema(std::string ref) {
    return do_decode_schema(std::move(ref));
  }

 protected:
  Index() = default;
  Index(const Index&) = default;
  Index& operator=(const Index&) = default;

 private:
  virtual boost::asio::awaitable<IndexEntry> do_insert_dataset(std::vector<std::string> urls,
                                                               DatasetPublishOptions options,
                                                               std::optional<SampleSchema> sample_schema) = 0;
  virtual boost::asio::awaitable<IndexEntry> do_get_dataset(std::string ref_or_name) = 0;
  virtual boost::asio::awaitable<std::vector<IndexEntry>> do_list_datasets() = 0;
  virtual boost::asio::awaitable<std::string> do_publish_schema(SampleSchema schema,
                                                                SchemaPublishOptions options) = 0;
  virtual boost::asio::awaitable<SchemaRecord> do_get_schema(std::string ref) = 0;
  virtual boost::asio::awaitable<std::vector<IndexedSchema>> do_list_schemas() = 0;
  virtual boost::asio::awaitable<std::shared_ptr<const SampleSchema>> do_decode_schema(std::string ref) = 0;
};

}  // namespace atdata::atmosphere
