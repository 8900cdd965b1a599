#include "atdata/dataset/dataset.hpp"

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

std::vector<std::string> DatasetBase::shard_list() const {
  return expand_urls(url_);
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
