#pragma once
// atdata::Dataset<T>: a WebDataset of packed samples of a described struct T
// (and DynamicDataset over a run-time SampleSchema), as Python's
// `atdata.Dataset[T](url)` (byte formats: docs/format.md).
//
//   atdata::Dataset<ImageSample> ds("data/train-{000000..000099}.tar");
//   for (const auto& batch : ds.ordered(32)) { … batch.stacked<&ImageSample::image>() … }
//   for (const auto& s : ds.ordered(atdata::unbatched)) { … }             // samples
//   auto it = ds.shuffled({.seed = 7, .epoch = e}, 32);                    // reproducible
//   while (auto b = co_await it.next()) { … }                              // async
//
// Construction is lazy (no I/O). Each ordered()/shuffled() call returns an
// independent loader; iterating it opens shards on demand. Everything up to
// the raw samples is the non-template RawLoader; only decoding is templated.

#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "atdata/core/dynamic_sample.hpp"
#include "atdata/core/sample.hpp"
#include "atdata/core/sample_batch.hpp"
#include "atdata/dataset/loader_pipeline.hpp"
#include "atdata/dataset/prefetch.hpp"
#include "atdata/dataset/raw_loader.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/io/blocking.hpp"

namespace atdata {

// Tag: iterate samples instead of batches (Python `batch_size=None`).
struct Unbatched {};
inline constexpr Unbatched unbatched{};

// Not an aggregate: it is passed to co_await'ed calls (to_dataset), where
// GCC 12 corrupts aggregate temporaries. Fill it member by member or chain:
// `DatasetOptions().with_split(rank, world_size)`.
class DatasetOptions {
 public:
  DatasetOptions() = default;

  // Node/worker split: this process reads shards rank, rank + world_size, …
  std::size_t rank = 0;
  std::size_t world_size = 1;
  ShardOpener opener;  // empty = open_shard (paths, file:, registered schemes, http(s))
  // The pipeline: shards in flight, read-ahead, decode threads, retries.
  PrefetchOptions prefetch;
  // The client http(s) shards are downloaded with, shared by all loaders of
  // this dataset that run on its executor. Null, or a client bound to
  // another executor (blocking iteration runs on the loader's own thread),
  // means each loader makes one with the same options.
  std::shared_ptr<net::HttpClient> http;
  // A local cache of remote shards (docs/dataset.md, "Shard cache"); a second
  // epoch then reads local files.
  std::shared_ptr<ShardCache> cache;
  // Python's `metadata_url`: a msgpack map fetched on first use of metadata().
  std::string metadata_url;

  DatasetOptions&& with_split(std::size_t rank_, std::size_t world_size_) && {
    rank = rank_;
    world_size = world_size_;
    return std::move(*this);
  }
  DatasetOptions&& with_opener(ShardOpener v) && {
    opener = std::move(v);
    return std::move(*this);
  }
  DatasetOptions&& with_prefetch(PrefetchOptions v) && {
    prefetch = std::move(v);
    return std::move(*this);
  }
  DatasetOptions&& with_http_client(std::shared_ptr<net::HttpClient> v) && {
    http = std::move(v);
    return std::move(*this);
  }
  DatasetOptions&& with_cache(std::shared_ptr<ShardCache> v) && {
    cache = std::move(v);
    return std::move(*this);
  }
  DatasetOptions&& with_metadata_url(std::string v) && {
    metadata_url = std::move(v);
    return std::move(*this);
  }
};

// The msgpack member of a raw sample; ShardError naming shard, key and the
// offset of the sample's first member if the sample has none.
const SharedBytes& msgpack_member(const RawSample& raw);

// Decodes one raw sample as DynamicDataset does: against `schema`, or
// schemaless when it is null. SampleError (shard, offset, key, schema name,
// field) when the packed bytes do not fit; ShardError without a msgpack member.
DynamicSample decode_dynamic_sample(const RawSample& raw, const std::shared_ptr<const SampleSchema>& schema);

// A single-pass loader over decoded items (batches or samples). `Decode` maps
// a group of raw samples to one Item; it runs on the pipeline's decode
// workers (DatasetOptions::prefetch).
template <class Item, class Decode>
class Loader {
 public:
  Loader(LoaderConfig config, Decode decode)
      : pipe_(std::move(config),
              [d = std::move(decode)](std::vector<RawSample>& group) -> std::shared_ptr<void> {
                return std::make_shared<Item>(d(group));
              }) {}

