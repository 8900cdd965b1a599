#include "atdata/dataset/raw_loader.hpp"

#include <algorithm>
#include <exception>
#include <random>
#include <utility>

#include <boost/asio/this_coro.hpp>

#include "atdata/error.hpp"
#include "atdata/net/http_client.hpp"
#include "prefetcher.hpp"
#include "raw_loader_access.hpp"

namespace atdata {
namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Seeds are mixed from (seed, epoch, stream) so that epochs and the two
// shuffles are independent streams.
std::mt19937_64 make_rng(std::uint64_t seed, std::uint64_t epoch, std::uint64_t stream) {
  return std::mt19937_64(splitmix64(splitmix64(splitmix64(seed) ^ epoch) ^ stream));
}

// Uniform in [0, n) without modulo bias, identical on every platform
// (std::uniform_int_distribution is implementation-defined).
std::size_t bounded(std::mt19937_64& rng, std::size_t n) {
  __extension__ using u128 = unsigned __int128;
  return static_cast<std::size_t>((static_cast<u128>(rng()) * n) >> 64);
}

template <class T>
T pick(std::vector<T>& buf, std::mt19937_64& rng) {
  std::size_t k = bounded(rng, buf.size());
  std::swap(buf[k], buf.back());
  T out = std::move(buf.back());
  buf.pop_back();
  return out;
}

// webdataset's shuffle(bufsize, initial=100) over a finished list.
std::vector<std::string> buffered_shuffle(std::vector<std::string> items, std::size_t bufsize,
                                          std::mt19937_64& rng) {
  std::size_t initial = std::min<std::size_t>(100, bufsize);
  std::vector<std::string> buf, out;
  out.reserve(items.size());
  std::size_t i = 0;
  while (i < items.size()) {
    buf.push_back(std::move(items[i++]));
    if (buf.size() < bufsize && i < items.size()) buf.push_back(std::move(items[i++]));
    if (buf.size() >= initial) out.push_back(pick(buf, rng));
  }
  while (!buf.empty()) out.push_back(pick(buf, rng));
  return out;
}

// Samples taken from the prefetcher at a time: enough to keep coroutine
// overhead off the per-sample path, few enough not to add to the memory
// bound (the prefetcher only reads ahead for what it still holds).
std::size_t read_block(std::size_t batch) {
  return std::clamp<std::size_t>(batch, 16, 256);
}

}  // namespace

std::vector<std::string> shards_for_rank(const LoaderConfig& config) {
  std::vector<std::string> all = config.shards;
  if (config.shuffle) {
    auto rng = make_rng(config.shuffle->seed, config.shuffle->epoch, 1);
    all = buffered_shuffle(std::move(all), std::max<std::size_t>(config.shuffle->buffer_shards, 1), rng);
  }
  std::vector<std::string> mine;
  for (std::size_t i = config.rank; i < all.size(); i += std::max<std::size_t>(config.world_size, 1)) {
    mine.push_back(std::move(all[i]));
  }
  return mine;
}

struct RawLoader::Impl {
  LoaderConfig cfg;
  std::vector<std::string> shards;
  IterationState st;

  std::size_t next_shard = 0;  // where the prefetcher starts
  std::unique_ptr<detail::Prefetcher> prefetcher;
  std::shared_ptr<detail::DecodePool> pool;
  std::shared_ptr<detail::LoaderCounters> counters;
  std::uint64_t skip_in_first = 0;  // ordered resume
  std::uint64_t replay_skip = 0;    // shuffled resume

  std::vector<RawSample> in;
  std::vector<std::uint32_t> in_shard;
  std::size_t in_pos = 0;

  struct Item {
    RawSample sample;
    std::uint32_t shard;
  };
  std::vector<Item> buf;
  std::mt19937_64 rng;
  std::size_t initial = 0;
  bool draining = false;
  // A shard error met while a group was half full: that group is returned
  // first, and this is thrown by the next call.
  std::exception_ptr pending_error;

  asio::awaitable<bool> refill() {
    in.clear();
    in_shard.clear();
    in_pos = 0;
    if (!prefetcher) {
      auto ex = co_await asio::this_coro::executor;
      prefetcher =
          std::make_unique<detail::Prefetcher>(shards, next_shard, cfg.prefetch, cfg.opener,
                                               net::client_on(cfg.http, ex), ex, cfg.cache, pool, counters);
    }
    while (in.empty()) {
      std::uint32_t shard = 0;
      std::size_t n = co_await prefetcher->next(in, read_block(cfg.batch_size), shard);
      if (n == 0) co_return false;
      // The resume skip applies to the resumed shard only.
      if (cfg.resume && shard != cfg.resume->shard_index) skip_in_first = 0;
      if (skip_in_first > 0) {
        std::size_t drop = static_cast<std::size_t>(std::min<std::uint64_t>(skip_in_first, in.size()));
        in.erase(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(drop));
        skip_in_first -= drop;
      }
      in_shard.assign(in.size(), shard);
    }
    co_return true;
  }

  // Appends up to batch_size samples to `out` (fewer only at the end).
  asio::awaitable<void> fill_group(std::vector<RawSample>& out);

  Item take_in() {
    Item it{std::move(in[in_pos]), in_shard[in_pos]};
    ++in_pos;
    return it;
  }
};

