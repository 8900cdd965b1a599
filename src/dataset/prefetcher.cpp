#include "prefetcher.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "async_util.hpp"
#include "atdata/dataset/shard_cache.hpp"
#include "atdata/error.hpp"
#include "atdata/net/http_client.hpp"

namespace atdata::detail {

LoaderStats LoaderCounters::snapshot() const {
  LoaderStats s;
  s.bytes = bytes.load(std::memory_order_relaxed);
  s.samples = samples.load(std::memory_order_relaxed);
  s.items = items.load(std::memory_order_relaxed);
  s.shards_done = shards_done.load(std::memory_order_relaxed);
  s.shards_total = shards_total.load(std::memory_order_relaxed);
  s.shards_skipped = shards_skipped.load(std::memory_order_relaxed);
  s.in_flight = in_flight.load(std::memory_order_relaxed);
  s.retries = retries.load(std::memory_order_relaxed);
  s.buffered_bytes = buffered.load(std::memory_order_relaxed);
  const std::int64_t t0 = start_ns.load(std::memory_order_relaxed);
  if (t0 != 0) {
    const std::int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::duration(now - t0)).count();
  }
  return s;
}

struct PrefetchShared {
  explicit PrefetchShared(const asio::any_io_executor& ex_) : ex(ex_), consumer(ex_) {}
  asio::any_io_executor ex;
  PrefetchOptions opt;
  ShardOpener opener;
  std::shared_ptr<net::HttpClient> http;
  std::shared_ptr<ShardCache> cache;
  std::shared_ptr<DecodePool> pool;
  std::shared_ptr<LoaderCounters> counters;
  Signal consumer;  // samples arrived or a shard finished
  bool stopped = false;

  // `resumes`: how many resumes the source may do by itself.
  ByteSourcePtr open(const std::string& url, int resumes) const {
    auto origin = [&] {
      ShardContext ctx(url, ex, http);
      ctx.max_resumes = resumes;
      ctx.resume_backoff = opt.retry_backoff;
      return opener ? opener(ctx) : open_shard(ctx);
    };
    return cache ? cache->open(url, origin) : origin();
  }
};

struct ShardSlot {
  ShardSlot(const asio::any_io_executor& ex, std::uint32_t i, std::string u)
      : index(i), url(std::move(u)), parser(url), fetch_wake(ex), parse_wake(ex) {}

  std::uint32_t index;
  std::string url;

  // Fetch stage → parse stage.
  std::deque<SharedBytes> chunks;
  std::size_t chunk_bytes = 0;
  std::uint64_t received = 0;  // bytes of the shard delivered in order
  bool fetch_done = false;
  std::exception_ptr fetch_error;

  // Parse stage → consumer. The parser is only touched by parse jobs.
  ShardParser parser;
  bool finish_fed = false;
  bool parser_has_more = false;
  std::vector<RawSample> samples;
  std::size_t sample_pos = 0;
  std::size_t sample_bytes = 0;
  bool parse_done = false;
  std::exception_ptr error;  // delivered after the samples

  Signal fetch_wake;  // room in the buffer
  Signal parse_wake;  // chunks arrived, or room for samples
  // Shared with the fetch task's completion handler, which must outlive the
  // coroutine that is bound to it (the slot is cleared after the frame, and
  // with it possibly this ShardSlot, is gone).
  std::shared_ptr<asio::cancellation_signal> cancel = std::make_shared<asio::cancellation_signal>();
  bool abandoned = false;  // parsing ended: the fetcher stops

  std::size_t in_job = 0;  // chunk bytes handed to the running parse job
  std::size_t buffered() const noexcept { return chunk_bytes + in_job + sample_bytes; }
};

namespace {

std::size_t sample_size(const RawSample& s) noexcept {
  std::size_t n = 0;
  for (const auto& m : s.members) n += m.data.size();
  return n;
}

// Transport trouble worth another attempt: resets, timeouts, overload.
bool retryable(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const HttpError& h) {
    return h.status() >= 500 || h.status() == 408 || h.status() == 429;
  } catch (const NetworkError&) {
    return true;
  } catch (...) {
    return false;
  }
}

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "unknown error";
  }
}

