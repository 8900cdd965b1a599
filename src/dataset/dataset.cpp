#include "atdata/dataset/dataset.hpp"

#include <mutex>

#include <boost/asio/this_coro.hpp>

#include "atdata/core/msgpack.hpp"
#include "atdata/error.hpp"
#include "atdata/io/shard_urls.hpp"

namespace atdata {

const SharedBytes& msgpack_member(const RawSample& raw) {
  if (const SharedBytes* m = raw.find("msgpack")) return *m;
  throw ShardError(raw.url ? *raw.url : std::string("<unknown>"), 0,
                   "sample '" + raw.key + "' has no msgpack member");
}

namespace detail {

DynamicBatch DecodeDynamicBatch::operator()(const std::vector<RawSample>& group) const {
  std::vector<DynamicSample> samples;
  samples.reserve(group.size());
  for (const auto& raw : group) {
    samples.push_back(schema ? DynamicSample::unpack(schema, msgpack_member(raw))
                             : DynamicSample::unpack(msgpack_member(raw)));
  }
  return DynamicBatch(std::move(samples));
}

DynamicSample DecodeDynamicSample::operator()(const std::vector<RawSample>& group) const {
  const SharedBytes& m = msgpack_member(group.front());
  return schema ? DynamicSample::unpack(schema, m) : DynamicSample::unpack(m);
}

struct DatasetBase::MetadataCache {
  std::mutex mu;
  std::optional<Value> value;
};

DatasetBase::DatasetBase(std::string url, DatasetOptions options)
    : url_(std::move(url)), options_(std::move(options)), metadata_(std::make_shared<MetadataCache>()) {}

std::vector<std::string> DatasetBase::shard_list() const {
  return expand_urls(url_);
}

asio::awaitable<std::optional<Value>> DatasetBase::fetch_metadata() const {
  std::optional<Value> out;
  if (options_.metadata_url.empty()) co_return out;
  {
    std::lock_guard lock(metadata_->mu);
    if (metadata_->value) {
      out = metadata_->value;
      co_return out;
    }
  }
  auto ex = co_await asio::this_coro::executor;
  ByteSourcePtr src =
      options_.opener ? options_.opener(options_.metadata_url, ex) : open_shard(options_.metadata_url, ex);
  SharedBytes body = co_await read_all(*src, std::uint64_t{256} << 20);
  Value v;
  try {
    msgpack::Reader r(body);
    v = msgpack::read_value(r);
    r.expect_end();
  } catch (const DecodeError& e) {
    throw DecodeError("metadata at " + options_.metadata_url + ": " + e.what());
  }
  if (!v.is_map()) throw DecodeError("metadata at " + options_.metadata_url + " is not a msgpack map");
  {
    std::lock_guard lock(metadata_->mu);
    metadata_->value = v;
  }
  out = std::move(v);
  co_return out;
}

std::optional<Value> DatasetBase::metadata() const {
  asio::io_context ctx(1);
  return run_blocking(ctx, fetch_metadata());
}

LoaderConfig DatasetBase::config(std::size_t batch_size, std::optional<ShuffleOptions> shuffle,
                                 std::optional<IterationState> resume) const {
  LoaderConfig c;
  c.shards = shard_list();
  c.batch_size = batch_size;
  c.shuffle = shuffle;
  c.rank = options_.rank;
  c.world_size = options_.world_size;
  c.opener = options_.opener;
  c.resume = resume;
  return c;
}

}  // namespace detail
}  // namespace atdata
