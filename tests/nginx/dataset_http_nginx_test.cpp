// Dataset<T> over http:// shards served by the nginx fixture: the same values
// as reading the local files, and HTTP errors surface as HttpError.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "atdata/atmosphere/dataset_loader.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/dataset/dataset.hpp"
#include "atdata/dataset/write.hpp"
#include "atdata/error.hpp"
#include "cat.hpp"

namespace {

using namespace atdata;
namespace fs = std::filesystem;
namespace asio = boost::asio;

struct Basic {
  NDArray features;
  std::int64_t label;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(Basic, (), (features, label, source))

const std::string kRun = ATDATA_NGINX_RUN_DIR;

std::string base() {
  std::ifstream f(kRun + "/url");
  std::string s;
  std::getline(f, s);
  if (s.empty()) throw std::runtime_error("nginx fixture not running");
  return s;
}

TEST(DatasetHttp, GoldenAndWrittenShardsMatchLocalReads) {
  fs::copy_file(std::string(ATDATA_TEST_DATA_DIR) + "/golden-basic-000000.tar",
                kRun + "/www/golden-basic-000000.tar", fs::copy_options::overwrite_existing);
  ShardWriterOptions o;
  o.maxcount = 40;
  {
    ShardWriter w(kRun + "/www/dshttp-%02d.tar.gz", o);
    for (int i = 0; i < 100; ++i) {
      std::vector<float> v(64, static_cast<float>(i));
      write_sample(w, Basic{NDArray::from_span<float>(v), i, "s" + std::to_string(i)},
                   "k" + std::to_string(i));
    }
  }
  for (const auto& [local, remote] :
       {std::pair{std::string(ATDATA_TEST_DATA_DIR) + "/golden-basic-000000.tar",
                  base() + "/golden-basic-000000.tar"},
        std::pair{kRun + "/www/dshttp-{00..02}.tar.gz", base() + "/dshttp-{00..02}.tar.gz"}}) {
    Dataset<Basic> a(local), b(remote);
    auto la = a.ordered(32), lb = b.ordered(32);
    std::size_t n = 0;
    for (;;) {
      auto x = la.next_blocking();
      auto y = lb.next_blocking();
      ASSERT_EQ(x.has_value(), y.has_value());
      if (!x) break;
      EXPECT_TRUE(x->stacked<&Basic::features>() == y->stacked<&Basic::features>());
      EXPECT_EQ(x->column<&Basic::label>(), y->column<&Basic::label>());
      n += x->size();
    }
    EXPECT_GT(n, 0u);
  }
}

TEST(DatasetHttp, MissingShardIsHttpError) {
  Dataset<Basic> ds(base() + "/no-such-shard.tar");
  auto l = ds.ordered();
  EXPECT_THROW(l.next_blocking(), HttpError);
}

TEST(DatasetHttp, MetadataOverHttp) {
  // fixmap {"split": "train", "samples": 10000} (docs/format.md example)
  const unsigned char packed[] = {0x82, 0xa5, 's', 'p', 'l', 'i', 't', 0xa5, 't', 'r',  'a',  'i',
                                  'n',  0xa7, 's', 'a', 'm', 'p', 'l', 'e',  's', 0xcd, 0x27, 0x10};
  std::ofstream(kRun + "/www/dshttp-meta.msgpack", std::ios::binary)
      .write(reinterpret_cast<const char*>(packed), sizeof packed);
  Dataset<Basic> ds(base() + "/dshttp-{00..02}.tar.gz",
                    DatasetOptions().with_metadata_url(base() + "/dshttp-meta.msgpack"));
  auto m = ds.metadata();
  ASSERT_TRUE(m && m->is_map());
  EXPECT_EQ(m->as_map()[0].second.as_str(), "train");
  EXPECT_EQ(m->as_map()[1].second.as_int(), 10000);
  Dataset<Basic> missing(base() + "/x.tar",
                         DatasetOptions().with_metadata_url(base() + "/no-such-meta.msgpack"));
  EXPECT_THROW(missing.metadata(), HttpError);
}

// getBlob URLs are verified against their CID. nginx ignores the query, so
// one file at the getBlob path stands in for a PDS serving some blob.
TEST(DatasetHttp, BlobShardsAreCheckedAgainstTheirCid) {
  const std::string golden = std::string(ATDATA_TEST_DATA_DIR) + "/golden-basic-000000.tar";
  std::ifstream in(golden, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  fs::create_directories(kRun + "/www/blobtest/xrpc");
  fs::copy_file(golden, kRun + "/www/blobtest/xrpc/com.atproto.sync.getBlob",
                fs::copy_options::overwrite_existing);
  const std::string right = atproto::raw_cid(std::as_bytes(std::span(bytes.data(), bytes.size())));
  const std::string wrong = atproto::raw_cid(std::as_bytes(std::span(bytes.data(), bytes.size() - 1)));
  const std::string blob_url = base() + "/blobtest/xrpc/com.atproto.sync.getBlob?did=did:plc:abc&cid=";

  asio::io_context unused;  // the client's context is never run: blobs load on the loader's own
  atproto::AtmosphereClient client(unused.get_executor());
  DatasetOptions o;
  o.opener = atmosphere::blob_shard_opener(client);
  Dataset<Basic> good(blob_url + right, o);
  std::size_t n = 0;
  for (const auto& b : good.ordered(16)) n += b.size();
  std::size_t local = 0;
  for (const auto& b : Dataset<Basic>(golden).ordered(16)) local += b.size();
  EXPECT_GT(n, 0u);
  EXPECT_EQ(n, local);

  Dataset<Basic> bad(blob_url + wrong, o);
  try {
    for (const auto& b : bad.ordered(16)) (void)b;
    FAIL() << "expected ShardError";
  } catch (const ShardError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("have CID " + right + ", expected " + wrong), std::string::npos) << what;
    EXPECT_NE(what.find(blob_url + wrong), std::string::npos) << what;
  }
}

// `atdata cat` over http:// prints what it prints for the local file (and
// tears its HTTP connections down before their io_context: ASan checks that).
TEST(DatasetHttp, CatOverHttpMatchesTheLocalFile) {
  const std::string golden = std::string(ATDATA_TEST_DATA_DIR) + "/golden-basic-000000.tar";
  fs::copy_file(golden, kRun + "/www/cat-golden.tar", fs::copy_options::overwrite_existing);
  std::ostringstream local_out, remote_out, err;
  ASSERT_EQ(cli::run_cat({golden, "--limit", "5"}, local_out, err), 0) << err.str();
  ASSERT_EQ(cli::run_cat({base() + "/cat-golden.tar", "--limit", "5"}, remote_out, err), 0) << err.str();
  const std::string local = local_out.str();
  EXPECT_EQ(std::count(local.begin(), local.end(), '\n'), 5);
  EXPECT_EQ(remote_out.str(), local);
  std::ostringstream missing_out, missing_err;
  EXPECT_EQ(cli::run_cat({base() + "/no-such.tar"}, missing_out, missing_err), 1);
  EXPECT_NE(missing_err.str().find("404"), std::string::npos) << missing_err.str();
}

}  // namespace
