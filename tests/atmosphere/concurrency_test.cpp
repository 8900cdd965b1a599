#include "atdata/atmosphere/concurrency.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

namespace {

namespace asio = boost::asio;
using atdata::atmosphere::detail::for_each_bounded;

template <class F>
void run(F&& make, int threads) {
  asio::io_context io;
  auto fut = asio::co_spawn(io, make(), asio::use_future);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  fut.get();
}

asio::awaitable<void> tick() {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::microseconds(200));
  co_await t.async_wait(asio::use_awaitable);
}

class ForEachBounded : public ::testing::TestWithParam<int> {};

TEST_P(ForEachBounded, RunsEveryTaskOnceWithinTheBound) {
  constexpr std::size_t n = 100;
  std::vector<int> hits(n, 0);
  std::atomic<int> in_flight{0}, peak{0};
  run(
      [&]() -> asio::awaitable<void> {
        co_await for_each_bounded(n, 4, [&](std::size_t i) -> asio::awaitable<void> {
          int now = ++in_flight;
          int p = peak.load();
          while (now > p && !peak.compare_exchange_weak(p, now)) {
          }
          co_await tick();
          --in_flight;
          hits[i] += 1;
        });
      },
      GetParam());
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i], 1) << i;
  EXPECT_LE(peak.load(), 4);
  EXPECT_GE(peak.load(), 2);  // it really overlaps
}

TEST_P(ForEachBounded, FirstErrorStopsNewTasksAndPropagates) {
  std::atomic<int> started{0};
  EXPECT_THROW(run(
                   [&]() -> asio::awaitable<void> {
                     co_await for_each_bounded(1000, 3, [&](std::size_t i) -> asio::awaitable<void> {
                       ++started;
                       co_await tick();
                       if (i == 5) throw std::runtime_error("boom");
                     });
                   },
                   GetParam()),
               std::runtime_error);
  EXPECT_LT(started.load(), 20);
}

TEST_P(ForEachBounded, ZeroTasksAndBoundZero) {
  int calls = 0;
  run(
      [&]() -> asio::awaitable<void> {
        co_await for_each_bounded(0, 4, [&](std::size_t) -> asio::awaitable<void> {
          ++calls;
          co_return;
        });
        co_await for_each_bounded(3, 0, [&](std::size_t) -> asio::awaitable<void> {
          ++calls;
          co_return;
        });
      },
      GetParam());
  EXPECT_EQ(calls, 3);
}

INSTANTIATE_TEST_SUITE_P(Threads, ForEachBounded, ::testing::Values(1, 4));

}  // namespace
