#pragma once
// Reading dataset records (`ac.foundation.dataset.record`, and the later
// namespaces) and turning them into Datasets: Python's DatasetLoader.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/dataset_loading.hpp"
#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/listed.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/core/sample.hpp"
#include "atdata/core/sample_schema.hpp"
#include "atdata/dataset/dataset.hpp"

namespace atdata::atmosphere {

class DatasetLoader {
 public:
  explicit DatasetLoader(atproto::AtmosphereClient& client) : client_(&client) {}

  // RecordError "Record at <uri> is not a dataset record. Expected
  // $type='ac.foundation.dataset.record', got '<actual>'" for other types.
  boost::asio::awaitable<DatasetRecord> get(AtUri uri);
  // All pages of `repo` (empty = own; another account is read on its own PDS).
  boost::asio::awaitable<std::vector<Listed<DatasetRecord>>> list_all(std::string repo = {},
                                                                      std::size_t max = 0);

  boost::asio::awaitable<std::string> get_storage_type(AtUri uri);
  // External storage: the URLs as stored (patterns unexpanded).
  boost::asio::awaitable<std::vector<std::string>> get_urls(AtUri uri);
  boost::asio::awaitable<std::vector<BlobEntry>> get_blobs(AtUri uri);
  // Blob storage: com.atproto.sync.getBlob URLs on the PDS of the record's
  // authority, one per blob with a non-empty CID, in order.
  boost::asio::awaitable<std::vector<std::string>> get_blob_urls(AtUri uri);
  boost::asio::awaitable<std::optional<boost::json::object>> get_metadata(AtUri uri);
  // The URLs a Dataset reads, whatever the storage: get_urls for external
  // storage, get_blob_urls for blobs. RecordError "Dataset record has no
  // storage URLs" when there are none. The second form takes the record
  // already fetched from `uri`.
  boost::asio::awaitable<std::vector<std::string>> get_shard_urls(AtUri uri);
  boost::asio::awaitable<std::vector<std::string>> get_shard_urls(AtUri uri, DatasetRecord rec);

  // Python's DatasetLoader.to_dataset(uri, sample_type): a Dataset<T> over the
  // record's shards (all of them, joined with "::"; blobs streamed from the
  // owner's PDS and CID-checked). The record's schema is fetched first and
  // checked against T — field names, kinds and optionality — so a mismatch is
  // a SchemaError naming both types and the first difference, before any
  // shard is read.
  template <DescribedSample T>
  boost::asio::awaitable<Dataset<T>> to_dataset(AtUri uri, DatasetOptions options = DatasetOptions()) {
    return to_dataset_checked<T>(std::move(uri), std::move(options));
  }
  // The dynamic form: samples typed by the record's schema (or `schema` when
  // non-null, which is then the one checked against nothing).
  boost::asio::awaitable<DynamicDataset> to_dynamic_dataset(
      AtUri uri, std::shared_ptr<const SampleSchema> schema = nullptr,
      DatasetOptions options = DatasetOptions());

 private:
  template <DescribedSample T>
  boost::asio::awaitable<Dataset<T>> to_dataset_checked(AtUri uri, DatasetOptions options) {
    DatasetSource src = co_await checked_source(std::move(uri), schema_of<T>(), std::move(options));
    co_return Dataset<T>(std::move(src.url), std::move(src.options));
  }
  boost::asio::awaitable<DatasetSource> checked_source(AtUri uri, SampleSchema expected,
                                                       DatasetOptions options);
  atproto::AtmosphereClient* client_;
};

// The same without a loader object (the loader is only the client's address).
template <DescribedSample T>
boost::asio::awaitable<Dataset<T>> to_dataset(atproto::AtmosphereClient& client, AtUri uri,
                                              DatasetOptions options = DatasetOptions()) {
  DatasetLoader loader(client);
  co_return co_await loader.to_dataset<T>(std::move(uri), std::move(options));
}
boost::asio::awaitable<DynamicDataset> to_dynamic_dataset(
    atproto::AtmosphereClient& client, AtUri uri, std::shared_ptr<const SampleSchema> schema = nullptr,
    DatasetOptions options = DatasetOptions());

}  // namespace atdata::atmosphere
