// ShardCache in front of real HTTP sources (nginx fixture): the second read
// of a shard works with the origin file gone, and the sidecar keeps the
// origin's ETag; ATProto blob shards are cached through the CID-checking
// opener.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <fstream>

#include "atdata/atmosphere/dataset_loading.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/dataset/shard_cache.hpp"
#include "atdata/dataset/shard_opener.hpp"
#include "atdata/net/http_byte_source.hpp"
#include "fault_proxy_client.hpp"
#include "support/net_run.hpp"

namespace {

using namespace atdata;
namespace fs = std::filesystem;
namespace asio = boost::asio;

const std::string kRun = ATDATA_NGINX_RUN_DIR;

std::string base() {
  return test::read_line(kRun + "/url");
}

std::string golden_bytes() {
  std::ifstream in(std::string(ATDATA_TEST_DATA_DIR) + "/golden-basic-000000.tar", std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  return dir;
}

TEST(ShardCacheHttp, SecondReadComesFromTheCache) {
  asio::io_context io;
  const std::string bytes = golden_bytes();
  const fs::path served = kRun + "/www/cached-000000.tar";
  std::ofstream(served, std::ios::binary) << bytes;
  const std::string url = base() + "/cached-000000.tar";

  ShardCacheOptions o;
  o.dir = fresh_dir("atdata_shardcache_http").string();
  ShardCache cache(o);
  auto http = std::make_shared<net::HttpClient>(io.get_executor());
  auto origin = [&] { return open_shard(ShardContext(url, io.get_executor(), http)); };

  auto first = cache.open(url, origin);
  EXPECT_EQ(test::run_io(io, read_all(*first)).as_string_view(), bytes);
  const auto etag = first->validator();
  ASSERT_TRUE(etag.has_value());  // nginx sends a strong ETag for static files
  EXPECT_EQ(etag->front(), '"');
  first.reset();

  fs::remove(served);  // the network copy is gone; the cache must serve it
  auto second = cache.open(url, origin);
  EXPECT_EQ(test::run_io(io, read_all(*second)).as_string_view(), bytes);
  EXPECT_EQ(second->validator(), etag);
  EXPECT_EQ(cache.stats().hits, 1u);
  EXPECT_EQ(cache.stats().misses, 1u);

  // Without the entry the origin is asked again (and answers 404 now).
  EXPECT_TRUE(cache.remove(url));
  auto third = cache.open(url, origin);
  EXPECT_THROW(test::run_io(io, read_all(*third)), HttpError);
}

TEST(ShardCacheHttp, BlobShardsAreCachedThroughTheCidCheck) {
  asio::io_context io;
  const std::string bytes = golden_bytes();
  fs::create_directories(kRun + "/www/blobcache/xrpc");
  const fs::path served = kRun + "/www/blobcache/xrpc/com.atproto.sync.getBlob";
  std::ofstream(served, std::ios::binary) << bytes;
  const std::string url =
      base() + "/blobcache/xrpc/com.atproto.sync.getBlob?did=did:plc:abc&cid=" + atproto::raw_cid(bytes);

  asio::io_context unused;
  atproto::AtmosphereClient client(unused.get_executor());
  auto opener = atmosphere::blob_shard_opener(client);
  ShardCacheOptions o;
  o.dir = fresh_dir("atdata_shardcache_blob").string();
  ShardCache cache(o);
  auto origin = [&] { return opener(ShardContext(url, io.get_executor())); };

  EXPECT_EQ(test::run_io(io, read_all(*cache.open(url, origin))).as_string_view(), bytes);
  EXPECT_EQ(cache.stats().entries, 1u);
  fs::remove(served);
  EXPECT_EQ(test::run_io(io, read_all(*cache.open(url, origin))).as_string_view(), bytes);
  EXPECT_EQ(cache.stats().hits, 1u);
}

}  // namespace