  // The next item, or nullopt at the end. Runs on the caller's executor.
  // Errors: SampleError for a sample that does not decode (its group is
  // dropped); ShardError for a damaged shard, after a last, shorter item
  // holding the samples completed before the damage. Calling again after
  // either continues with what follows.
  asio::awaitable<std::optional<Item>> next() {
    std::shared_ptr<void> p = co_await pipe_.next();
    std::optional<Item> out;
    if (p) out.emplace(std::move(*static_cast<Item*>(p.get())));
    co_return out;
  }

  // Where to resume after the last item returned.
  const IterationState& state() const noexcept { return pipe_.state(); }
  // The shards this loader reads, in reading order.
  const std::vector<std::string>& shards() const noexcept { return pipe_.shards(); }
  // Progress: bytes, samples, shards done / in flight, retries, rates.
  LoaderStats stats() const { return pipe_.stats(); }

  // Blocking iteration: the pipeline runs on a thread of the loader's own,
  // reading ahead while the caller works on the current item.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Item;
    using difference_type = std::ptrdiff_t;
    using pointer = const Item*;
    using reference = const Item&;

    iterator() = default;
    explicit iterator(Loader* l) : loader_(l) { advance(); }
    const Item& operator*() const { return *loader_->current_; }
    const Item* operator->() const { return &*loader_->current_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return !it.loader_ || !it.loader_->has_current();
    }

   private:
    void advance() { loader_->current_ = loader_->next_blocking(); }
    Loader* loader_ = nullptr;
  };
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() const noexcept { return {}; }

  bool has_current() const noexcept { return current_.has_value(); }

  // Convenience: the next item, blocking.
  std::optional<Item> next_blocking() {
    std::optional<Item> out;
    current_.reset();  // the previous item's buffers go before the next arrives
    std::shared_ptr<void> p = pipe_.next_blocking();
    if (p) out.emplace(std::move(*static_cast<Item*>(p.get())));
    return out;
  }

 private:
  LoaderPipeline pipe_;
  std::optional<Item> current_;
};

namespace detail {

// Cold path: a decode failure of `raw` as a SampleError naming the shard,
// the sample and the type.
[[noreturn]] void throw_sample_error(const RawSample& raw, std::string sample_type, const SchemaError& e);
[[noreturn]] void throw_sample_error(const RawSample& raw, std::string sample_type, const DecodeError& e);

// The try block costs nothing when no exception is thrown; the strings of
// the SampleError are only built when one is.
template <DescribedSample T>
void decode_raw(const RawSample& raw, T& out) {
  const SharedBytes& packed = msgpack_member(raw);
  try {
    unpack_into(packed, out);
  } catch (const SchemaError& e) {
    throw_sample_error(raw, sample_type_name<T>(), e);
  } catch (const DecodeError& e) {
    throw_sample_error(raw, sample_type_name<T>(), e);
  }
}

template <DescribedSample T>
struct DecodeTypedBatch {
  SampleBatch<T> operator()(const std::vector<RawSample>& group) const {
    std::vector<T> samples(group.size());
    for (std::size_t i = 0; i < group.size(); ++i) decode_raw(group[i], samples[i]);
    return SampleBatch<T>(std::move(samples));
  }
};

template <DescribedSample T>
struct DecodeTypedSample {
  T operator()(const std::vector<RawSample>& group) const {
    T out{};
    decode_raw(group.front(), out);
    return out;
  }
};

struct DecodeDynamicBatch {
  std::shared_ptr<const SampleSchema> schema;
  DynamicBatch operator()(const std::vector<RawSample>& group) const;
};

struct DecodeDynamicSample {
  std::shared_ptr<const SampleSchema> schema;
  DynamicSample operator()(const std::vector<RawSample>& group) const;
};

// Shared by Dataset<T> and DynamicDataset: URL handling and loader configs.
class DatasetBase {
 public:
  DatasetBase(std::string url, DatasetOptions options);

  // The URL pattern as given.
  const std::string& url() const noexcept { return url_; }
  // The fully expanded shard list (webdataset's expand_urls), all ranks.
  std::vector<std::string> shard_list() const;
  std::vector<std::string> list_shards() const { return shard_list(); }
  const DatasetOptions& options() const noexcept { return options_; }

