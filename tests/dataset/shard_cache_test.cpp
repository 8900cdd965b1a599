// ShardCache: a miss streams the origin into the cache, a hit reads the
// cached copy; failed, abandoned or unverifiable content never becomes (or
// stays) an entry; the size cap evicts the least recently used entry.

#include "atdata/dataset/shard_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "atdata/atproto/cid.hpp"
#include "atdata/error.hpp"
#include "support/net_run.hpp"

namespace {

using namespace atdata;
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("atdata_shardcache_" + name);
  fs::remove_all(dir);
  return dir;
}

std::string content(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + static_cast<char>(i * 7 % 251));
  return s;
}

std::string read_all_text(boost::asio::io_context& io, ByteSource& src) {
  return std::string(test::run_io(io, read_all(src)).as_string_view());
}

// Files in the cache directory by suffix (".shard", ".meta", or any temporary).
std::vector<fs::path> files_in(const fs::path& dir, const std::string& suffix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (suffix == ".tmp" ? name.starts_with(".tmp.") : (!name.starts_with(".tmp.") && name.ends_with(suffix)))
      out.push_back(e.path());
  }
  return out;
}

// An origin that counts how often it is opened.
struct Origin {
  std::string bytes;
  std::string url;
  std::size_t chunk = 0;
  int opens = 0;
  std::function<ByteSourcePtr()> opener() {
    return [this] {
      ++opens;
      return make_memory_source(SharedBytes::copy_of(bytes), url, chunk);
    };
  }
};

// Delivers `good` bytes in small chunks, then fails like a dropped connection.
class FailingSource final : public ByteSource {
 public:
  FailingSource(std::string url, std::string good) : url_(std::move(url)), good_(std::move(good)) {}
  asio::awaitable<SharedBytes> next_chunk() override {
    if (pos_ >= good_.size()) throw NetworkError("GET " + url_ + ": connection reset");
    std::size_t n = std::min<std::size_t>(10, good_.size() - pos_);
    auto out = SharedBytes::copy_of(std::string_view(good_).substr(pos_, n));
    pos_ += n;
    co_return out;
  }
  const std::string& url() const noexcept override { return url_; }
  std::optional<std::uint64_t> size_hint() const noexcept override { return good_.size() + 100; }

 private:
  std::string url_, good_;
  std::size_t pos_ = 0;
};

// A memory source that reports an HTTP-style validator, like HttpByteSource.
class ValidatedSource final : public ByteSource {
 public:
  ValidatedSource(std::string bytes, std::string url)
      : inner_(make_memory_source(SharedBytes::copy_of(bytes), std::move(url), 16)) {}
  asio::awaitable<SharedBytes> next_chunk() override { return inner_->next_chunk(); }
  const std::string& url() const noexcept override { return inner_->url(); }
  std::optional<std::uint64_t> size_hint() const noexcept override { return std::nullopt; }
  std::optional<std::string> validator() const noexcept override { return "\"etag-1\""; }

 private:
  ByteSourcePtr inner_;
};

ShardCacheOptions options_for(const fs::path& dir, std::uint64_t max_bytes = 0) {
  ShardCacheOptions o;
  o.dir = dir.string();
  o.max_bytes = max_bytes;
  return o;
}

TEST(ShardCache, MissThenHitReturnsTheSameBytes) {
  boost::asio::io_context io;
  auto dir = fresh_dir("misshit");
  ShardCache cache(options_for(dir));
  Origin o{content(1000, 'a'), "https://example.org/shard-000.tar", 64};

  auto first = cache.open(o.url, o.opener());
  EXPECT_EQ(read_all_text(io, *first), o.bytes);
  first.reset();
  auto s = cache.stats();
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 0u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.bytes_written, 1000u);
  EXPECT_EQ(s.bytes_cached, 1000u);

  auto second = cache.open(o.url, o.opener());
  EXPECT_EQ(second->url(), o.url);
  EXPECT_EQ(second->size_hint(), 1000u);
  EXPECT_EQ(read_all_text(io, *second), o.bytes);
  EXPECT_EQ(o.opens, 1);  // the second read never asked the origin
  s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(files_in(dir, ".shard").size(), 1u);
  EXPECT_TRUE(files_in(dir, ".tmp").empty());
}

