#pragma once
// The type-erased part of Dataset iteration (webdataset's pipeline): shard list →
// shard shuffle → rank split → tar → raw samples → sample shuffle → groups of
// batch_size. Only the final decode of each group is templated (dataset.hpp),
// so this pipeline is compiled once.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "atdata/dataset/prefetch.hpp"
#include "atdata/dataset/shard_opener.hpp"
#include "atdata/io/asio_build.hpp"
#include "atdata/io/shard_reader.hpp"

namespace atdata {

namespace net {
class HttpClient;
}
namespace detail {
struct RawLoaderAccess;
}
class ShardCache;

// Shuffle parameters. The order is a pure function of (seed, epoch): the same
// pair gives the same order on every run and every rank; change the epoch
// each pass for a fresh order. Not bit-compatible with Python (its RNG is
// seeded from time and pid and is not reproducible at all).
struct ShuffleOptions {
  std::size_t buffer_shards = 100;     // webdataset shuffle buffer over shard URLs
  std::size_t buffer_samples = 10000;  // over raw samples
  std::uint64_t seed = 0;
  std::uint64_t epoch = 0;
};

// Where an iteration stopped: save it with your checkpoint, pass it back to
// resume. Ordered iteration resumes by opening shard `shard_index` (of this
// rank's list) and skipping `samples_in_shard` samples; shuffled iteration
// replays the deterministic (seed, epoch) stream and skips the first
// `samples_delivered` samples without decoding them.
struct IterationState {
  bool shuffled = false;
  std::uint64_t seed = 0;
  std::uint64_t epoch = 0;
  std::uint64_t shard_index = 0;
  std::uint64_t samples_in_shard = 0;
  std::uint64_t samples_delivered = 0;
  friend bool operator==(const IterationState&, const IterationState&) = default;
};

struct LoaderConfig {
  std::vector<std::string> shards;  // the full expanded list (all ranks)
  std::size_t batch_size = 1;       // 1 also for unbatched iteration
  std::optional<ShuffleOptions> shuffle;
  std::size_t rank = 0;
  std::size_t world_size = 1;
  ShardOpener opener;  // empty = open_shard
  std::optional<IterationState> resume;
  PrefetchOptions prefetch;
  // The client http(s) shards are fetched with. It must be bound to the
  // executor the loader runs on; otherwise (or when null) the loader makes
  // its own client with the same options on that executor.
  std::shared_ptr<net::HttpClient> http;
  // Optional local copy of remote shards (docs/dataset.md, "Shard cache").
  std::shared_ptr<ShardCache> cache;
};

// The shards rank `rank` of `world_size` reads, in order: after the shard
// shuffle (if any), indices rank, rank + world_size, …
std::vector<std::string> shards_for_rank(const LoaderConfig& config);

class RawLoader {
 public:
  // Validates the configuration (batch_size ≥ 1, rank < world_size ≥ 1,
  // buffers ≥ 1, a resume state matching the mode): InvalidArgument.
  explicit RawLoader(LoaderConfig config);
  ~RawLoader();
  RawLoader(RawLoader&&) noexcept;
  RawLoader& operator=(RawLoader&&) noexcept;

  // Replaces `out` with the next group of up to batch_size raw samples (fewer
  // only at the very end, or when a shard turns out to be damaged: the group
  // then holds the samples completed before the damage, and the ShardError is
  // thrown by the next call; calling again after that continues with the next
  // shard). Returns false when the iteration is finished. Shards are
  // prefetched (config.prefetch) on the calling coroutine's executor, which
  // must be the same for every call.
  asio::awaitable<bool> next_group(std::vector<RawSample>& out);

  // The state after the last group returned.
  const IterationState& state() const noexcept;
  const std::vector<std::string>& shards() const noexcept;

 private:
  friend struct detail::RawLoaderAccess;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace atdata
