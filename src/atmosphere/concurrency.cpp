#include "atdata/atmosphere/concurrency.hpp"

#include <algorithm>
#include <exception>
#include <memory>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace atdata::atmosphere::detail {

namespace asio = boost::asio;

namespace {

struct State {
  explicit State(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
  std::size_t next = 0;
  std::size_t running = 0;
  std::exception_ptr error;
  asio::steady_timer done;  // cancelled when the last worker exits
};

// A free coroutine (not a capturing lambda) so its state lives in its own frame.
asio::awaitable<void> worker(std::shared_ptr<State> st,
                             const std::function<asio::awaitable<void>(std::size_t)>* task, std::size_t n) {
  while (!st->error && st->next < n) {
    const std::size_t i = st->next++;
    try {
      co_await (*task)(i);
    } catch (...) {
      if (!st->error) st->error = std::current_exception();
    }
  }
}

asio::awaitable<void> orchestrate(std::size_t n, std::size_t max_in_flight,
                                  std::function<asio::awaitable<void>(std::size_t)> task) {
  auto ex = co_await asio::this_coro::executor;  // the strand
  auto st = std::make_shared<State>(ex);
  const std::size_t workers = std::min(n, std::max<std::size_t>(1, max_in_flight));
  st->running = workers;
  for (std::size_t w = 0; w < workers; ++w) {
    asio::co_spawn(ex, worker(st, &task, n), [st](std::exception_ptr) {
      if (--st->running == 0) st->done.cancel();
    });
  }
  while (st->running > 0) {
    boost::system::error_code ec;
    co_await st->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (st->error) std::rethrow_exception(st->error);
}

}  // namespace

asio::awaitable<void> for_each_bounded(std::size_t n, std::size_t max_in_flight,
                                       std::function<asio::awaitable<void>(std::size_t)> task) {
  if (n == 0) co_return;
  auto ex = co_await asio::this_coro::executor;
  co_await asio::co_spawn(asio::make_strand(ex), orchestrate(n, max_in_flight, std::move(task)),
                          asio::use_awaitable);
}

}  // namespace atdata::atmosphere::detail