TEST(ShardCache, CreatesTheDirectoryAndRejectsAnEmptyOne) {
  auto dir = fresh_dir("mkdir") / "a" / "b";
  ASSERT_FALSE(fs::exists(dir));
  ShardCache cache(options_for(dir));
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_THROW(ShardCache{ShardCacheOptions()}, InvalidArgument);
  EXPECT_EQ(ShardCacheOptions().with_dir("/x").with_max_bytes(5).max_bytes, 5u);
}

TEST(ShardCache, OriginFailingMidStreamLeavesNoEntry) {
  boost::asio::io_context io;
  auto dir = fresh_dir("fail");
  ShardCache cache(options_for(dir));
  const std::string url = "https://example.org/broken.tar";
  auto src = cache.open(url, [&] { return std::make_unique<FailingSource>(url, content(95, 'x')); });
  EXPECT_FALSE(files_in(dir, ".tmp").empty());  // the tee writes while streaming
  EXPECT_THROW(read_all_text(io, *src), NetworkError);
  // Removed as soon as the origin failed, not only when the source goes away.
  EXPECT_TRUE(files_in(dir, ".tmp").empty());
  src.reset();
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_TRUE(fs::is_empty(dir));

  Origin o{content(300, 'y'), url, 0};
  auto again = cache.open(url, o.opener());
  EXPECT_EQ(read_all_text(io, *again), o.bytes);
  EXPECT_EQ(o.opens, 1);
  EXPECT_EQ(cache.stats().misses, 2u);
}

TEST(ShardCache, AbandonedReadLeavesNoEntry) {
  boost::asio::io_context io;
  auto dir = fresh_dir("abandon");
  ShardCache cache(options_for(dir));
  Origin o{content(100, 'q'), "https://example.org/half.tar", 10};
  {
    auto src = cache.open(o.url, o.opener());
    for (int i = 0; i < 5; ++i) EXPECT_EQ(test::run_io(io, src->next_chunk()).size(), 10u);
  }
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_TRUE(fs::is_empty(dir));
  auto src = cache.open(o.url, o.opener());
  EXPECT_EQ(o.opens, 2);
  EXPECT_EQ(read_all_text(io, *src), o.bytes);
}

TEST(ShardCache, CommitsOnceTheAnnouncedSizeIsDelivered) {
  // A tar reader stops after the end-of-archive blocks and may never ask for
  // the end of the stream.
  boost::asio::io_context io;
  auto dir = fresh_dir("sizehint");
  ShardCache cache(options_for(dir));
  Origin o{content(100, 'r'), "https://example.org/sized.tar", 25};
  {
    auto src = cache.open(o.url, o.opener());
    for (int i = 0; i < 4; ++i) EXPECT_EQ(test::run_io(io, src->next_chunk()).size(), 25u);
  }
  EXPECT_EQ(cache.stats().entries, 1u);
  auto hit = cache.open(o.url, o.opener());
  EXPECT_EQ(read_all_text(io, *hit), o.bytes);
  EXPECT_EQ(o.opens, 1);
}

TEST(ShardCache, SizeCapEvictsTheLeastRecentlyUsed) {
  boost::asio::io_context io;
  auto dir = fresh_dir("lru");
  ShardCache cache(options_for(dir, 250));
  Origin a{content(100, 'a'), "https://example.org/a.tar", 0};
  Origin b{content(100, 'b'), "https://example.org/b.tar", 0};
  Origin c{content(100, 'c'), "https://example.org/c.tar", 0};
  auto fetch = [&](Origin& o) {
    auto src = cache.open(o.url, o.opener());
    EXPECT_EQ(read_all_text(io, *src), o.bytes);
  };
  fetch(a);
  fetch(b);
  fetch(a);  // a is now more recently used than b
  EXPECT_EQ(cache.stats().evictions, 0u);
  fetch(c);  // 300 > 250: b goes
  auto s = cache.stats();
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.bytes_cached, 200u);
  EXPECT_EQ(files_in(dir, ".shard").size(), 2u);
  fetch(a);
  fetch(c);
  EXPECT_EQ(a.opens, 1);
  EXPECT_EQ(c.opens, 1);
  fetch(b);
  EXPECT_EQ(b.opens, 2);
}

