// The wired prefetching pipeline (Dataset loaders) against the nginx fixture
// and the fault-injecting proxy in front of it: whatever the settings and
// whatever the transport does (resets, 5xx/429, an origin without ranges or
// validators, latency, stalls, 404), the samples that come out are exactly
// those of reading the same shards from local files, in the same order; what
// cannot be recovered is a typed error within bounded time, never a hang.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/describe.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "atdata/dataset/dataset.hpp"
#include "atdata/dataset/write.hpp"
#include "atdata/error.hpp"
#include "atdata/io/tar_writer.hpp"
#include "atdata/net/http_client.hpp"
#include "fault_proxy_client.hpp"
#include "support/net_run.hpp"

namespace atdata::test {

// Stays outside the anonymous namespace: Boost.Describe names it.
struct PfSample {
  std::string key;  // the tar key, repeated so decoded values show it
  std::int64_t shard = 0;
  std::int64_t index = 0;  // position in the whole dataset
  Bytes payload;           // 1 B … 1.6 MiB: ragged, so not an NDArray (batches stack those)
};
BOOST_DESCRIBE_STRUCT(PfSample, (), (key, shard, index, payload))

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const std::string kRun = ATDATA_NGINX_RUN_DIR;

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

constexpr int kShards = 12;

std::size_t shard_samples(int s) {
  return 120 + static_cast<std::size_t>(s * 53) % 181;  // 120 … 300
}

// Mostly small samples, some of 20–120 KB and a few above 1 MiB, so that
// samples straddle the 1 MiB chunks of HTTP bodies and the read-ahead bound.
std::size_t payload_size(std::uint64_t global) {
  const std::uint64_t h = mix(global);
  if (global % 293 == 17) return (std::size_t{1} << 20) + h % (600 * 1024);
  if (global % 47 == 5) return 20'000 + h % 100'000;
  return 1 + h % 3000;
}

std::uint64_t fnv1a(std::span<const std::byte> b) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::byte c : b) h = (h ^ static_cast<std::uint8_t>(c)) * 0x100000001b3ull;
  return h;
}

