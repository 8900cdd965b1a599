#pragma once
// RepoEventQueue: the bounded hand-off between event-stream subscribers
// (Firehose, Jetstream: any number of producers) and one consumer (such as
// the discovery catalogue). A full queue makes producers wait, so a slow
// consumer slows reading from the network instead of growing memory; the
// server then applies its own back-pressure (or drops the connection with
// ConsumerTooSlow, after which the subscriber resumes from its cursor).
//
// All producers and the consumer run on the queue's executor (one
// io_context thread or strand); the queue is not a cross-thread channel.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "atdata/atproto/repo_event.hpp"
#include "atdata/io/asio_build.hpp"

namespace atdata::atproto {

class RepoEventQueue {
 public:
  // capacity >= 1 (InvalidArgument otherwise).
  RepoEventQueue(boost::asio::any_io_executor ex, std::size_t capacity);
  ~RepoEventQueue();
  RepoEventQueue(const RepoEventQueue&) = delete;
  RepoEventQueue& operator=(const RepoEventQueue&) = delete;

  // Waits while the queue is full. Throws atdata::Error("event queue closed")
  // once close() was called; the event is then dropped.
  boost::asio::awaitable<void> push(RepoEvent event);
  // As push(), but gives up while waiting once `stop` is true (checked
  // whenever wake_producers() or a pop wakes it): returns false and drops the
  // event. How a subscriber's cancel() reaches a push blocked on a full queue.
  boost::asio::awaitable<bool> push(RepoEvent event, const bool& stop);
  void wake_producers() noexcept;
  // The next event, waiting while the queue is empty; nullopt once the queue
  // is closed and drained.
  boost::asio::awaitable<std::optional<RepoEvent>> pop();
  // Waits for at least one event, then moves up to `max` queued events into
  // `out` (appended). Returns how many were moved; 0 once closed and drained.
  // One wake-up per batch: consumers that write in transactions use this.
  //
  // With `linger` 0 it takes only what is queued already. With linger > 0 it
  // then lets the producers run (it yields to the executor) and takes what
  // they queue, for as long as events keep coming, until `max` events or
  // `linger` has passed. A subscriber queues one event per frame it reads, so
  // without this a consumer as fast as the network would commit one event
  // per transaction; with it, a busy stream is committed in large batches
  // and an idle one at once (a few empty yields end the wait).
  boost::asio::awaitable<std::size_t> pop_batch(std::vector<RepoEvent>& out, std::size_t max,
                                                std::chrono::microseconds linger = {});

  // Wakes every waiter: pushes throw, pops drain what is left then end.
  void close() noexcept;
  bool closed() const noexcept;
  std::size_t size() const noexcept;
  std::size_t capacity() const noexcept;
  boost::asio::any_io_executor get_executor() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace atdata::atproto