  // Python `dataset.metadata`: the msgpack map at options().metadata_url
  // (http(s), file: or a path), read once and then cached (copies of the
  // dataset share the cache); nullopt when there is no metadata_url. Errors:
  // HttpError for non-2xx, DecodeError when the bytes are not a msgpack map.
  asio::awaitable<std::optional<Value>> fetch_metadata() const;
  std::optional<Value> metadata() const;

 protected:
  LoaderConfig config(std::size_t batch_size, std::optional<ShuffleOptions> shuffle,
                      std::optional<IterationState> resume) const;

 private:
  struct MetadataCache;
  std::string url_;
  DatasetOptions options_;
  std::shared_ptr<MetadataCache> metadata_;
};

}  // namespace detail

template <DescribedSample T>
class Dataset : public detail::DatasetBase {
 public:
  using sample_type = T;
  using batch_type = SampleBatch<T>;
  using BatchLoader = Loader<SampleBatch<T>, detail::DecodeTypedBatch<T>>;
  using SampleLoader = Loader<T, detail::DecodeTypedSample<T>>;

  explicit Dataset(std::string url, DatasetOptions options = {})
      : DatasetBase(std::move(url), std::move(options)) {}

  // In shard order, batches of batch_size (last one may be smaller; batches
  // span shards). batch_size 0 → InvalidArgument.
  BatchLoader ordered(std::size_t batch_size = 1, std::optional<IterationState> resume = {}) const {
    return BatchLoader(config(batch_size, std::nullopt, resume), {});
  }
  SampleLoader ordered(Unbatched, std::optional<IterationState> resume = {}) const {
    return SampleLoader(config(1, std::nullopt, resume), {});
  }

  // Buffered shard + sample shuffle (webdataset's algorithm), reproducible per
  // (seed, epoch).
  BatchLoader shuffled(ShuffleOptions shuffle, std::size_t batch_size = 1,
                       std::optional<IterationState> resume = {}) const {
    return BatchLoader(config(batch_size, shuffle, resume), {});
  }
  BatchLoader shuffled(std::size_t buffer_shards = 100, std::size_t buffer_samples = 10000,
                       std::size_t batch_size = 1, std::uint64_t seed = 0, std::uint64_t epoch = 0) const {
    return shuffled(ShuffleOptions{buffer_shards, buffer_samples, seed, epoch}, batch_size);
  }
  SampleLoader shuffled(ShuffleOptions shuffle, Unbatched, std::optional<IterationState> resume = {}) const {
    return SampleLoader(config(1, shuffle, resume), {});
  }
};

// A dataset decoded against a run-time schema, or schemaless (schema null:
// fields in stored order, values decoded generically).
class DynamicDataset : public detail::DatasetBase {
 public:
  using BatchLoader = Loader<DynamicBatch, detail::DecodeDynamicBatch>;
  using SampleLoader = Loader<DynamicSample, detail::DecodeDynamicSample>;

  DynamicDataset(std::string url, std::shared_ptr<const SampleSchema> schema, DatasetOptions options = {})
      : DatasetBase(std::move(url), std::move(options)), schema_(std::move(schema)) {}

  const std::shared_ptr<const SampleSchema>& schema() const noexcept { return schema_; }

  BatchLoader ordered(std::size_t batch_size = 1, std::optional<IterationState> resume = {}) const {
    return BatchLoader(config(batch_size, std::nullopt, resume), {schema_});
  }
  SampleLoader ordered(Unbatched, std::optional<IterationState> resume = {}) const {
    return SampleLoader(config(1, std::nullopt, resume), {schema_});
  }
  BatchLoader shuffled(ShuffleOptions shuffle, std::size_t batch_size = 1,
                       std::optional<IterationState> resume = {}) const {
    return BatchLoader(config(batch_size, shuffle, resume), {schema_});
  }
  SampleLoader shuffled(ShuffleOptions shuffle, Unbatched, std::optional<IterationState> resume = {}) const {
    return SampleLoader(config(1, shuffle, resume), {schema_});
  }

 private:
  std::shared_ptr<const SampleSchema> schema_;
};

}  // namespace atdata
