#pragma once
// A thread-safe one-shot event coroutines can wait for: the building block of
// single-flight operations (one token refresh shared by every concurrent
// call, one DID lookup shared by every caller asking for the same DID).
// Waiters that arrive after set() complete at once. Each waiter is resumed
// through its own executor, and keeps that executor's work count up while
// it waits, so io_context::run() does not return under it.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>

#include <exception>
#include <mutex>
#include <utility>
#include <vector>

namespace atdata::atproto::detail {

class AsyncEvent {
 public:
  explicit AsyncEvent(boost::asio::any_io_executor fallback) : fallback_(std::move(fallback)) {}
  AsyncEvent(const AsyncEvent&) = delete;
  AsyncEvent& operator=(const AsyncEvent&) = delete;

  template <class Token>
  auto async_wait(Token&& token) {
    return boost::asio::async_initiate<Token, void()>(
        [this](auto handler) {
          auto ex = boost::asio::prefer(boost::asio::get_associated_executor(handler, fallback_),
                                        boost::asio::execution::outstanding_work.tracked);
          std::unique_lock lock(mu_);
          if (set_) {
            lock.unlock();
            boost::asio::post(ex, std::move(handler));
            return;
          }
          waiters_.push_back(Waiter{std::move(ex), std::move(handler)});
        },
        token);
  }

  // Wakes every waiter; later waiters complete immediately.
  void set() {
    std::vector<Waiter> w;
    {
      std::lock_guard lock(mu_);
      if (set_) return;
      set_ = true;
      w.swap(waiters_);
    }
    for (auto& x : w) boost::asio::post(x.ex, std::move(x.handler));
  }

  bool is_set() const {
    std::lock_guard lock(mu_);
    return set_;
  }

 private:
  struct Waiter {
    boost::asio::any_io_executor ex;  // tracks outstanding work
    boost::asio::any_completion_handler<void()> handler;
  };
  boost::asio::any_io_executor fallback_;
  mutable std::mutex mu_;
  bool set_ = false;
  std::vector<Waiter> waiters_;
};

// The shared outcome of one in-flight operation.
template <class T>
struct Flight {
  explicit Flight(boost::asio::any_io_executor ex) : done(std::move(ex)) {}
  AsyncEvent done;
  T value{};
  std::exception_ptr error;
};

}  // namespace atdata::atproto::detail
