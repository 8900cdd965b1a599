#pragma once
// The pipeline's private hooks into RawLoader.

#include <memory>

#include "atdata/dataset/raw_loader.hpp"

namespace atdata::detail {

struct LoaderCounters;
class DecodePool;

struct RawLoaderAccess {
  // CPU jobs go to `pool` (null = inline); progress is counted in `counters`.
  static void attach(RawLoader& loader, std::shared_ptr<DecodePool> pool,
                     std::shared_ptr<LoaderCounters> counters);
  // Ends the prefetch tasks; on the loader's executor.
  static void stop(RawLoader& loader);
  // Destroys the prefetcher (and everything bound to the executor); with
  // `abandon`, without notifying anyone (the io_context is going away).
  static void release(RawLoader& loader, bool abandon);
};

}  // namespace atdata::detail