TEST(ShardCache, EntryBeingReadIsNotEvictedAndReadsOn) {
  boost::asio::io_context io;
  auto dir = fresh_dir("reading");
  ShardCache cache(options_for(dir, 150));
  Origin a{content(100, 'a'), "https://example.org/a.tar", 0};
  Origin b{content(100, 'b'), "https://example.org/b.tar", 0};
  read_all_text(io, *cache.open(a.url, a.opener()));
  auto reading = cache.open(a.url, a.opener());  // a hit, not read yet
  read_all_text(io, *cache.open(b.url, b.opener()));
  // a (older) is in use, so the new entry b is the one evicted.
  EXPECT_EQ(cache.stats().evictions, 1u);
  EXPECT_EQ(read_all_text(io, *reading), a.bytes);
  reading.reset();
  read_all_text(io, *cache.open(a.url, a.opener()));
  EXPECT_EQ(a.opens, 1);
}

TEST(ShardCache, TruncatedOrGrownCacheFileIsRefetched) {
  boost::asio::io_context io;
  auto dir = fresh_dir("truncated");
  ShardCache cache(options_for(dir));
  Origin o{content(500, 't'), "https://example.org/t.tar", 0};
  read_all_text(io, *cache.open(o.url, o.opener()));
  auto data = files_in(dir, ".shard");
  ASSERT_EQ(data.size(), 1u);
  fs::resize_file(data[0], 200);

  EXPECT_EQ(read_all_text(io, *cache.open(o.url, o.opener())), o.bytes);
  EXPECT_EQ(o.opens, 2);
  EXPECT_EQ(cache.stats().misses, 2u);
  EXPECT_EQ(cache.stats().hits, 0u);

  data = files_in(dir, ".shard");
  ASSERT_EQ(data.size(), 1u);
  std::ofstream(data[0], std::ios::app) << "extra";
  EXPECT_EQ(read_all_text(io, *cache.open(o.url, o.opener())), o.bytes);
  EXPECT_EQ(o.opens, 3);

  EXPECT_EQ(read_all_text(io, *cache.open(o.url, o.opener())), o.bytes);
  EXPECT_EQ(o.opens, 3);
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(files_in(dir, ".shard").size(), 1u);
}

std::string blob_url(const std::string& cid) {
  return "https://pds.example.org/xrpc/com.atproto.sync.getBlob?did=did:plc:abc123&cid=" + cid;
}