// What one sample decoded to, compact enough to keep for every read.
struct Rec {
  std::string key;
  std::int64_t shard = 0;
  std::int64_t index = 0;
  std::size_t size = 0;
  std::uint64_t hash = 0;
  bool operator==(const Rec&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  return os << "{" << r.key << " shard " << r.shard << " index " << r.index << " size " << r.size << " hash "
            << r.hash << "}";
}

Rec rec_of(const PfSample& s) {
  return Rec{s.key, s.shard, s.index, s.payload.size(), fnv1a(s.payload.span())};
}

// The samples of one read, in order, and the size of each item handed out.
struct Read {
  std::vector<Rec> recs;
  std::vector<std::size_t> items;
};

void add(Read& r, const SampleBatch<PfSample>& b) {
  for (const auto& s : b.samples()) r.recs.push_back(rec_of(s));
  r.items.push_back(b.size());
}
void add(Read& r, const PfSample& s) {
  r.recs.push_back(rec_of(s));
  r.items.push_back(1);
}

// Reports the first difference only: a whole dataset printed is unreadable.
void expect_same(const std::vector<Rec>& want, const std::vector<Rec>& got, const std::string& what) {
  const std::size_t n = std::min(want.size(), got.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (!(want[i] == got[i])) {
      ADD_FAILURE() << what << ": sample " << i << " is " << got[i] << ", expected " << want[i];
      return;
    }
  }
  EXPECT_EQ(got.size(), want.size()) << what;
}

void expect_same(const Read& want, const Read& got, const std::string& what) {
  expect_same(want.recs, got.recs, what);
  EXPECT_EQ(got.items, want.items) << what << ": items of other sizes";
}

template <class L>
Read drain_blocking(L& loader) {
  Read r;
  for (const auto& item : loader) add(r, item);
  return r;
}

template <class L>
asio::awaitable<void> drain_async(L& loader, Read& r) {
  while (auto item = co_await loader.next()) add(r, *item);
}

std::string join(const std::vector<std::string>& urls) {
  std::string out;
  for (const auto& u : urls) out += (out.empty() ? "" : "::") + u;
  return out;
}

PrefetchOptions prefetch(std::size_t in_flight, std::size_t decode_threads = 1) {
  PrefetchOptions p;
  p.shards_in_flight = in_flight;
  p.decode_threads = decode_threads;
  p.retry_backoff = std::chrono::milliseconds(2);
  return p;
}

class PrefetchHttp : public ::testing::Test {
 protected:
  // The shards are written once per test process under names of its own:
  // test processes run in parallel, and a file replaced under a running read
  // would change its ETag (and so the resume behaviour a test checks).
  static void SetUpTestSuite() {
    tag_ =
        "pfn-" + std::to_string(::getpid()) + "-" + std::to_string(Clock::now().time_since_epoch().count());
    TarWriterOptions to;
    to.mtime = 1'700'000'000;
    std::uint64_t global = 0;
    std::vector<std::uint8_t> payload;
    for (int s = 0; s < kShards; ++s) {
      const bool gz = s == 3 || s == 7 || s == 10;
      char num[8];
      std::snprintf(num, sizeof num, "%02d", s);
      const std::string name = tag_ + "-" + num + (gz ? ".tar.gz" : ".tar");
      names_.push_back(name);
      begin_.push_back(expected_.size());
      TarWriter w(kRun + "/www/" + name, to);
      for (std::size_t j = 0; j < shard_samples(s); ++j, ++global) {
        payload.resize(payload_size(global));
        std::uint64_t x = mix(global * 7919 + 1);
        for (auto& c : payload) {
          x ^= x << 13;
          x ^= x >> 7;
          x ^= x << 17;
          c = static_cast<std::uint8_t>(x);
        }
        char key[32];
        std::snprintf(key, sizeof key, "s%02d-%06llu", s, static_cast<unsigned long long>(global));
        PfSample sample{key, s, static_cast<std::int64_t>(global),
                        SharedBytes::copy_of(std::as_bytes(std::span<const std::uint8_t>(payload)))};
        write_sample(w, sample, key);
        expected_.push_back(rec_of(sample));
      }
      w.close();
    }
    begin_.push_back(expected_.size());
  }

  static void TearDownTestSuite() {
    std::error_code ec;
    for (const auto& n : names_) fs::remove(kRun + "/www/" + n, ec);
    names_.clear();
    begin_.clear();
    expected_.clear();
  }

  void SetUp() override {
    nginx_ = read_line(kRun + "/url");
#ifdef ATDATA_FAULTPROXY_RUN_DIR
    proxy_ = read_line(std::string(ATDATA_FAULTPROXY_RUN_DIR) + "/url");
#endif
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    id_ = std::string("pf-") + info->name() + "-" + std::to_string(::getpid()) + "-" +
          std::to_string(Clock::now().time_since_epoch().count());
  }

  void need_proxy() {
    if (proxy_.empty()) GTEST_SKIP() << "built without the faultproxy fixture (python3 not found)";
  }

  static std::string local(int s) {
    return kRun + "/www/" + names_[static_cast<std::size_t>(s)];
  }
  std::string http(int s) const {
    return nginx_ + "/" + names_[static_cast<std::size_t>(s)];
  }
  // Shard s through the proxy with `faults` (empty = forwarded untouched).
  std::string spec(int s, const std::string& faults) const {
    return "id=" + id_ + "-" + std::to_string(s) + (faults.empty() ? "" : "," + faults);
  }
  std::string faulty(int s, const std::string& faults) const {
    return proxy_ + "/f/" + spec(s, faults) + "/" + names_[static_cast<std::size_t>(s)];
  }

  template <class F>
  static std::string urls(F&& url_of) {
    std::vector<std::string> v;
    for (int s = 0; s < kShards; ++s) v.push_back(url_of(s));
    return join(v);
  }
  static std::string local_urls() {
    return urls([](int s) { return local(s); });
  }

  ProxyStats proxy_stats(int s, const std::string& faults) {
    return atdata::test::proxy_stats(proxy_, spec(s, faults), names_[static_cast<std::size_t>(s)]);
  }

