#include "atdata/dataset/loader_pipeline.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>

#include "async_util.hpp"
#include "atdata/error.hpp"
#include "prefetcher.hpp"
#include "raw_loader_access.hpp"

namespace atdata {

struct LoaderPipeline::Impl : std::enable_shared_from_this<Impl> {
  struct Entry {
    std::shared_ptr<void> item;
    std::exception_ptr error;
    IterationState state;
    std::size_t samples = 0;
    bool ready = false;
    bool end = false;
  };

  Impl(LoaderConfig config, DecodeFn d)
      : prefetch(config.prefetch), raw(std::move(config)), decode(std::move(d)), state(raw.state()) {}

  // Declared first, destroyed last: sockets and timers below may be bound to it.
  std::unique_ptr<asio::io_context> own_ctx;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> own_work;
  std::thread own_thread;

  PrefetchOptions prefetch;
  std::shared_ptr<detail::DecodePool> pool;
  std::shared_ptr<detail::LoaderCounters> counters = std::make_shared<detail::LoaderCounters>();
  RawLoader raw;
  DecodeFn decode;

  std::optional<asio::any_io_executor> ex;
  std::unique_ptr<detail::Signal> consumer_wake, producer_wake;
  // The queue is shared with a blocking consumer on another thread: it and
  // the entries' `ready` are guarded by `mu`; `cv` tells that consumer.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<Entry>> queue;
  bool producer_waiting = false;  // under mu
  bool stopped = false;
  bool producer_done = false;  // the run loop is over
  bool released = false;       // release_io() ran
  std::size_t decoding = 0;    // decode jobs running
  IterationState state;

  void start(const asio::any_io_executor& e) {
    if (ex) {
      if (*ex != e) throw InvalidArgument("a loader runs on one executor: it was started on another one");
      return;
    }
    ex = e;
    consumer_wake = std::make_unique<detail::Signal>(e);
    producer_wake = std::make_unique<detail::Signal>(e);
    if (prefetch.decode_threads > 0) pool = std::make_shared<detail::DecodePool>(prefetch.decode_threads);
    detail::RawLoaderAccess::attach(raw, pool, counters);
    asio::co_spawn(e, produce(shared_from_this()), asio::detached);
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    if (!released) detail::RawLoaderAccess::stop(raw);
    if (consumer_wake) consumer_wake->notify();
    if (producer_wake) producer_wake->notify();
  }

  static asio::awaitable<void> decode_job(std::shared_ptr<Impl> self, std::shared_ptr<Entry> e,
                                          std::vector<RawSample> group) {
    auto job = [&] { e->item = self->decode(group); };
    try {
      co_await detail::offload(self->pool.get(), job);
    } catch (...) {
      e->error = std::current_exception();
    }
    group.clear();  // drop the raw bytes here, not on the consumer's thread
    {
      std::lock_guard lock(self->mu);
      e->ready = true;
    }
    self->cv.notify_one();
    --self->decoding;
    self->consumer_wake->notify();
    if (self->producer_done && self->decoding == 0) self->release_io(false);
  }

  // The run loop's I/O objects (timers, the prefetcher with its sockets) are
  // bound to the executor's io_context; they are released as soon as the run
  // loop is over, so that a loader may outlive that io_context. `abandon`:
  // the io_context is being destroyed (its handlers, our coroutine frames
  // among them, are being dropped): nothing may be notified any more.
  void release_io(bool abandon) {
    if (released) return;
    released = true;
    detail::RawLoaderAccess::release(raw, abandon);
    consumer_wake.reset();
    producer_wake.reset();
  }

  // Ends the run loop's life in either case: the coroutine returning, or its
  // frame being destroyed with the io_context.
  struct ProducerGuard {
    Impl& m;
    bool finished = false;
    ~ProducerGuard() {
      m.producer_done = true;
      if (!finished) {
        m.release_io(true);
      } else if (m.decoding == 0) {
        m.release_io(false);
      }
    }
  };

  static asio::awaitable<void> produce(std::shared_ptr<Impl> self) {
    Impl& m = *self;
    ProducerGuard guard{m};
    co_await produce_loop(m);
    guard.finished = true;
  }

  static asio::awaitable<void> produce_loop(Impl& m) {
    std::shared_ptr<Impl> self = m.shared_from_this();
    const std::size_t depth = std::max<std::size_t>(m.prefetch.queue_depth, 1);
    while (!m.stopped) {
      for (;;) {
        {
          std::lock_guard lock(m.mu);
          m.producer_waiting = m.queue.size() >= depth && !m.stopped;
          if (!m.producer_waiting) break;
        }
        co_await m.producer_wake->wait();
      }
      if (m.stopped) break;
      auto e = std::make_shared<Entry>();
      std::vector<RawSample> group;
      bool more = false;
      bool fatal = false;
      try {
        more = co_await m.raw.next_group(group);
      } catch (const Error&) {
        e->error = std::current_exception();
      } catch (...) {
        e->error = std::current_exception();
        fatal = true;  // not a shard or sample problem: the iteration cannot go on
      }
      if (m.stopped) break;
      e->state = m.raw.state();
      if (e->error || !more) {
        e->end = !e->error;
        m.push_ready(e);
        if (!more && !e->error) break;
        if (fatal) {
          auto end = std::make_shared<Entry>();
          end->end = true;
          end->state = e->state;
          m.push_ready(end);
          break;
        }
        continue;
      }
      e->samples = group.size();
      {
        std::lock_guard lock(m.mu);
        m.queue.push_back(e);
      }
      ++m.decoding;
      asio::co_spawn(*m.ex, decode_job(self, e, std::move(group)), asio::detached);
    }
  }

