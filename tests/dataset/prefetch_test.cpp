// The prefetching pipeline alone, fed by scripted sources that deliver their
// chunks only when the test says so (in the manner of Boost.Redis' reader
// tests): order under any arrival order, retries, failures, skipping,
// cancellation and the memory bound.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "atdata/dataset/dataset.hpp"
#include "atdata/dataset/write.hpp"
#include "atdata/error.hpp"
#include "atdata/io/tar_writer.hpp"

namespace {

using namespace atdata;
using namespace std::chrono_literals;

struct Item {
  std::int64_t id;
  std::string pad;
};
BOOST_DESCRIBE_STRUCT(Item, (), (id, pad))

// A shard of `n` samples with ids first, first + 1, …; `pad` bytes each.
SharedBytes make_shard(std::int64_t first, int n, std::size_t pad = 100) {
  TarWriter w = TarWriter::in_memory();
  for (int i = 0; i < n; ++i) {
    const std::int64_t id = first + i;
    write_sample(w, Item{id, std::string(pad, 'p')}, "s" + std::to_string(id));
  }
  w.close();
  return SharedBytes::adopt(w.take_bytes());
}

// What the scripted sources of one test share. All access is on the test's
// single io_context thread except `live`/`opened`, read after joins.
struct Script {
  std::map<std::string, SharedBytes> shards;
  std::size_t chunk = 4096;
  // Chunks each URL may deliver right now (-1 = unlimited).
  std::map<std::string, long> allowance;
  // Opening number → chunk index at which that open fails (NetworkError).
  std::map<std::string, std::map<int, std::size_t>> fail_at;
  std::map<std::string, int> opens;
  std::atomic<int> live{0};
  int max_live = 0;
  std::uint64_t delivered = 0;  // bytes handed to the pipeline, all sources
  std::vector<std::unique_ptr<asio::steady_timer>> waiters;

  void release(const std::string& url, long chunks) {
    allowance[url] = chunks;
    for (auto& t : waiters) t->cancel();
  }
  void release_all() {
    for (auto& [u, _] : shards) allowance[u] = -1;
    for (auto& t : waiters) t->cancel();
  }
};

class ScriptedSource final : public ByteSource {
 public:
  ScriptedSource(Script& s, std::string url, int open_no) : s_(s), url_(std::move(url)), open_no_(open_no) {
    s_.max_live = std::max(s_.max_live, ++s_.live);
  }
  ~ScriptedSource() override { --s_.live; }

  asio::awaitable<SharedBytes> next_chunk() override {
    const SharedBytes& all = s_.shards.at(url_);
    if (pos_ >= all.size()) co_return SharedBytes{};
    for (;;) {
      auto f = s_.fail_at[url_].find(open_no_);
      if (f != s_.fail_at[url_].end() && index_ == f->second) {
        throw NetworkError("scripted reset of " + url_ + " at chunk " + std::to_string(index_));
      }
      long& allow = s_.allowance[url_];
      if (allow != 0) {
        if (allow > 0) --allow;
        break;
      }
      auto& t = s_.waiters.emplace_back(
          std::make_unique<asio::steady_timer>(co_await asio::this_coro::executor, std::chrono::hours(1)));
      asio::steady_timer* mine = t.get();
      co_await mine->async_wait(asio::as_tuple(asio::use_awaitable));
      std::erase_if(s_.waiters, [&](const auto& p) { return p.get() == mine; });
      // A cancelled pipeline must not leave us waiting: give up when asked.
      if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none) {
        throw NetworkError("cancelled");
      }
    }
    const std::size_t n = std::min(s_.chunk, all.size() - pos_);
    SharedBytes c = all.slice(pos_, n);
    pos_ += n;
    ++index_;
    s_.delivered += n;
    co_return c;
  }
  const std::string& url() const noexcept override { return url_; }

 private:
  Script& s_;
  std::string url_;
  int open_no_;
  std::size_t pos_ = 0, index_ = 0;
};

ShardOpener scripted_opener(Script& s) {
  return [&s](const ShardContext& shard) -> ByteSourcePtr {
    return std::make_unique<ScriptedSource>(s, shard.url, s.opens[shard.url]++);
  };
}

// Shards "mem://k" holding ids k*per … k*per+per-1.
void add_shards(Script& s, int count, int per, std::size_t pad = 100) {
  for (int k = 0; k < count; ++k) s.shards["mem://" + std::to_string(k)] = make_shard(k * per, per, pad);
}

