#pragma once
// The shard stage of the loader pipeline (see include/atdata/dataset/prefetch.hpp):
// a window of up to shards_in_flight shards, each with a fetch task (source →
// bounded chunk buffer, retries) and a parse task (chunks → raw samples on
// the decode pool), consumed strictly in shard order. Everything but the CPU
// jobs runs on one executor, so the state needs no locks.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "atdata/dataset/prefetch.hpp"
#include "atdata/dataset/shard_opener.hpp"
#include "atdata/io/shard_parser.hpp"

namespace atdata {
class ShardCache;
}
namespace atdata::net {
class HttpClient;
}

namespace atdata::detail {

// Shared with LoaderStats readers on other threads.
struct LoaderCounters {
  std::atomic<std::uint64_t> bytes{0}, samples{0}, items{0}, shards_done{0}, shards_total{0},
      shards_skipped{0}, in_flight{0}, retries{0}, buffered{0};
  std::atomic<std::int64_t> start_ns{0};  // steady_clock, 0 = not started

  void mark_start() {
    std::int64_t zero = 0;
    const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    start_ns.compare_exchange_strong(zero, now == 0 ? 1 : now);
  }
  LoaderStats snapshot() const;
};

class DecodePool;
struct PrefetchShared;
struct ShardSlot;

class Prefetcher {
 public:
  // Reads `shards` from index `first` on. `pool` may be null (CPU work
  // inline); `http` is the client http(s) shards are fetched with.
  Prefetcher(std::vector<std::string> shards, std::size_t first, PrefetchOptions options, ShardOpener opener,
             std::shared_ptr<net::HttpClient> http, const asio::any_io_executor& ex,
             std::shared_ptr<ShardCache> cache, std::shared_ptr<DecodePool> pool,
             std::shared_ptr<LoaderCounters> counters);
  ~Prefetcher();  // stop()
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Appends up to `max` samples of the current shard to `out` and sets
  // `shard` to its index; 0 = all shards done. A failed shard throws (after
  // its complete samples) and the next call goes on with the next shard.
  asio::awaitable<std::size_t> next(std::vector<RawSample>& out, std::size_t max, std::uint32_t& shard);

  // Ends every task of this prefetcher (they finish asynchronously); must be
  // called on the executor.
  void stop();
  // Forgets every task without notifying them: for when the io_context is
  // being destroyed along with the tasks' frames.
  void abandon();

 private:
  void fill_window();

  std::shared_ptr<PrefetchShared> sh_;
  std::vector<std::string> shards_;
  std::size_t next_open_;
  std::deque<std::shared_ptr<ShardSlot>> window_;
  bool started_ = false;
};

}  // namespace atdata::detail