  void push_ready(const std::shared_ptr<Entry>& e) {
    {
      std::lock_guard lock(mu);
      e->ready = true;
      queue.push_back(e);
    }
    cv.notify_one();
    if (consumer_wake) consumer_wake->notify();
  }

  // Under mu, the front entry ready: takes it (the end marker stays, so every
  // later call ends too). Returns null at the end; `wake`: the producer
  // waits for room.
  std::shared_ptr<Entry> take_front(bool& wake) {
    std::shared_ptr<Entry> e = queue.front();
    if (e->end) return nullptr;
    queue.pop_front();
    wake = producer_waiting;
    return e;
  }

  std::shared_ptr<void> deliver(const std::shared_ptr<Entry>& e) {
    state = e->state;
    counters->items.fetch_add(1, std::memory_order_relaxed);
    counters->samples.fetch_add(e->samples, std::memory_order_relaxed);
    if (e->error) std::rethrow_exception(e->error);
    return std::move(e->item);
  }

  static asio::awaitable<std::shared_ptr<void>> next_on(std::shared_ptr<Impl> self) {
    Impl& m = *self;
    m.start(co_await asio::this_coro::executor);
    for (;;) {
      std::shared_ptr<Entry> e;
      bool wake = false, ready = false;
      {
        std::lock_guard lock(m.mu);
        if (!m.queue.empty() && m.queue.front()->ready) {
          ready = true;
          e = m.take_front(wake);
        }
      }
      if (ready) {
        if (!e) co_return nullptr;
        if (wake && m.producer_wake) m.producer_wake->notify();
        co_return m.deliver(e);
      }
      if (m.stopped || !m.consumer_wake) throw Error("the loader was stopped");
      co_await m.consumer_wake->wait();
    }
  }

  // Blocking consumer: takes ready items straight from the queue, so a
  // batch that is already decoded costs one uncontended lock, not a round
  // trip through the loader's thread.
  std::shared_ptr<void> next_blocking_impl() {
    std::shared_ptr<Entry> e;
    bool wake = false;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !queue.empty() && queue.front()->ready; });
      e = take_front(wake);
    }
    if (!e) return nullptr;
    if (wake) {
      asio::post(*own_ctx, [self = shared_from_this()] {
        if (self->producer_wake) self->producer_wake->notify();
      });
    }
    return deliver(e);
  }
};

LoaderPipeline::LoaderPipeline(LoaderConfig config, DecodeFn decode) {
  if (config.prefetch.shards_in_flight == 0) throw InvalidArgument("shards_in_flight must be at least 1");
  if (config.prefetch.read_ahead_bytes == 0) throw InvalidArgument("read_ahead_bytes must be at least 1");
  if (config.prefetch.queue_depth == 0) throw InvalidArgument("queue_depth must be at least 1");
  if (config.prefetch.max_retries < 0) throw InvalidArgument("max_retries must not be negative");
  impl_ = std::make_shared<Impl>(std::move(config), std::move(decode));
}

LoaderPipeline::~LoaderPipeline() {
  if (!impl_) return;
  std::shared_ptr<Impl> m = std::move(impl_);
  if (m->own_ctx) {
    asio::post(*m->own_ctx, [m] { m->stop(); });
    m->own_work.reset();
    if (m->own_thread.joinable()) m->own_thread.join();
  } else if (m->ex && m.use_count() > 1) {
    // The run loop still runs (its tasks hold the state; when the io_context
    // is gone, so are they): it ends on its own executor once it sees the stop.
    asio::dispatch(*m->ex, [m] { m->stop(); });
  }
  // Decode and parse jobs work on data in the run loop's coroutine frames and
  // report to its io_context: none may outlive this loader, whichever of the
  // two goes first.
  if (m->pool) m->pool->wait_idle();
}

LoaderPipeline::LoaderPipeline(LoaderPipeline&&) noexcept = default;
LoaderPipeline& LoaderPipeline::operator=(LoaderPipeline&& o) noexcept {
  if (this != &o) {
    LoaderPipeline old(std::move(*this));
    impl_ = std::move(o.impl_);
  }
  return *this;
}

asio::awaitable<std::shared_ptr<void>> LoaderPipeline::next() {
  return Impl::next_on(impl_);
}

std::shared_ptr<void> LoaderPipeline::next_blocking() {
  Impl& m = *impl_;
  if (!m.own_ctx) {
    if (m.ex) throw InvalidArgument("a loader runs on one executor: it was started with co_await next()");
    m.own_ctx = std::make_unique<asio::io_context>(1);
    m.own_work.emplace(m.own_ctx->get_executor());
    m.own_thread = std::thread([ctx = m.own_ctx.get()] { ctx->run(); });
    asio::post(*m.own_ctx, [self = impl_, ex = m.own_ctx->get_executor()] { self->start(ex); });
  }
  return m.next_blocking_impl();
}

const IterationState& LoaderPipeline::state() const noexcept {
  return impl_->state;
}
const std::vector<std::string>& LoaderPipeline::shards() const noexcept {
  return impl_->raw.shards();
}
LoaderStats LoaderPipeline::stats() const {
  return impl_->counters->snapshot();
}

}  // namespace atdata