  // The reference: the local files, one shard at a time, no worker threads.
  static Read local_ordered(std::size_t batch) {
    Dataset<PfSample> ds(local_urls(), DatasetOptions().with_prefetch(prefetch(1, 0)));
    auto l = ds.ordered(batch);
    return drain_blocking(l);
  }

  // The samples of shards [from, to) of the reference.
  static std::vector<Rec> shard_range(int from, int to) {
    return {expected_.begin() + static_cast<std::ptrdiff_t>(begin_[static_cast<std::size_t>(from)]),
            expected_.begin() + static_cast<std::ptrdiff_t>(begin_[static_cast<std::size_t>(to)])};
  }

  // Ordered batches of 32 over `url` with `p`, checked against the local read.
  LoaderStats expect_ordered_equal(const std::string& url, PrefetchOptions p, const std::string& what) {
    Dataset<PfSample> ds(url, DatasetOptions().with_prefetch(std::move(p)));
    auto l = ds.ordered(32);
    const Read got = drain_blocking(l);
    expect_same(local_ordered(32), got, what);
    return l.stats();
  }

  static inline std::string tag_;
  static inline std::vector<std::string> names_;
  static inline std::vector<std::size_t> begin_;  // index of each shard's first sample, then the total
  static inline std::vector<Rec> expected_;       // every sample as written, in order
  std::string nginx_, proxy_, id_;
};

// --- Undisturbed reads ------------------------------------------------------

TEST_F(PrefetchHttp, OrderedOutputIsTheLocalReadForEverySetting) {
  const Read ref = local_ordered(32);
  expect_same(expected_, ref.recs, "local read vs the samples written");
  ASSERT_EQ(ref.recs.size(), begin_.back());
  std::size_t big = 0;
  for (const auto& r : expected_) big += r.size > (std::size_t{1} << 20);
  ASSERT_GE(big, 5u) << "the data set must cross chunk boundaries with single samples";

  const std::string remote = urls([&](int s) { return http(s); });
  for (std::size_t in_flight : {1, 2, 4, 8}) {
    for (std::size_t threads : {0, 1, 2}) {
      Dataset<PfSample> ds(remote, DatasetOptions().with_prefetch(prefetch(in_flight, threads)));
      auto l = ds.ordered(32);
      const Read got = drain_blocking(l);
      const std::string what =
          "http, " + std::to_string(in_flight) + " in flight, " + std::to_string(threads) + " decode threads";
      expect_same(ref, got, what);
      const LoaderStats st = l.stats();
      EXPECT_EQ(st.samples, ref.recs.size()) << what;
      EXPECT_EQ(st.items, ref.items.size()) << what;
      EXPECT_EQ(st.shards_done, static_cast<std::uint64_t>(kShards)) << what;
      EXPECT_EQ(st.retries, 0u) << what;
      EXPECT_EQ(st.in_flight, 0u) << what;
    }
  }
  // A read-ahead smaller than one sample still makes progress, same output.
  PrefetchOptions tight = prefetch(8, 2);
  tight.read_ahead_bytes = 256 * 1024;
  tight.queue_depth = 1;
  expect_ordered_equal(remote, tight, "http, 8 in flight, 256 KiB read-ahead");
}

TEST_F(PrefetchHttp, UnbatchedAndShuffledEqualTheLocalRead) {
  const std::string remote = urls([&](int s) { return http(s); });
  Dataset<PfSample> lds(local_urls(), DatasetOptions().with_prefetch(prefetch(1, 0)));

  auto lu = lds.ordered(unbatched);
  const Read local_unbatched = drain_blocking(lu);
  expect_same(expected_, local_unbatched.recs, "local unbatched vs the samples written");

  ShuffleOptions sh;
  sh.buffer_shards = 5;
  sh.buffer_samples = 700;
  sh.seed = 11;
  sh.epoch = 3;
  auto ls = lds.shuffled(sh, 16);
  const Read local_shuffled = drain_blocking(ls);
  auto lsu = lds.shuffled(sh, unbatched);
  const Read local_shuffled_unbatched = drain_blocking(lsu);
  // A shuffle that did nothing would make the comparisons below weak.
  ASSERT_EQ(local_shuffled.recs.size(), expected_.size());
  EXPECT_NE(local_shuffled.recs, expected_);
  expect_same(local_shuffled.recs, local_shuffled_unbatched.recs, "local shuffled, batched vs unbatched");

  for (std::size_t in_flight : {2, 8}) {
    Dataset<PfSample> ds(remote, DatasetOptions().with_prefetch(prefetch(in_flight, 2)));
    const std::string what = "http, " + std::to_string(in_flight) + " in flight";
    auto u = ds.ordered(unbatched);
    expect_same(local_unbatched, drain_blocking(u), what + ", unbatched");
    auto s = ds.shuffled(sh, 16);
    expect_same(local_shuffled, drain_blocking(s), what + ", shuffled");
    auto su = ds.shuffled(sh, unbatched);
    expect_same(local_shuffled_unbatched, drain_blocking(su), what + ", shuffled unbatched");
  }
  // Another epoch is another order, over http as locally.
  ShuffleOptions other = sh;
  other.epoch = 4;
  Dataset<PfSample> ds(remote, DatasetOptions().with_prefetch(prefetch(4, 1)));
  auto e4 = ds.shuffled(other, 16);
  const Read http_e4 = drain_blocking(e4);
  EXPECT_NE(http_e4.recs, local_shuffled.recs);
  auto le4 = lds.shuffled(other, 16);
  expect_same(drain_blocking(le4), http_e4, "epoch 4");
}

// The awaitable path on the caller's executor, with the caller's client.
TEST_F(PrefetchHttp, AwaitableIterationWithTheCallersClient) {
  asio::io_context io;
  auto client = std::make_shared<net::HttpClient>(io.get_executor());
  Dataset<PfSample> ds(urls([&](int s) { return http(s); }),
                       DatasetOptions().with_prefetch(prefetch(4, 1)).with_http_client(client));
  Read got;
  {
    auto l = ds.ordered(32);
    run_io(io, drain_async(l, got));
  }
  expect_same(local_ordered(32), got, "http, awaitable");
}

// --- Faults injected by the proxy ---------------------------------------------

// Several shards are reset three times each at pseudo-random offsets (the
// resumed 206 bodies too); every sample arrives once, in order. The seeds
// put all three cuts before the end of the samples: a cut in the tar's
// trailing padding needs no resume (the parser is done by then).
TEST_F(PrefetchHttp, ResetsAtRandomOffsetsOnSeveralShards) {
  need_proxy();
  const std::vector<std::pair<int, int>> hit{{1, 2}, {3, 3}, {4, 5}, {9, 9}};  // shard, seed
  auto faults = [&](int s) {
    for (const auto& [shard, seed] : hit)
      if (shard == s) return "reset=rand" + std::to_string(seed) + ",resets=3";
    return std::string();
  };
  const std::string url = urls([&](int s) { return faulty(s, faults(s)); });
  const LoaderStats stats = expect_ordered_equal(url, prefetch(4, 1), "resets=3 on shards 1, 3, 4, 9");
  EXPECT_EQ(stats.retries, 3 * hit.size());  // the sources' own Range resumes count too
  for (const auto& [s, seed] : hit) {
    const ProxyStats st = proxy_stats(s, faults(s));
    EXPECT_EQ(st.resets, 3) << "shard " << s;
    EXPECT_EQ(st.requests, 4) << "shard " << s;
    EXPECT_EQ(st.ranged, 3) << "shard " << s << ": each reset is resumed with a range";
  }
  EXPECT_EQ(proxy_stats(0, "").requests, 1);
}

// 503, 500 and 429 on the first two requests of three shards: retried by the
// pipeline (HttpByteSource does not retry statuses).
TEST_F(PrefetchHttp, InjectedStatusesAreRetried) {
  need_proxy();
  const std::vector<int> hit{0, 5, 11};
  for (int code : {503, 500, 429}) {
    auto spec_of = [&](int s) {
      return std::find(hit.begin(), hit.end(), s) != hit.end() ? "status=" + std::to_string(code) + "x2"
                                                               : std::string();
    };
    // Each code gets counters of its own.
    const std::string saved_id = id_;
    id_ = saved_id + "-" + std::to_string(code);
    const std::string url = urls([&](int s) { return faulty(s, spec_of(s)); });
    const LoaderStats st = expect_ordered_equal(url, prefetch(4, 1), "status=" + std::to_string(code) + "x2");
    EXPECT_EQ(st.retries, 2 * hit.size()) << code;
    EXPECT_EQ(st.shards_skipped, 0u) << code;
    for (int s : hit) {
      const ProxyStats ps = proxy_stats(s, spec_of(s));
      EXPECT_EQ(ps.statuses, 2) << code << " shard " << s;
      EXPECT_EQ(ps.requests, 3) << code << " shard " << s;
    }
    id_ = saved_id;
  }
}

// An origin without ranges: HttpByteSource cannot resume the reset body, so
// the pipeline fetches the shard again and skips the bytes it already has.
TEST_F(PrefetchHttp, ResetWithoutRangeSupportRestartsTheShard) {
  need_proxy();
  const std::vector<int> hit{2, 6};
  auto faults = [&](int s) {
    return std::find(hit.begin(), hit.end(), s) != hit.end() ? "norange,reset=rand" + std::to_string(s + 40)
                                                             : std::string();
  };
  const std::string url = urls([&](int s) { return faulty(s, faults(s)); });
  const LoaderStats st = expect_ordered_equal(url, prefetch(4, 1), "norange,reset on shards 2, 6");
  // Per shard: the source's refused Range resume, then the pipeline's restart.
  EXPECT_EQ(st.retries, 2 * hit.size());
  for (int s : hit) {
    const ProxyStats ps = proxy_stats(s, faults(s));
    EXPECT_EQ(ps.resets, 1) << "shard " << s;
    // The first GET, the refused resume, then the full GET of the restart.
    EXPECT_EQ(ps.requests, 3) << "shard " << s;
    EXPECT_EQ(ps.ranged, 1) << "shard " << s;
  }
}

// No validator: the reset body is not resumed at all; the restart fetches
// the whole shard again.
TEST_F(PrefetchHttp, ResetWithoutValidatorRestartsTheShard) {
  need_proxy();
  const std::vector<int> hit{1, 7, 8};
  auto faults = [&](int s) {
    return std::find(hit.begin(), hit.end(), s) != hit.end() ? "noetag,reset=rand" + std::to_string(s + 90)
                                                             : std::string();
  };
  const std::string url = urls([&](int s) { return faulty(s, faults(s)); });
  const LoaderStats st = expect_ordered_equal(url, prefetch(8, 2), "noetag,reset on shards 1, 7, 8");
  EXPECT_EQ(st.retries, hit.size());
  for (int s : hit) {
    const ProxyStats ps = proxy_stats(s, faults(s));
    EXPECT_EQ(ps.resets, 1) << "shard " << s;
    EXPECT_EQ(ps.requests, 2) << "shard " << s;
    EXPECT_EQ(ps.ranged, 0) << "shard " << s;
  }
}

// 20 ms on every response header with 8 shards in flight: same output, one
// request per shard.
TEST_F(PrefetchHttp, LatencyWithEightInFlight) {
  need_proxy();
  const std::string url = urls([&](int s) { return faulty(s, "delay=20"); });
  const LoaderStats st = expect_ordered_equal(url, prefetch(8, 2), "delay=20, 8 in flight");
  EXPECT_EQ(st.retries, 0u);
  for (int s = 0; s < kShards; ++s) EXPECT_EQ(proxy_stats(s, "delay=20").requests, 1) << "shard " << s;
}

// --- Failures that are not recovered ------------------------------------------

// Shard 6 (about 2.3 MB) stalls 300 kB into every response, the resumed
// ranged ones too, so HttpByteSource's own resumes cannot complete it either.
constexpr int kStalled = 6;
constexpr std::size_t kStallAt = 300'000;

net::HttpClientOptions short_idle_timeout() {
  net::HttpClientOptions co;
  co.read_body_idle_timeout = std::chrono::milliseconds(300);
  return co;
}

// Every response for the stalled shard stalls: each attempt ends in the
// client's idle timeout, and after the pipeline's one retry the iteration
// ends with a ShardError naming the shard and the offset reached, after the
// samples of the shards before it and its complete samples before the stall.
TEST_F(PrefetchHttp, StalledShardEndsInAShardErrorNotAHang) {
  need_proxy();
  const std::string stall = "stall=" + std::to_string(kStallAt) + ",stalls=1000";
  auto faults = [&](int s) { return s == kStalled ? stall : std::string(); };
  const std::string url = urls([&](int s) { return faulty(s, faults(s)); });
  asio::io_context io;
  auto client = std::make_shared<net::HttpClient>(io.get_executor(), short_idle_timeout());
  PrefetchOptions p = prefetch(4, 1);
  p.max_retries = 1;
  Dataset<PfSample> ds(url, DatasetOptions().with_prefetch(p).with_http_client(client));
  Read got;
  std::optional<ShardError> error;
  const auto t0 = Clock::now();
  {
    auto l = ds.ordered(32);
    try {
      run_io(io, drain_async(l, got));
    } catch (const ShardError& e) {
      error.emplace(e);
    }
    EXPECT_EQ(l.stats().retries, 1u);
  }
  const auto took = Clock::now() - t0;
  ASSERT_TRUE(error) << "the stalled shard must fail";
  EXPECT_LT(took, std::chrono::seconds(10));
  const std::string shard_url = faulty(kStalled, stall);
  EXPECT_EQ(error->url(), shard_url);
  EXPECT_GE(error->offset(), kStallAt);
  EXPECT_NE(std::string(error->what()).find(shard_url + " at byte " + std::to_string(error->offset())),
            std::string::npos)
      << error->what();
  // The transport's failure, not a parse error of spliced bytes.
  EXPECT_NE(std::string(error->what()).find("failed after 1 retries"), std::string::npos) << error->what();
  EXPECT_NE(std::string(error->what()).find("no data for 300 ms"), std::string::npos) << error->what();
  // The shards before it, then a prefix of it.
  const std::vector<Rec> before = shard_range(0, kStalled);
  const std::vector<Rec> with_it = shard_range(0, kStalled + 1);
  ASSERT_GT(got.recs.size(), before.size()) << "its samples before the stall come out first";
  ASSERT_LT(got.recs.size(), with_it.size());
  expect_same(
      std::vector<Rec>(with_it.begin(), with_it.begin() + static_cast<std::ptrdiff_t>(got.recs.size())),
      got.recs, "up to the stall");
  EXPECT_GE(proxy_stats(kStalled, stall).stalls, 2);
  io.restart();
  io.run_for(std::chrono::milliseconds(50));  // let the stopped loader's tasks end
}

// The same stall with on_shard_error = skip (blocking iteration: the loader
// makes its own client with the given client's options): every other
// shard's samples come out, and the shard counts as skipped.
TEST_F(PrefetchHttp, StalledShardIsSkippedWithTheSkipPolicy) {
  need_proxy();
  const std::string stall = "stall=" + std::to_string(kStallAt) + ",stalls=1000";
  auto faults = [&](int s) { return s == kStalled ? stall : std::string(); };
  asio::io_context unused;  // never run: blocking iteration runs on the loader's thread
  auto client = std::make_shared<net::HttpClient>(unused.get_executor(), short_idle_timeout());
  PrefetchOptions p = prefetch(4, 2);
  p.max_retries = 1;
  p.on_shard_error = ShardErrorPolicy::skip;
  Dataset<PfSample> ds(urls([&](int s) { return faulty(s, faults(s)); }),
                       DatasetOptions().with_prefetch(p).with_http_client(client));
  const auto t0 = Clock::now();
  auto l = ds.ordered(32);
  const Read got = drain_blocking(l);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(10));
  const LoaderStats st = l.stats();
  EXPECT_EQ(st.shards_skipped, 1u);
  EXPECT_EQ(st.shards_done, static_cast<std::uint64_t>(kShards - 1));
  // What the stalled shard delivered before the stall is already out;
  // nothing of it after, and nothing of the other shards missing.
  std::vector<Rec> others, of_it;
  for (const auto& r : got.recs) (r.shard == kStalled ? of_it : others).push_back(r);
  std::vector<Rec> want_others = shard_range(0, kStalled);
  const std::vector<Rec> after = shard_range(kStalled + 1, kShards);
  want_others.insert(want_others.end(), after.begin(), after.end());
  expect_same(want_others, others, "the other shards");
  const std::vector<Rec> all = shard_range(kStalled, kStalled + 1);
  EXPECT_GT(of_it.size(), 0u);
  ASSERT_LT(of_it.size(), all.size());
  expect_same(std::vector<Rec>(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(of_it.size())), of_it,
              "the stalled shard up to the stall");
}

