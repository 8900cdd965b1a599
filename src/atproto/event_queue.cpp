#include "atdata/atproto/event_queue.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>

#include "atdata/error.hpp"
#include "atdata/io/detail/signal.hpp"

namespace atdata::atproto {

namespace asio = boost::asio;

// Waiters wait on a Signal and re-check their condition: one consumer and
// a handful of producers make the spurious wake-ups cheap, and a waiter
// cancelled from outside (asio cancellation) simply leaves, since no state is
// owned by a waiter.
struct RepoEventQueue::Impl {
  asio::any_io_executor ex;
  std::size_t capacity;
  std::deque<RepoEvent> items;
  bool closed = false;
  detail::Signal not_empty;
  detail::Signal not_full;

  Impl(asio::any_io_executor e, std::size_t cap) : ex(e), capacity(cap), not_empty(e), not_full(e) {}

  static asio::awaitable<void> wait(detail::Signal& s) {
    co_await s.wait();
    // Woken by a state change, or by the caller's cancellation slot: a
    // cancelled waiter must not loop back into the wait.
    const auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) {
      throw boost::system::system_error(asio::error::operation_aborted);
    }
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
  q.not_empty.notify();
}

asio::awaitable<bool> RepoEventQueue::push(RepoEvent event, const bool& stop) {
  Impl& q = *impl_;
  while (!q.closed && !stop && q.items.size() >= q.capacity) co_await Impl::wait(q.not_full);
  if (q.closed) throw Error("event queue closed");
  if (stop) co_return false;
  q.items.push_back(std::move(event));
  q.not_empty.notify();
  co_return true;
}

void RepoEventQueue::wake_producers() noexcept {
  impl_->not_full.notify();
}

asio::awaitable<std::optional<RepoEvent>> RepoEventQueue::pop() {
  Impl& q = *impl_;
  while (q.items.empty() && !q.closed) co_await Impl::wait(q.not_empty);
  if (q.items.empty()) co_return std::nullopt;
  RepoEvent e = std::move(q.items.front());
  q.items.pop_front();
  q.not_full.notify();
  co_return e;
}

asio::awaitable<std::size_t> RepoEventQueue::pop_batch(std::vector<RepoEvent>& out, std::size_t max,
                                                       std::chrono::microseconds linger) {
  Impl& q = *impl_;
  if (max == 0) co_return 0;
  while (q.items.empty() && !q.closed) co_await Impl::wait(q.not_empty);
  std::size_t n = 0;
  const auto take = [&] {
    std::size_t moved = 0;
    while (n < max && !q.items.empty()) {
      out.push_back(std::move(q.items.front()));
      q.items.pop_front();
      ++n;
      ++moved;
    }
    if (moved) q.not_full.notify();  // producers waiting on a full queue go on meanwhile
    return moved;
  };
  take();
  if (linger.count() > 0 && n > 0) {
    // Three empty yields in a row: the producers are waiting for the
    // network (or gone), so the batch is as large as it will get soon.
    constexpr int kIdleYields = 3;
    const auto until = std::chrono::steady_clock::now() + linger;
    int idle = 0;
    while (n < max && !q.closed && idle < kIdleYields && std::chrono::steady_clock::now() < until) {
      co_await asio::post(q.ex, asio::use_awaitable);
      idle = take() ? 0 : idle + 1;
    }
  }
  co_return n;
}

void RepoEventQueue::close() noexcept {
  impl_->closed = true;
  impl_->not_empty.notify();
  impl_->not_full.notify();
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
