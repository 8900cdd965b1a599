#pragma once
// The pipeline's private hooks into RawLoader.

#include <memory>

#include <boost/asio/thread_pool.hpp>

#include "atdata/dataset/raw_loader.hpp"

namespace atdata::detail {

struct LoaderCounters;

struct RawLoaderAccess {
  // CPU jobs go to `pool` (null = inline); progress is counted in `counters`.
  static void attach(RawLoader& loader, std::shared_ptr<boost::asio::thread_pool> pool,
                     std::shared_ptr<LoaderCounters> counters);
  // Ends the prefetch tasks; on the loader's executor.
  static void stop(RawLoader& loader);
};

}  // namespace atdata::detail
