#pragma once
// ShardCache: an optional local copy of remote shards (webdataset's
// cache_dir), so that a second epoch reads the disk instead of the network.
// The first read of a URL streams from the origin and writes each chunk to a
// temporary file as it passes; the entry appears only once the origin stream
// has ended cleanly. Later reads are memory-mapped from the cached file after
// checking it (docs/dataset.md, "Shard cache").

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "atdata/core/detail/chained_options.hpp"
#include "atdata/io/byte_source.hpp"

namespace atdata {

// Not an aggregate (GCC 12, see docs/gcc12.md): fill member by member or
// chain: `ShardCacheOptions().with_dir("/var/cache/shards").with_max_bytes(50ull << 30)`.
class ShardCacheOptions : public detail::ChainedOptions<ShardCacheOptions> {
 public:
  ShardCacheOptions() = default;

  // Directory of the entries, created (with its parents) if missing. Several
  // processes may share it.
  std::string dir;
  // Upper bound on the bytes of cached shards; the least recently used
  // entries are evicted to stay below it. 0 = no bound (nothing is evicted).
  std::uint64_t max_bytes = 0;

  ShardCacheOptions&& with_dir(std::string v) && { return set(dir, std::move(v)); }
  ShardCacheOptions&& with_max_bytes(std::uint64_t v) && { return set(max_bytes, v); }
};

class ShardCache {
 public:
  // InvalidArgument for an empty dir; Error when the directory cannot be
  // created. Existing entries are picked up (their last use is the data
  // file's modification time); leftovers of interrupted downloads are removed.
  explicit ShardCache(ShardCacheOptions options);
  ~ShardCache();
  ShardCache(const ShardCache&) = delete;
  ShardCache& operator=(const ShardCache&) = delete;

  // A source for `url`. Hit: the cached copy, when it still has the recorded
  // size and, for ATProto getBlob URLs, the content hash the URL's CID names
  // (a copy that fails the check is deleted and counts as a miss). Miss:
  // `open_origin()`'s stream, teed into the cache; it becomes an entry when
  // the stream ends cleanly, or as soon as the origin's announced size has
  // been delivered (a tar reader may stop before asking for the end). A
  // failed or abandoned read leaves no entry. Local paths, file: URLs and "-"
  // are never cached (open_origin() is returned as is). Failures of the
  // cache itself (disk full, unwritable directory) never fail the read: the
  // bytes still come from the origin, only the entry is not kept.
  // Errors of open_origin() and of its stream propagate unchanged.
  ByteSourcePtr open(const std::string& url, const std::function<ByteSourcePtr()>& open_origin);

  // Forgets the entry of `url` (e.g. after the origin changed); true if there was one.
  bool remove(const std::string& url);

  struct Stats {
    std::uint64_t hits = 0;           // opens served from the cache
    std::uint64_t misses = 0;         // opens that went to the origin
    std::uint64_t evictions = 0;      // entries removed to stay below max_bytes
    std::uint64_t bytes_written = 0;  // bytes of committed new entries
    std::uint64_t bytes_cached = 0;   // bytes of the entries known now
    std::uint64_t entries = 0;        // entries known now
    std::uint64_t write_errors = 0;   // entries dropped because the cache could not write or commit them
  };
  // Counters of this object (entries of other processes sharing the
  // directory are counted once they are seen: at construction and eviction).
  // Thread-safe.
  Stats stats() const;

  const ShardCacheOptions& options() const noexcept;

  // Shared with the sources it hands out, which may outlive the cache.
  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace atdata