RawLoader::RawLoader(LoaderConfig config) : impl_(std::make_unique<Impl>()) {
  if (config.batch_size == 0) throw InvalidArgument("batch_size must be at least 1");
  if (config.world_size == 0 || config.rank >= config.world_size) {
    throw InvalidArgument("rank " + std::to_string(config.rank) + " is not below world_size " +
                          std::to_string(config.world_size));
  }
  if (config.shuffle && (config.shuffle->buffer_samples == 0 || config.shuffle->buffer_shards == 0)) {
    throw InvalidArgument("shuffle buffers must hold at least one item");
  }
  Impl& m = *impl_;
  m.cfg = std::move(config);
  m.shards = shards_for_rank(m.cfg);
  m.st.shuffled = m.cfg.shuffle.has_value();
  if (m.cfg.shuffle) {
    m.st.seed = m.cfg.shuffle->seed;
    m.st.epoch = m.cfg.shuffle->epoch;
    m.rng = make_rng(m.cfg.shuffle->seed, m.cfg.shuffle->epoch, 2 + m.cfg.rank);
    m.initial = std::min<std::size_t>(100, m.cfg.shuffle->buffer_samples);
  }
  if (m.cfg.resume) {
    const IterationState& r = *m.cfg.resume;
    if (r.shuffled != m.st.shuffled || (r.shuffled && (r.seed != m.st.seed || r.epoch != m.st.epoch))) {
      throw InvalidArgument("resume state does not match this iteration (ordered/shuffled, seed, epoch)");
    }
    m.st = r;
    if (r.shuffled) {
      m.replay_skip = r.samples_delivered;
    } else {
      if (r.shard_index > m.shards.size()) throw InvalidArgument("resume state: shard index out of range");
      m.next_shard = static_cast<std::size_t>(r.shard_index);
      m.skip_in_first = r.samples_in_shard;
    }
  }
}

RawLoader::~RawLoader() = default;

void detail::RawLoaderAccess::attach(RawLoader& loader, std::shared_ptr<DecodePool> pool,
                                     std::shared_ptr<LoaderCounters> counters) {
  loader.impl_->pool = std::move(pool);
  loader.impl_->counters = std::move(counters);
}

void detail::RawLoaderAccess::release(RawLoader& loader, bool abandon) {
  if (!loader.impl_ || !loader.impl_->prefetcher) return;
  if (abandon) loader.impl_->prefetcher->abandon();
  loader.impl_->prefetcher.reset();
}

void detail::RawLoaderAccess::stop(RawLoader& loader) {
  if (loader.impl_ && loader.impl_->prefetcher) loader.impl_->prefetcher->stop();
}
RawLoader::RawLoader(RawLoader&&) noexcept = default;
RawLoader& RawLoader::operator=(RawLoader&&) noexcept = default;

const IterationState& RawLoader::state() const noexcept {
  return impl_->st;
}
const std::vector<std::string>& RawLoader::shards() const noexcept {
  return impl_->shards;
}

asio::awaitable<bool> RawLoader::next_group(std::vector<RawSample>& out) {
  Impl& m = *impl_;
  out.clear();
  if (m.pending_error) {
    std::exception_ptr e = std::exchange(m.pending_error, nullptr);
    std::rethrow_exception(e);
  }
  try {
    co_await m.fill_group(out);
  } catch (const Error&) {
    // The samples completed before the damage are delivered (docs/dataset.md):
    // hand out the partial group now, report the error on the next call.
    if (out.empty()) throw;
    m.pending_error = std::current_exception();
  }
  co_return !out.empty();
}

asio::awaitable<void> RawLoader::Impl::fill_group(std::vector<RawSample>& out) {
  Impl& m = *this;
  const std::size_t batch = m.cfg.batch_size;
  const std::size_t bufsize = m.cfg.shuffle ? m.cfg.shuffle->buffer_samples : 0;
  while (out.size() < batch) {
    Impl::Item item;
    if (!m.cfg.shuffle) {
      if (m.in_pos == m.in.size()) {
        const bool more = co_await m.refill();
        if (!more) break;
      }
      item = m.take_in();
    } else {
      // webdataset shuffle(bufsize, initial=min(100, bufsize)), one output.
      bool got = false;
      while (!got) {
        if (m.draining) {
          if (m.buf.empty()) break;
          item = pick(m.buf, m.rng);
          got = true;
          break;
        }
        if (m.in_pos == m.in.size()) {
          const bool more = co_await m.refill();
          if (!more) {
            m.draining = true;
            continue;
          }
        }
        m.buf.push_back(m.take_in());
        if (m.buf.size() < bufsize) {
          bool have = m.in_pos < m.in.size();
          if (!have) have = co_await m.refill();
          if (have) m.buf.push_back(m.take_in());
        }
        if (m.buf.size() >= m.initial) {
          item = pick(m.buf, m.rng);
          got = true;
        }
      }
      if (!got) break;
    }
    if (m.replay_skip > 0) {
      --m.replay_skip;
      continue;
    }
    if (!m.st.shuffled) {
      if (item.shard != m.st.shard_index) {
        m.st.shard_index = item.shard;
        m.st.samples_in_shard = 0;
      }
      ++m.st.samples_in_shard;
    }
    ++m.st.samples_delivered;
    out.push_back(std::move(item.sample));
  }
}

}  // namespace atdata