std::string pattern(int count) {
  std::string p;
  for (int k = 0; k < count; ++k) p += (k ? "::mem://" : "mem://") + std::to_string(k);
  return p;
}

PrefetchOptions prefetch(std::size_t in_flight, std::size_t threads) {
  PrefetchOptions p;
  p.shards_in_flight = in_flight;
  p.decode_threads = threads;
  p.retry_backoff = 1ms;
  return p;
}

// Drives `loader` on `io` to the end, collecting ids; errors are recorded.
struct Collected {
  std::vector<std::int64_t> ids;
  std::vector<std::string> errors;
};

template <class L>
asio::awaitable<void> collect(L& loader, Collected& out) {
  for (;;) {
    try {
      auto b = co_await loader.next();
      if (!b) break;
      for (auto id : b->template column<&Item::id>()) out.ids.push_back(id);
    } catch (const Error& e) {
      out.errors.push_back(e.what());
    }
  }
}

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = i;
  return v;
}

// The slowest shard first: later shards arrive completely before it sends a
// byte, yet the output is in shard order, and all four were open at once.
TEST(Prefetch, SlowFirstShardKeepsTheOrder) {
  for (std::size_t threads : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
    SCOPED_TRACE("decode_threads " + std::to_string(threads));
    Script s;
    add_shards(s, 4, 50);
    for (int k = 1; k < 4; ++k) s.allowance["mem://" + std::to_string(k)] = -1;
    s.allowance["mem://0"] = 0;
    Dataset<Item> ds(pattern(4),
                     DatasetOptions().with_opener(scripted_opener(s)).with_prefetch(prefetch(4, threads)));
    auto loader = ds.ordered(7);
    asio::io_context io;
    Collected got;
    asio::co_spawn(io, collect(loader, got), asio::detached);
    io.run_for(200ms);  // shards 1–3 are read through; 0 waits
    EXPECT_TRUE(got.ids.empty());
    for (int k = 0; k < 4; ++k) EXPECT_EQ(s.opens["mem://" + std::to_string(k)], 1);  // all four at once
    EXPECT_EQ(loader.stats().in_flight, 4u);
    s.release_all();
    io.restart();
    io.run();
    EXPECT_EQ(got.ids, iota(200));
    EXPECT_TRUE(got.errors.empty());
    EXPECT_EQ(loader.stats().samples, 200u);
    EXPECT_EQ(loader.stats().shards_done, 4u);
    EXPECT_EQ(s.live, 0);
  }
}

// A reset at chunk k restarts the shard and skips what was delivered: no
// sample missing, none repeated.
TEST(Prefetch, FailureAtChunkKResumes) {
  for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
    SCOPED_TRACE("fail at chunk " + std::to_string(k));
    Script s;
    add_shards(s, 3, 40);
    s.chunk = 1000;
    s.fail_at["mem://1"][0] = k;      // first open fails at chunk k
    s.fail_at["mem://1"][1] = k + 2;  // the second one a little later
    s.release_all();
    Dataset<Item> ds(pattern(3),
                     DatasetOptions().with_opener(scripted_opener(s)).with_prefetch(prefetch(2, 1)));
    auto loader = ds.ordered(5);
    asio::io_context io;
    Collected got;
    asio::co_spawn(io, collect(loader, got), asio::detached);
    io.run();
    EXPECT_EQ(got.ids, iota(120));
    EXPECT_TRUE(got.errors.empty()) << got.errors.front();
    EXPECT_EQ(s.opens["mem://1"], 3);
    EXPECT_EQ(loader.stats().retries, 2u);
  }
}

