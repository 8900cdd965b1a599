// RepoEventQueue alone: FIFO order, back-pressure at capacity, batches, and
// close() waking both sides.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

#include "atdata/atproto/event_queue.hpp"
#include "atdata/error.hpp"
#include "support/net_run.hpp"

namespace atdata::atproto {
namespace {

namespace asio = boost::asio;

RepoEvent ev(std::int64_t cursor) {
  RepoEvent e;
  e.cursor = cursor;
  return e;
}

TEST(RepoEventQueue, FifoAndBackPressureAtCapacity) {
  asio::io_context io;
  RepoEventQueue q(io.get_executor(), 2);
  int pushed = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (int i = 1; i <= 5; ++i) {
          co_await q.push(ev(i));
          ++pushed;
        }
      },
      asio::detached);
  io.run_for(std::chrono::milliseconds(20));
  io.restart();
  EXPECT_EQ(pushed, 2) << "the producer must wait while the queue is full";
  EXPECT_EQ(q.size(), 2u);
  std::vector<std::int64_t> got;
  test::run_io(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 5; ++i) {
      auto e = co_await q.pop();
      got.push_back(e->cursor);
    }
  }());
  EXPECT_EQ(got, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(pushed, 5);
}

TEST(RepoEventQueue, BatchTakesWhatIsQueuedWithoutWaitingForMore) {
  asio::io_context io;
  RepoEventQueue q(io.get_executor(), 10);
  std::vector<RepoEvent> out;
  const std::size_t n = test::run_io(io, [&]() -> asio::awaitable<std::size_t> {
    for (int i = 1; i <= 7; ++i) co_await q.push(ev(i));
    co_return co_await q.pop_batch(out, 5);
  }());
  EXPECT_EQ(n, 5u);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out.front().cursor, 1);
  EXPECT_EQ(q.size(), 2u);
  const std::size_t m = test::run_io(io, q.pop_batch(out, 5));
  EXPECT_EQ(m, 2u);
  EXPECT_EQ(out.back().cursor, 7);
}

// A producer queueing one event per turn of the executor (as a subscriber
// does, one per frame read): without linger a batch is one event; with it,
// the batch grows while events keep coming and ends soon after they stop,
// long before the linger is over, and never beyond `max`.
TEST(RepoEventQueue, LingeringBatchGrowsWhileEventsKeepComingAndEndsWhenTheyStop) {
  struct Rig {
    asio::io_context io;
    RepoEventQueue q{io.get_executor(), 4};  // smaller than the batches: taking must wake the producer
    std::vector<RepoEvent> out;
    explicit Rig(int count) {
      asio::co_spawn(
          io,
          [this, count]() -> asio::awaitable<void> {
            for (int i = 1; i <= count; ++i) {
              co_await q.push(ev(i));
              co_await asio::post(io, asio::use_awaitable);
            }
          },
          asio::detached);
    }
  };
  {
    Rig r(200);
    EXPECT_LE(test::run_io(r.io, r.q.pop_batch(r.out, 1000)), 4u) << "without linger: what is queued only";
  }
  {
    Rig r(200);
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(test::run_io(r.io, r.q.pop_batch(r.out, 1000, std::chrono::seconds(5))), 200u);
    const auto took = std::chrono::steady_clock::now() - t0;
    for (std::size_t i = 0; i < r.out.size(); ++i)
      EXPECT_EQ(r.out[i].cursor, static_cast<std::int64_t>(i + 1));
    EXPECT_LT(took, std::chrono::seconds(1)) << "once events stop coming the batch ends, not at the linger";
  }
  {
    Rig r(300);
    EXPECT_EQ(test::run_io(r.io, r.q.pop_batch(r.out, 100, std::chrono::seconds(5))), 100u)
        << "never beyond max";
  }
}

TEST(RepoEventQueue, CloseWakesWaitersDrainsThenEnds) {
  asio::io_context io;
  RepoEventQueue q(io.get_executor(), 1);
  bool push_threw = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await q.push(ev(1));
        try {
          co_await q.push(ev(2));  // waits: full
        } catch (const Error&) {
          push_threw = true;
        }
      },
      asio::detached);
  io.run_for(std::chrono::milliseconds(10));
  io.restart();
  q.close();
  io.run_for(std::chrono::milliseconds(10));
  io.restart();
  EXPECT_TRUE(push_threw);
  auto first = test::run_io(io, q.pop());
  ASSERT_TRUE(first);
  EXPECT_EQ(first->cursor, 1);
  auto end = test::run_io(io, q.pop());
  EXPECT_FALSE(end);
  std::vector<RepoEvent> out;
  EXPECT_EQ(test::run_io(io, q.pop_batch(out, 4)), 0u);
  EXPECT_THROW(RepoEventQueue(io.get_executor(), 0), InvalidArgument);
}

TEST(RepoEventQueue, WaitingPopEndsWhenClosedFromElsewhere) {
  asio::io_context io;
  RepoEventQueue q(io.get_executor(), 4);
  asio::post(io, [&] { q.close(); });
  auto e = test::run_io(io, q.pop());
  EXPECT_FALSE(e);
}

}  // namespace
}  // namespace atdata::atproto
