#pragma once
// Tools the loader pipeline is built from, besides detail::Signal: the decode
// pool, and offload(), which runs a CPU job on it and resumes the coroutine
// back on its own executor.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "atdata/io/asio_build.hpp"
#include "atdata/io/detail/signal.hpp"

namespace atdata::detail {

namespace asio = boost::asio;

// The decode workers plus a count of the jobs given to them that have not
// finished handing their result back. A loader waits for that count to drop
// to zero before it goes away, so no job outlives the data it works on or
// the io_context it reports to.
class DecodePool {
 public:
  explicit DecodePool(std::size_t threads) : pool_(threads) {}
  ~DecodePool() { pool_.join(); }

  asio::thread_pool& pool() noexcept { return pool_; }
  void begin() {
    std::lock_guard lock(mu_);
    ++pending_;
  }
  void end() {
    std::lock_guard lock(mu_);
    if (--pending_ == 0) idle_.notify_all();
  }
  void wait_idle() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return pending_ == 0; });
  }

 private:
  asio::thread_pool pool_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::size_t pending_ = 0;
};

// Runs `job()` on `pool` (inline when null) while the calling coroutine is
// suspended; exceptions from the job are rethrown in the coroutine. The job
// may touch only data the suspended coroutine owns: the coroutine resumes on
// its executor after the job, so that data is handed back race-free.
template <class Job>
asio::awaitable<void> offload(DecodePool* pool, Job& job) {
  if (!pool) {
    job();
    co_return;
  }
  std::exception_ptr error;
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
      [pool, &job, &error](auto handler) {
        pool->begin();
        auto work = asio::make_work_guard(asio::get_associated_executor(handler));
        asio::post(pool->pool(),
                   [pool, &job, &error, handler = std::move(handler), work = std::move(work)]() mutable {
                     try {
                       job();
                     } catch (...) {
                       error = std::current_exception();
                     }
                     {
                       // Everything that refers to the caller's io_context is handed
                       // over or released before the loader may go away.
                       auto ex = work.get_executor();
                       asio::post(ex, std::move(handler));
                       work.reset();
                     }
                     pool->end();
                   });
      },
      asio::use_awaitable);
  if (error) std::rethrow_exception(error);
}

// Sleeps, returning early (false) when cancelled.
inline asio::awaitable<bool> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

}  // namespace atdata::detail
