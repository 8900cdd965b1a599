#pragma once
// Signal: a wakeup for coroutines sharing one executor (the loader
// pipeline, the event queue, discovery notifications). Private to the
// library: not part of the API.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "atdata/io/asio_build.hpp"

namespace atdata::detail {

// Waiters re-check their condition after every wakeup; as everything runs on
// one executor, a condition checked false cannot change before wait()
// registers, so no wakeup is lost.
class Signal {
 public:
  explicit Signal(const boost::asio::any_io_executor& ex)
      : timer_(ex, boost::asio::steady_timer::time_point::max()) {}
  boost::asio::awaitable<void> wait() {
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
  void notify() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace atdata::detail
