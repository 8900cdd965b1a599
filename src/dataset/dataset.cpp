#include "atdata/dataset/dataset.hpp"

#include <mutex>

#include <boost/asio/io_context.hpp>

#include <boost/asio/this_coro.hpp>

#include "atdata/core/msgpack.hpp"
#include "atdata/error.hpp"
#include "atdata/io/shard_urls.hpp"
#include "atdata/net/http_client.hpp"

namespace atdata {

namespace {
std::string url_of(const RawSample& raw) {
  return raw.url ? *raw.url : std::string("<unknown>");
}
}  // namespace

const SharedBytes& msgpack_member(const RawSample& raw) {
  if (const SharedBytes* m = raw.find("msgpack")) return *m;
  throw ShardError(url_of(raw), raw.members.empty() ? 0 : raw.members[0].offset,
                   "sample '" + raw.key + "' has no msgpack member");
}

namespace detail {
namespace {

std::uint64_t msgpack_offset(const RawSample& raw) {
  for (const auto& m : raw.members)
    if (m.ext == "msgpack") return m.offset;
  return 0;
}

}  // namespace

void throw_sample_error(const RawSample& raw, std::string sample_type, const SchemaError& e) {
  throw SampleError(url_of(raw), msgpack_offset(raw), raw.key, std::move(sample_type), e.field(), e.reason(),
                    false);
}

void throw_sample_error(const RawSample& raw, std::string sample_type, const DecodeError& e) {
  throw SampleError(url_of(raw), msgpack_offset(raw), raw.key, std::move(sample_type), e.field(), e.reason(),
                    true);
}

DynamicBatch DecodeDynamicBatch::operator()(const std::vector<RawSample>& group) const {
  std::vector<DynamicSample> samples;
  samples.reserve(group.size());
  for (const auto& raw : group) samples.push_back(decode_dynamic_sample(raw, schema));
  return DynamicBatch(std::move(samples));
}

DynamicSample DecodeDynamicSample::operator()(const std::vector<RawSample>& group) const {
  return decode_dynamic_sample(group.front(), schema);
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
  ShardContext shard(options_.metadata_url, ex, net::client_on(options_.http, ex));
  ByteSourcePtr src = options_.opener ? options_.opener(shard) : open_shard(shard);
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
  c.prefetch = options_.prefetch;
  c.http = options_.http;
  c.cache = options_.cache;
  return c;
}

}  // namespace detail

DynamicSample decode_dynamic_sample(const RawSample& raw, const std::shared_ptr<const SampleSchema>& schema) {
  const SharedBytes& packed = msgpack_member(raw);
  auto type = [&] { return schema ? schema->name() : std::string(); };  // only built on failure
  try {
    return schema ? DynamicSample::unpack(schema, packed) : DynamicSample::unpack(packed);
  } catch (const SchemaError& e) {
    detail::throw_sample_error(raw, type(), e);
  } catch (const DecodeError& e) {
    detail::throw_sample_error(raw, type(), e);
  }
}

}  // namespace atdata