// A shard failing on every attempt: the samples before the failure, then a
// ShardError naming the URL and the byte offset, then the next shard; with
// on_shard_error = skip, no error and the shard is counted as skipped.
TEST(Prefetch, AShardThatKeepsFailingRaisesOrIsSkipped) {
  for (ShardErrorPolicy policy : {ShardErrorPolicy::raise, ShardErrorPolicy::skip}) {
    Script s;
    add_shards(s, 3, 40);
    s.chunk = 1024;
    for (int i = 0; i < 10; ++i) s.fail_at["mem://1"][i] = 4;  // 4 KiB, then reset, every time
    s.release_all();
    PrefetchOptions p = prefetch(2, 1);
    p.max_retries = 2;
    p.on_shard_error = policy;
    Dataset<Item> ds(pattern(3), DatasetOptions().with_opener(scripted_opener(s)).with_prefetch(p));
    auto loader = ds.ordered(1);
    asio::io_context io;
    Collected got;
    asio::co_spawn(io, collect(loader, got), asio::detached);
    io.run();
    EXPECT_EQ(s.opens["mem://1"], 3);  // 1 + max_retries
    // The samples wholly inside the first 4 KiB of shard 1 came out.
    std::size_t from_1 = 0;
    for (auto id : got.ids) from_1 += (id >= 40 && id < 80);
    EXPECT_GT(from_1, 0u);
    EXPECT_LT(from_1, 40u);
    EXPECT_EQ(got.ids.size(), 80 + from_1);
    if (policy == ShardErrorPolicy::raise) {
      ASSERT_EQ(got.errors.size(), 1u);
      EXPECT_NE(got.errors[0].find("mem://1 at byte 4096"), std::string::npos) << got.errors[0];
      EXPECT_NE(got.errors[0].find("after 2 retries"), std::string::npos) << got.errors[0];
      EXPECT_EQ(loader.stats().shards_skipped, 0u);
    } else {
      EXPECT_TRUE(got.errors.empty());
      EXPECT_EQ(loader.stats().shards_skipped, 1u);
    }
  }
}

// Permanent errors (here: a missing local file) are not retried and keep
// their type.
TEST(Prefetch, PermanentErrorsAreNotRetried) {
  Dataset<Item> ds("/nonexistent/atdata-prefetch-{0..1}.tar", DatasetOptions().with_prefetch(prefetch(2, 0)));
  auto loader = ds.ordered(4);
  EXPECT_THROW(loader.next_blocking(), ShardError);
  EXPECT_THROW(loader.next_blocking(), ShardError);
  EXPECT_FALSE(loader.next_blocking().has_value());
  EXPECT_EQ(loader.stats().retries, 0u);
}

// Destroying a loader mid-flight ends every task: no source stays open,
// nothing is left on the io_context.
TEST(Prefetch, CancellationMidFlightEndsEveryTask) {
  Script s;
  add_shards(s, 6, 30);
  s.allowance["mem://0"] = 2;  // then everything stalls
  asio::io_context io;
  bool caught = false;
  {
    Dataset<Item> ds(pattern(6),
                     DatasetOptions().with_opener(scripted_opener(s)).with_prefetch(prefetch(4, 1)));
    auto loader = std::make_unique<Dataset<Item>::BatchLoader>(ds.ordered(4));
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          try {
            while (co_await loader->next()) {
            }
          } catch (const Error&) {
            caught = true;  // "the loader was stopped"
          }
        },
        asio::detached);
    io.run_for(100ms);
    EXPECT_EQ(s.live, 4);
    loader.reset();
  }
  const auto t0 = std::chrono::steady_clock::now();
  io.restart();
  io.run();  // returns only once every task has ended
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_TRUE(caught);
  EXPECT_EQ(s.live, 0);
  EXPECT_TRUE(s.waiters.empty());
}

// Read-ahead is bounded: a consumer that takes one batch and then stops
// leaves at most in_flight × (read-ahead + a chunk) + queue × batch read.
TEST(Prefetch, MemoryStaysWithinTheBound) {
  Script s;
  const std::size_t pad = 1000;
  add_shards(s, 8, 1000, pad);  // ≈ 1.5 MB each
  s.chunk = 8192;
  s.release_all();
  PrefetchOptions p = prefetch(3, 1);
  p.read_ahead_bytes = 64 * 1024;
  p.queue_depth = 2;
  Dataset<Item> ds(pattern(8), DatasetOptions().with_opener(scripted_opener(s)).with_prefetch(p));
  asio::io_context io;  // outlives the loader, whose tasks still run on it
  auto loader = ds.ordered(4);
  bool one = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto b = co_await loader.next();
        one = b.has_value();
      },
      asio::detached);
  // Run until the pipeline has filled what it may and gone quiet (the
  // delivered count stops changing), however slow the machine is.
  std::uint64_t last = ~0ull;
  for (int quiet = 0, i = 0; quiet < 3 && i < 200; ++i) {
    io.run_for(50ms);
    quiet = (s.delivered == last) ? quiet + 1 : 0;
    last = s.delivered;
  }
  ASSERT_TRUE(one);
  const std::size_t sample_bytes = pad + 1536;  // tar header + padding + msgpack, generous
  // Per shard: read-ahead + a chunk on each side + one parse step (16
  // samples); then the queue (+ the batch being decoded and the one handed
  // out) and the 16 samples the batcher pulls at a time.
  const std::uint64_t bound = 3 * (p.read_ahead_bytes + 2 * s.chunk + 16 * sample_bytes) +
                              (p.queue_depth + 2) * 4 * sample_bytes + 16 * sample_bytes;
  EXPECT_GT(s.delivered, 3 * p.read_ahead_bytes / 2);  // it did read ahead
  EXPECT_LE(s.delivered, bound);
  EXPECT_LE(loader.stats().buffered_bytes, bound);
  std::uint64_t total = 0;
  for (auto& [u, b] : s.shards) total += b.size();
  EXPECT_LT(s.delivered * 20, total);
}

