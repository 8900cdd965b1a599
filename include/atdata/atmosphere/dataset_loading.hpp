#pragma once
// The plumbing between dataset records and Datasets: the shard opener that
// streams getBlob URLs, and a record's shards as one Dataset URL + options.
// Most programs use DatasetLoader::to_dataset (dataset_loader.hpp) instead.
// Unlike Python atdata, every URL of a record is used (joined with "::"),
// not only the first.

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/dataset_record.hpp"
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
class DatasetSource {
 public:
  DatasetSource() = default;
  std::string url;
  DatasetOptions options;
  DatasetRecord record;
};
boost::asio::awaitable<DatasetSource> dataset_source(atproto::AtmosphereClient& client, AtUri uri,
                                                     DatasetOptions options = DatasetOptions());

}  // namespace atdata::atmosphere
