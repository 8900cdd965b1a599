#include "atdata/atproto/event_queue.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>

#include "atdata/error.hpp"

namespace atdata::atproto {

namespace asio = boost::asio;

// Waiters park on a timer that never expires by itself; a state change
// cancels it, which wakes every waiter, and each one re-checks its
// condition. One consumer and a handful of producers make the spurious
// wake-ups cheap, and a waiter cancelled from outside (asio cancellation)
// simply leaves: no state is owned by a waiter.
struct RepoEventQueue::Impl {
  asio::any_io_executor ex;
  std::size_t capacity;
  std::deque<RepoEvent> items;
  bool closed = false;
  asio::steady_timer not_empty;
  asio::steady_timer not_full;

  Impl(asio::any_io_executor e, std::size_t cap) : ex(e), capacity(cap), not_empty(e), not_full(e) {
    not_empty.expires_at(asio::steady_timer::time_point::max());
    not_full.expires_at(asio::steady_timer::time_point::max());
  }

  static asio::awaitable<void> wait(asio::steady_timer& t) {
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    // Cancelled by a state change (operation_aborted) or by the caller's
    // cancellation slot: either way the caller re-checks. A cancellation of
    // the coroutine itself surfaces at its next co_await of an operation.
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
      throw boost::system::system_error(asio::error::operation_aborted);
    }
  }
  static void wake(asio::steady_timer& t) {
    t.cancel();
    t.expires_at(asio::steady_timer::time_point::max());
  }
};

RepoEventQueue::RepoEventQueue(asio::any_io_executor ex, std::size_t capacity) {
  if (capacity == 0) throw InvalidArgument("RepoEventQueue capacity must be >= 1");
  impl_ = std::make_unique<Impl>(std::move(ex), capacity);
}

RepoEventQueue::~RepoEventQueue() = default;

asio::awaitable<void> RepoEventQueue::push(RepoEvent event) {
  Impl& q = *impl_;
  while (!q.closed && q.items.size() >= q.capacity) co_await Impl::wait(q.not_full);
  if (q.closed) throw Error("event queue closed");
  q.items.push_back(std::move(event));
  Impl::wake(q.not_empty);
}

asio::awaitable<bool> RepoEventQueue::push(RepoEvent event, const bool& stop) {
  Impl& q = *impl_;
  while (!q.closed && !stop && q.items.size() >= q.capacity) co_await Impl::wait(q.not_full);
  if (q.closed) throw Error("event queue closed");
  if (stop) co_return false;
  q.items.push_back(std::move(event));
  Impl::wake(q.not_empty);
  co_return true;
}

void RepoEventQueue::wake_producers() noexcept {
  Impl::wake(impl_->not_full);
}

asio::awaitable<std::optional<RepoEvent>> RepoEventQueue::pop() {
  Impl& q = *impl_;
  while (q.items.empty() && !q.closed) co_await Impl::wait(q.not_empty);
  if (q.items.empty()) co_return std::nullopt;
  RepoEvent e = std::move(q.items.front());
  q.items.pop_front();
  Impl::wake(q.not_full);
  co_return e;
}

asio::awaitable<std::size_t> RepoEventQueue::pop_batch(std::vector<RepoEvent>& out, std::size_t max) {
  Impl& q = *impl_;
  if (max == 0) co_return 0;
  while (q.items.empty() && !q.closed) co_await Impl::wait(q.not_empty);
  std::size_t n = 0;
  while (n < max && !q.items.empty()) {
    out.push_back(std::move(q.items.front()));
    q.items.pop_front();
    ++n;
  }
  if (n) Impl::wake(q.not_full);
  co_return n;
}

void RepoEventQueue::close() noexcept {
  impl_->closed = true;
  Impl::wake(impl_->not_empty);
  Impl::wake(impl_->not_full);
}

bool RepoEventQueue::closed() const noexcept {
  return impl_->closed;
}
std::size_t RepoEventQueue::size() const noexcept {
  return impl_->items.size();
}
std::size_t RepoEventQueue::capacity() const noexcept {
  return impl_->capacity;
}
asio::any_io_executor RepoEventQueue::get_executor() const noexcept {
  return impl_->ex;
}

}  // namespace atdata::atproto
