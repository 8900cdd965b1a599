#pragma once
// LoaderPipeline: the non-template engine behind every Dataset loader. It owns
// the RawLoader (shard prefetching, shuffling, grouping), the decode workers
// and the queue of decoded items; Loader<Item> only casts the items back.
//
// One run loop per loader, started by the first next():
//   producer: RawLoader groups → decode job (worker thread) → bounded queue
//   consumer: next() takes items in order
// The awaitable next() runs everything on the caller's executor; the
// blocking next_blocking() runs it on one thread the pipeline owns, so
// reading and decoding continue while the caller computes.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "atdata/dataset/prefetch.hpp"
#include "atdata/dataset/raw_loader.hpp"
#include "atdata/io/asio_build.hpp"

namespace atdata {

class LoaderPipeline {
 public:
  // Maps one group of raw samples to a decoded item; runs on a decode
  // worker, so it must not touch shared state. Exceptions are delivered by
  // next() in the item's place.
  using DecodeFn = std::function<std::shared_ptr<void>(std::vector<RawSample>& group)>;

  // Validates like RawLoader (InvalidArgument), plus the prefetch options.
  LoaderPipeline(LoaderConfig config, DecodeFn decode);
  // Stops the run loop: pending downloads are cancelled, the owned thread
  // (blocking use) is joined.
  ~LoaderPipeline();
  LoaderPipeline(LoaderPipeline&&) noexcept;
  LoaderPipeline& operator=(LoaderPipeline&&) noexcept;

  // The next item, null at the end. Errors of an item (a SampleError, a
  // ShardError after the samples before the damage) are thrown in its
  // place; calling again continues with what follows. A loader runs on one
  // executor: the first call decides which (InvalidArgument otherwise).
  asio::awaitable<std::shared_ptr<void>> next();
  std::shared_ptr<void> next_blocking();

  // Where to resume after the last item returned.
  const IterationState& state() const noexcept;
  const std::vector<std::string>& shards() const noexcept;
  LoaderStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace atdata
