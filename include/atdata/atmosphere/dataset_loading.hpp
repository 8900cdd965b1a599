#pragma once
// Datasets from dataset records: DatasetLoader.to_dataset (api-surface §5).
// Shards are the record's external URLs, or for blob storage the blobs
// streamed with com.atproto.sync.getBlob from the owner's PDS (CID-verified
// as they arrive). Unlike the seed, every URL is used (joined with "::"), not
// only the first.

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/dataset/dataset.hpp"

namespace atdata::atmosphere {

// A shard opener that streams getBlob URLs (public, already naming the
// owner's PDS) with `client`'s HTTP options on the loader's own executor,
// verifying each blob's CID at its end (ShardError naming the URL and byte
// count on a mismatch); anything else opens with `fallback` (empty =
// atdata::open_shard, i.e. paths, file: and registered schemes such as
// http/https). The client need not outlive the datasets.
ShardOpener blob_shard_opener(atproto::AtmosphereClient& client, ShardOpener fallback = {});

// "a::b::c": the single URL string a Dataset expands into all shards.
std::string join_shard_urls(const std::vector<std::string>& urls);

// The record's shards as dataset options + URL (RecordError "Dataset record
// has no storage URLs" when there are none), and the record itself, so that
// callers needing its schemaRef do not fetch it again.
struct DatasetSource {
  std::string url;
  DatasetOptions options;
  DatasetRecord record;
};
boost::asio::awaitable<DatasetSource> dataset_source(atproto::AtmosphereClient& client, AtUri uri,
                                                     DatasetOptions base);

// (Overloads rather than aggregate default arguments: GCC 12 corrupts
// aggregate temporaries that appear inside a co_await expression.)
template <DescribedSample T>
boost::asio::awaitable<Dataset<T>> to_dataset(atproto::AtmosphereClient& client, AtUri uri,
                                              DatasetOptions base) {
  DatasetSource src = co_await dataset_source(client, std::move(uri), std::move(base));
  co_return Dataset<T>(std::move(src.url), std::move(src.options));
}
template <DescribedSample T>
boost::asio::awaitable<Dataset<T>> to_dataset(atproto::AtmosphereClient& client, AtUri uri) {
  return to_dataset<T>(client, std::move(uri), DatasetOptions{});
}

// The dynamic variant: the record's schema (schemaRef) decoded into a
// run-time sample type, or `schema` when non-null.
boost::asio::awaitable<DynamicDataset> to_dynamic_dataset(atproto::AtmosphereClient& client, AtUri uri,
                                                          std::shared_ptr<const SampleSchema> schema,
                                                          DatasetOptions base);
inline boost::asio::awaitable<DynamicDataset> to_dynamic_dataset(
    atproto::AtmosphereClient& client, AtUri uri, std::shared_ptr<const SampleSchema> schema = nullptr) {
  return to_dynamic_dataset(client, std::move(uri), std::move(schema), DatasetOptions{});
}

}  // namespace atdata::atmosphere