asio::awaitable<void> fetch_task(std::shared_ptr<PrefetchShared> sh, std::shared_ptr<ShardSlot> slot) {
  ShardSlot& s = *slot;
  const PrefetchOptions& opt = sh->opt;
  ByteSourcePtr src;
  std::uint64_t skip = 0;  // after a restart: bytes already delivered
  int attempts = 0;        // restarts by us
  int resumed = 0;         // resumes by the sources before the current one
  auto used = [&] { return attempts + resumed; };
  // A source's own resumes count against the same budget and in the stats.
  auto retire = [&] {
    if (!src) return;
    const int r = src->resumes();
    resumed += r;
    sh->counters->retries.fetch_add(static_cast<std::uint64_t>(r), std::memory_order_relaxed);
    src.reset();
  };
  std::chrono::milliseconds backoff = opt.retry_backoff;
  auto quit = [&] { return sh->stopped || s.abandoned; };
  while (!quit()) {
    std::exception_ptr failure;
    try {
      while (s.buffered() >= opt.read_ahead_bytes && !quit()) {
        co_await s.fetch_wake.wait();
      }
      if (quit()) break;
      if (!src) src = sh->open(s.url, opt.max_retries - used());
      SharedBytes c = co_await src->next_chunk();
      if (quit()) break;
      if (c.empty()) {
        if (skip > 0) {
          throw NetworkError("GET " + s.url + ": the shard ended at byte " +
                             std::to_string(s.received - skip) + " after a restart, shorter than the " +
                             std::to_string(s.received) + " bytes read before");
        }
        s.fetch_done = true;
        retire();
        break;
      }
      if (skip > 0) {
        if (c.size() <= skip) {
          skip -= c.size();
          continue;
        }
        c = c.slice(static_cast<std::size_t>(skip), c.size() - static_cast<std::size_t>(skip));
        skip = 0;
      }
      s.received += c.size();
      s.chunk_bytes += c.size();
      sh->counters->bytes.fetch_add(c.size(), std::memory_order_relaxed);
      sh->counters->buffered.fetch_add(c.size(), std::memory_order_relaxed);
      s.chunks.push_back(std::move(c));
      s.parse_wake.notify();
    } catch (...) {
      failure = std::current_exception();
    }
    if (!failure) continue;
    if (quit()) break;
    retire();
    if (!retryable(failure) || used() >= opt.max_retries) {
      if (used() > 0) {
        s.fetch_error = std::make_exception_ptr(ShardError(
            s.url, s.received, "failed after " + std::to_string(used()) + " retries: " + what_of(failure)));
      } else if (retryable(failure)) {
        s.fetch_error = std::make_exception_ptr(ShardError(s.url, s.received, what_of(failure)));
      } else {
        s.fetch_error = failure;  // permanent (404, missing file, …): as thrown
      }
      s.fetch_done = true;
      break;
    }
    // Restart from the first byte and skip what was delivered: the source
    // already resumed with Range where the server allows it.
    ++attempts;
    sh->counters->retries.fetch_add(1, std::memory_order_relaxed);
    skip = s.received;
    if (!co_await sleep_for(backoff)) break;
    backoff *= 2;
  }
  s.parse_wake.notify();
}

asio::awaitable<void> parse_task(std::shared_ptr<PrefetchShared> sh, std::shared_ptr<ShardSlot> slot) {
  ShardSlot& s = *slot;
  const std::size_t cap = sh->opt.read_ahead_bytes;
  std::vector<SharedBytes> input;
  std::vector<RawSample> got;
  while (!sh->stopped) {
    // Work is: new chunks, the end of the input, or samples the parser
    // already holds (a job stops when the sample buffer is full).
    while (!sh->stopped && !(s.sample_bytes < cap &&
                             (!s.chunks.empty() || (s.fetch_done && !s.finish_fed) || s.parser_has_more))) {
      co_await s.parse_wake.wait();
    }
    if (sh->stopped) break;
    std::size_t moved = 0;
    while (!s.chunks.empty()) {
      moved += s.chunks.front().size();
      input.push_back(std::move(s.chunks.front()));
      s.chunks.pop_front();
    }
    s.chunk_bytes -= moved;
    const bool end = s.fetch_done && s.chunks.empty();
    const bool end_clean = end && !s.fetch_error;
    const std::size_t room = cap - s.sample_bytes;
    std::size_t got_bytes = 0;
    bool needs_input = false, done = false, has_more = false;
    std::exception_ptr perr;
    // The parser is fed one chunk at a time and only when it has no samples
    // left to give, so what it holds beyond the counted buffer is at most one
    // chunk; chunks it did not need go back to the queue.
    std::size_t used = 0;
    auto job = [&] {
      try {
        for (;;) {
          // pop() returning 0 means the parser needs input (a short return
          // may mean an error is pending for the next call).
          bool empty = false;
          while (got_bytes < room) {
            const std::size_t before = got.size();
            const std::size_t n = s.parser.pop(got, 16);
            for (std::size_t i = before; i < got.size(); ++i) got_bytes += sample_size(got[i]);
            if (n == 0) {
              empty = true;
              break;
            }
          }
          if (!empty) {
            has_more = true;
            break;
          }
          if (s.parser.done()) break;
          if (used < input.size()) {
            s.parser.feed(std::move(input[used++]));
            continue;
          }
          if (end_clean && !s.finish_fed) {
            s.parser.finish();
            s.finish_fed = true;
            continue;
          }
          needs_input = true;
          break;
        }
        done = s.parser.done();
      } catch (...) {
        perr = std::current_exception();
        done = true;
        has_more = false;
      }
    };
    s.in_job = moved;
    co_await offload(sh->pool.get(), job);
    s.in_job = 0;
    s.fetch_wake.notify();
    if (!done) {
      for (std::size_t i = input.size(); i-- > used;) {
        moved -= input[i].size();
        s.chunk_bytes += input[i].size();
        s.chunks.push_front(std::move(input[i]));
      }
    }
    input.clear();
    sh->counters->buffered.fetch_add(got_bytes, std::memory_order_relaxed);
    sh->counters->buffered.fetch_sub(moved, std::memory_order_relaxed);
    for (auto& r : got) s.samples.push_back(std::move(r));
    got.clear();
    s.sample_bytes += got_bytes;
    if (perr) {
      s.error = perr;
      s.parse_done = true;
    } else if (done) {
      s.parse_done = true;
    } else if (end && needs_input && s.fetch_error) {
      // The transfer failed for good: the samples completed before it are
      // out, now the error.
      s.error = s.fetch_error;
      s.parse_done = true;
    }
    s.parser_has_more = has_more && !s.parse_done;
    sh->consumer.notify();
    if (s.parse_done) break;
  }
  // Whatever the fetcher still holds is no longer wanted.
  s.abandoned = true;
  s.cancel->emit(asio::cancellation_type::terminal);
  s.fetch_wake.notify();
}

}  // namespace

