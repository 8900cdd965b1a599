#pragma once
// The loader pipeline's one configuration struct and its progress counters.
//
// Every ordered()/shuffled() loader runs a prefetching pipeline: up to
// `shards_in_flight` shards are downloaded (or read) at once, each into a
// bounded read-ahead buffer; the CPU work (decompression, tar, msgpack and
// array decoding, batch assembly) runs on `decode_threads` worker threads,
// and decoded items wait in a queue of `queue_depth`. The output is the
// same, in the same order, for every setting (docs/dataset.md, "Prefetching").

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "atdata/core/detail/chained_options.hpp"

namespace atdata {

// What to do with a shard that still fails after its retries.
enum class ShardErrorPolicy {
  raise,  // the loader throws a ShardError naming the URL and byte offset
  skip,   // the loader goes on with the next shard; LoaderStats::shards_skipped counts it
};

class PrefetchOptions : public detail::ChainedOptions<PrefetchOptions> {
 public:
  PrefetchOptions() = default;

  // Shards open and streaming at once (≥ 1). More hides more latency; each
  // costs up to `read_ahead_bytes` of memory.
  std::size_t shards_in_flight = 4;
  // Bytes buffered per shard ahead of the consumer (downloaded but not yet
  // parsed, plus parsed samples not yet batched). A shard's download pauses
  // when its buffer is full, so memory stays bounded however large the
  // dataset is.
  std::size_t read_ahead_bytes = std::size_t{16} << 20;
  // Decoded items (batches, or samples when unbatched) waiting for the
  // consumer (≥ 1).
  std::size_t queue_depth = 4;
  // Worker threads for the CPU part. 0 = everything runs on the thread that
  // runs the io_context (no threads at all).
  std::size_t decode_threads = 1;
  // Transport failures (reset, timeout, 5xx, 408, 429) of one shard are
  // retried this many times, resuming where the bytes stopped; the delay
  // starts at `retry_backoff` and doubles.
  int max_retries = 3;
  std::chrono::milliseconds retry_backoff{100};
  ShardErrorPolicy on_shard_error = ShardErrorPolicy::raise;

  PrefetchOptions&& with_shards_in_flight(std::size_t v) && { return set(shards_in_flight, v); }
  PrefetchOptions&& with_read_ahead_bytes(std::size_t v) && { return set(read_ahead_bytes, v); }
  PrefetchOptions&& with_queue_depth(std::size_t v) && { return set(queue_depth, v); }
  PrefetchOptions&& with_decode_threads(std::size_t v) && { return set(decode_threads, v); }
  PrefetchOptions&& with_max_retries(int v) && { return set(max_retries, v); }
  PrefetchOptions&& with_retry_backoff(std::chrono::milliseconds v) && { return set(retry_backoff, v); }
  PrefetchOptions&& with_on_shard_error(ShardErrorPolicy v) && { return set(on_shard_error, v); }
};

// A snapshot of a loader's progress (Loader::stats()); safe to take from any
// thread while the loader runs.
struct LoaderStats {
  std::uint64_t bytes = 0;    // shard bytes received (as stored: compressed if compressed)
  std::uint64_t samples = 0;  // samples handed to the consumer
  std::uint64_t items = 0;    // batches (or samples when unbatched) handed out
  std::uint64_t shards_done = 0;
  std::uint64_t shards_total = 0;  // this rank's shards
  std::uint64_t shards_skipped = 0;
  std::uint64_t in_flight = 0;       // shards open right now
  std::uint64_t retries = 0;         // transport retries and resumes, all shards
  std::uint64_t buffered_bytes = 0;  // read-ahead held right now, all shards
  double seconds = 0;                // since the first item was asked for

  double samples_per_second() const noexcept {
    return seconds > 0 ? static_cast<double>(samples) / seconds : 0;
  }
  double bytes_per_second() const noexcept { return seconds > 0 ? static_cast<double>(bytes) / seconds : 0; }
};

}  // namespace atdata