// A 404 is permanent: an HttpError, not retried, after the samples of the
// shards before it; calling again goes on with the shards after it.
TEST_F(PrefetchHttp, MissingShardIsAnHttpErrorAfterTheShardsBeforeIt) {
  std::vector<std::string> v;
  for (int s = 0; s < kShards; ++s)
    v.push_back(s == 4 ? nginx_ + "/" + tag_ + "-no-such-shard.tar" : http(s));
  Dataset<PfSample> ds(join(v), DatasetOptions().with_prefetch(prefetch(4, 1)));
  auto l = ds.ordered(32);
  Read got;
  std::optional<HttpError> error;
  try {
    for (const auto& b : l) add(got, b);
  } catch (const HttpError& e) {
    error = e;
  }
  ASSERT_TRUE(error) << "expected HttpError for the missing shard";
  EXPECT_EQ(error->status(), 404);
  EXPECT_EQ(error->url(), v[4]);
  EXPECT_EQ(l.stats().retries, 0u);
  expect_same(shard_range(0, 4), got.recs, "the shards before the missing one");
  Read rest;
  while (auto b = l.next_blocking()) add(rest, *b);
  expect_same(shard_range(5, kShards), rest.recs, "the shards after the missing one");
  EXPECT_EQ(l.stats().retries, 0u);
}