TEST(ShardCache, BlobWhoseCachedContentDoesNotMatchTheCidIsRefetched) {
  boost::asio::io_context io;
  auto dir = fresh_dir("blob");
  ShardCache cache(options_for(dir));
  const std::string bytes = content(400, 'b');
  Origin o{bytes, blob_url(atproto::raw_cid(bytes)), 50};
  read_all_text(io, *cache.open(o.url, o.opener()));
  ASSERT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(read_all_text(io, *cache.open(o.url, o.opener())), bytes);
  EXPECT_EQ(o.opens, 1);

  // Same size, one byte changed: only the content hash can tell.
  auto data = files_in(dir, ".shard");
  ASSERT_EQ(data.size(), 1u);
  {
    std::fstream f(data[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(123);
    f.put('!');
  }
  EXPECT_EQ(read_all_text(io, *cache.open(o.url, o.opener())), bytes);
  EXPECT_EQ(o.opens, 2);
  EXPECT_EQ(read_all_text(io, *cache.open(o.url, o.opener())), bytes);
  EXPECT_EQ(o.opens, 2);
  EXPECT_EQ(cache.stats().hits, 2u);
}

TEST(ShardCache, BlobBytesNotMatchingTheCidAreNeverStored) {
  boost::asio::io_context io;
  auto dir = fresh_dir("blobbad");
  ShardCache cache(options_for(dir));
  Origin o{content(400, 'b'), blob_url(atproto::raw_cid(std::string("something else"))), 0};
  EXPECT_EQ(read_all_text(io, *cache.open(o.url, o.opener())), o.bytes);  // the origin's business
  EXPECT_EQ(cache.stats().entries, 0u);
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(ShardCache, RecordsTheValidatorAndSurvivesANewInstance) {
  boost::asio::io_context io;
  auto dir = fresh_dir("reopen");
  const std::string url = "https://example.org/v.tar";
  const std::string bytes = content(200, 'v');
  {
    ShardCache cache(options_for(dir));
    auto src = cache.open(url, [&] { return std::make_unique<ValidatedSource>(bytes, url); });
    EXPECT_EQ(read_all_text(io, *src), bytes);
  }
  ShardCache again(options_for(dir));  // e.g. the next run, or another process
  EXPECT_EQ(again.stats().entries, 1u);
  EXPECT_EQ(again.stats().bytes_cached, 200u);
  int opens = 0;
  auto hit = again.open(url, [&]() -> ByteSourcePtr {
    ++opens;
    return std::make_unique<ValidatedSource>(bytes, url);
  });
  EXPECT_EQ(read_all_text(io, *hit), bytes);
  EXPECT_EQ(hit->validator(), "\"etag-1\"");
  EXPECT_EQ(opens, 0);
  EXPECT_TRUE(again.remove(url));
  EXPECT_FALSE(again.remove(url));
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(ShardCache, LocalPathsAreNotCached) {
  boost::asio::io_context io;
  auto dir = fresh_dir("local");
  ShardCache cache(options_for(dir));
  Origin o{content(50, 'l'), "data/shard.tar", 0};
  read_all_text(io, *cache.open(o.url, o.opener()));
  read_all_text(io, *cache.open(o.url, o.opener()));
  Origin f{content(50, 'f'), "file:///data/shard.tar", 0};
  read_all_text(io, *cache.open(f.url, f.opener()));
  EXPECT_EQ(o.opens + f.opens, 3);
  EXPECT_EQ(cache.stats().misses, 0u);
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST(ShardCache, LeftoversOfAnInterruptedRunAreRemoved) {
  auto dir = fresh_dir("leftovers");
  fs::create_directories(dir);
  const auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  std::ofstream(dir / ".tmp.0123.shard") << "partial";
  fs::last_write_time(dir / ".tmp.0123.shard", old);
  std::ofstream(dir / ".tmp.fresh.shard") << "someone else's download";
  std::ofstream(dir / "notes.txt") << "not ours";
  ShardCache cache(options_for(dir));
  EXPECT_FALSE(fs::exists(dir / ".tmp.0123.shard"));
  EXPECT_TRUE(fs::exists(dir / ".tmp.fresh.shard"));
  EXPECT_TRUE(fs::exists(dir / "notes.txt"));
}

TEST(ShardCache, TwoThreadsShareOneCache) {
  auto dir = fresh_dir("threads");
  ShardCache cache(options_for(dir, 2500));
  std::vector<std::string> urls, bodies;
  for (int i = 0; i < 4; ++i) {
    urls.push_back("https://example.org/shard-" + std::to_string(i) + ".tar");
    bodies.push_back(content(1000, static_cast<char>('a' + i)));
  }
  std::atomic<int> wrong{0};
  auto worker = [&](int seed) {
    boost::asio::io_context io;
    for (int round = 0; round < 25; ++round) {
      const std::size_t i = static_cast<std::size_t>((round + seed) % 4);
      auto src = cache.open(
          urls[i], [&] { return make_memory_source(SharedBytes::copy_of(bodies[i]), urls[i], 100); });
      if (read_all_text(io, *src) != bodies[i]) ++wrong;
    }
  };
  std::thread t1(worker, 0), t2(worker, 1);
  t1.join();
  t2.join();
  EXPECT_EQ(wrong.load(), 0);
  auto s = cache.stats();
  EXPECT_EQ(s.hits + s.misses, 50u);
  EXPECT_GT(s.evictions, 0u);
  EXPECT_LE(s.bytes_cached, 2500u);
  EXPECT_EQ(s.write_errors, 0u);
  EXPECT_TRUE(files_in(dir, ".tmp").empty());
  EXPECT_EQ(files_in(dir, ".shard").size(), s.entries);
}

}  // namespace