// The same samples in the same order for every in-flight count and thread
// count, blocking and awaitable, batched and not.
TEST(Prefetch, OutputIsIndependentOfTheSettings) {
  Script s;
  add_shards(s, 9, 37);
  s.chunk = 3000;
  s.release_all();
  for (std::size_t n : {1, 2, 4, 8}) {
    for (std::size_t threads : {0, 1, 2}) {
      SCOPED_TRACE("in flight " + std::to_string(n) + ", threads " + std::to_string(threads));
      Dataset<Item> ds(pattern(9),
                       DatasetOptions().with_opener(scripted_opener(s)).with_prefetch(prefetch(n, threads)));
      std::vector<std::int64_t> ids;
      for (const auto& b : ds.ordered(10))
        for (auto id : b.column<&Item::id>()) ids.push_back(id);
      EXPECT_EQ(ids, iota(9 * 37));
      std::vector<std::int64_t> single;
      for (const auto& x : ds.ordered(unbatched)) single.push_back(x.id);
      EXPECT_EQ(single, iota(9 * 37));
    }
  }
}

// Blocking iteration reads ahead between items: while the caller holds the
// first batch, the other shards are fetched.
TEST(Prefetch, BlockingIterationReadsAheadWhileTheCallerWorks) {
  Script s;
  add_shards(s, 4, 20);
  s.release_all();
  Dataset<Item> ds(pattern(4),
                   DatasetOptions().with_opener(scripted_opener(s)).with_prefetch(prefetch(4, 1)));
  auto loader = ds.ordered(5);
  auto first = loader.next_blocking();
  ASSERT_TRUE(first.has_value());
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (loader.stats().bytes < 4 * s.shards.at("mem://3").size() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  std::uint64_t total = 0;
  for (auto& [u, b] : s.shards) total += b.size();
  EXPECT_EQ(loader.stats().bytes, total);  // everything arrived during our "compute"
}

// Ordered resume mid-stream gives the rest of the sequential read.
TEST(Prefetch, ResumeMidStream) {
  Script s;
  add_shards(s, 5, 30);
  s.release_all();
  Dataset<Item> ds(pattern(5),
                   DatasetOptions().with_opener(scripted_opener(s)).with_prefetch(prefetch(4, 1)));
  IterationState at;
  {
    auto loader = ds.ordered(7);
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(loader.next_blocking().has_value());
    at = loader.state();
  }
  EXPECT_EQ(at.samples_delivered, 42u);
  std::vector<std::int64_t> rest;
  for (const auto& b : ds.ordered(7, at))
    for (auto id : b.column<&Item::id>()) rest.push_back(id);
  std::vector<std::int64_t> want;
  for (std::int64_t i = 42; i < 150; ++i) want.push_back(i);
  EXPECT_EQ(rest, want);
}

TEST(Prefetch, InvalidOptionsAreRejected) {
  Dataset<Item> ds("x.tar", DatasetOptions().with_prefetch(PrefetchOptions().with_shards_in_flight(0)));
  EXPECT_THROW(ds.ordered(1), InvalidArgument);
  Dataset<Item> ds2("x.tar", DatasetOptions().with_prefetch(PrefetchOptions().with_queue_depth(0)));
  EXPECT_THROW(ds2.ordered(1), InvalidArgument);
}

}  // namespace