// Destroying a loader while 8 shards are in flight returns promptly: the
// pipeline cancels its downloads. Shards 1… stall after their headers and
// would otherwise hold the loader's thread until the 30 s idle timeout.
TEST_F(PrefetchHttp, DestroyingALoaderMidStreamCancelsItsDownloads) {
  need_proxy();
  auto faults = [&](int s) {
    return s == 0 ? std::string("delay=200") : std::string("delay=200,stall=4096");
  };
  Dataset<PfSample> ds(urls([&](int s) { return faulty(s, faults(s)); }),
                       DatasetOptions().with_prefetch(prefetch(8, 1)));
  std::optional<decltype(ds.ordered(32))> l;
  l.emplace(ds.ordered(32));
  auto first = l->next_blocking();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size(), 32u);
  EXPECT_EQ(first->samples().front().index, 0);
  // All 8 are open by now (they were started before shard 0 answered).
  EXPECT_EQ(l->stats().in_flight, 8u);
  const auto t0 = Clock::now();
  l.reset();
  const auto took = Clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(2))
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

}  // namespace
}  // namespace atdata::test

namespace atdata::test {
namespace {

// An awaitable loader stopped mid-stream, then destroyed together with its
// io_context without running it again: the loader waits for the decode jobs
// still on its pool (they hold work on that io_context and refer to
// coroutine frames it destroys) before it goes. Failed with SIGSEGV in
// scheduler::work_finished ~4 runs out of 5 before that wait existed.
TEST_F(PrefetchHttp, AwaitableLoaderDroppedWithItsIoContextMidStream) {
  asio::io_context io;
  auto client = std::make_shared<net::HttpClient>(io.get_executor());
  Dataset<PfSample> ds(urls([&](int s) { return http(s); }),
                       DatasetOptions().with_prefetch(prefetch(4, 1)).with_http_client(client));
  auto l = ds.ordered(32);
  auto two = [](auto& loader) -> asio::awaitable<int> {
    (void)co_await loader.next();
    (void)co_await loader.next();
    co_return 0;
  };
  for (int i = 0; i < 5; ++i) {
    auto loader = ds.ordered(32);
    run_io(io, two(loader));
  }
  run_io(io, two(l));
}

}  // namespace
}  // namespace atdata::test