Prefetcher::Prefetcher(std::vector<std::string> shards, std::size_t first, PrefetchOptions options,
                       ShardOpener opener, std::shared_ptr<net::HttpClient> http,
                       const asio::any_io_executor& ex, std::shared_ptr<ShardCache> cache,
                       std::shared_ptr<DecodePool> pool, std::shared_ptr<LoaderCounters> counters)
    : sh_(std::make_shared<PrefetchShared>(ex)), shards_(std::move(shards)), next_open_(first) {
  if (options.shards_in_flight == 0) throw InvalidArgument("shards_in_flight must be at least 1");
  if (options.read_ahead_bytes == 0) throw InvalidArgument("read_ahead_bytes must be at least 1");
  sh_->opt = options;
  sh_->opener = std::move(opener);
  sh_->http = std::move(http);
  sh_->cache = std::move(cache);
  sh_->pool = std::move(pool);
  sh_->counters = counters ? std::move(counters) : std::make_shared<LoaderCounters>();
  sh_->counters->shards_total.store(shards_.size(), std::memory_order_relaxed);
}

Prefetcher::~Prefetcher() {
  stop();
}

void Prefetcher::stop() {
  if (sh_->stopped) return;
  sh_->stopped = true;
  for (auto& s : window_) {
    s->cancel->emit(asio::cancellation_type::terminal);
    s->fetch_wake.notify();
    s->parse_wake.notify();
  }
  sh_->consumer.notify();
  sh_->counters->in_flight.store(0, std::memory_order_relaxed);
}

void Prefetcher::abandon() {
  sh_->stopped = true;
  window_.clear();
  sh_->counters->in_flight.store(0, std::memory_order_relaxed);
}

void Prefetcher::fill_window() {
  while (window_.size() < sh_->opt.shards_in_flight && next_open_ < shards_.size()) {
    auto slot =
        std::make_shared<ShardSlot>(sh_->ex, static_cast<std::uint32_t>(next_open_), shards_[next_open_]);
    ++next_open_;
    window_.push_back(slot);
    asio::co_spawn(sh_->ex, fetch_task(sh_, slot),
                   asio::bind_cancellation_slot(slot->cancel->slot(),
                                                [keep = slot->cancel](const std::exception_ptr&) {}));
    asio::co_spawn(sh_->ex, parse_task(sh_, slot), asio::detached);
  }
  sh_->counters->in_flight.store(window_.size(), std::memory_order_relaxed);
}

asio::awaitable<std::size_t> Prefetcher::next(std::vector<RawSample>& out, std::size_t max,
                                              std::uint32_t& shard) {
  if (!started_) {
    started_ = true;
    sh_->counters->mark_start();
  }
  LoaderCounters& c = *sh_->counters;
  for (;;) {
    if (sh_->stopped) throw Error("the loader was stopped");
    fill_window();
    if (window_.empty()) co_return 0;
    ShardSlot& s = *window_.front();
    if (s.sample_pos < s.samples.size()) {
      const std::size_t n = std::min(max, s.samples.size() - s.sample_pos);
      std::size_t bytes = 0;
      for (std::size_t i = 0; i < n; ++i) {
        RawSample& r = s.samples[s.sample_pos + i];
        bytes += sample_size(r);
        out.push_back(std::move(r));
      }
      s.sample_pos += n;
      if (s.sample_pos == s.samples.size()) {
        s.samples.clear();
        s.sample_pos = 0;
      }
      s.sample_bytes -= bytes;
      c.buffered.fetch_sub(bytes, std::memory_order_relaxed);
      s.parse_wake.notify();
      shard = s.index;
      co_return n;
    }
    if (s.parse_done) {
      std::exception_ptr err = s.error;
      c.buffered.fetch_sub(s.chunk_bytes, std::memory_order_relaxed);
      window_.pop_front();
      fill_window();
      if (!err) {
        c.shards_done.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (sh_->opt.on_shard_error == ShardErrorPolicy::skip) {
        c.shards_skipped.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      c.shards_done.fetch_add(1, std::memory_order_relaxed);
      std::rethrow_exception(err);
    }
    co_await sh_->consumer.wait();
  }
}

}  // namespace atdata::detail
