// Blob shards from the real PDS through the prefetching pipeline: a dataset
// published with several blob shards, loaded with to_dataset and 4 shards in
// flight, gives exactly the samples of reading the same shards from local
// files, on the client's executor and in blocking iteration.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "atdata/atmosphere/dataset_loader.hpp"
#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "pds/atmosphere_fixture.hpp"

namespace atdata::test {

struct BlobShardSample {
  std::string key;
  std::int64_t index = 0;
  std::vector<float> values;  // 1 … 300k floats, some samples above 1 MiB (ragged: not an NDArray)
};
BOOST_DESCRIBE_STRUCT(BlobShardSample, (), (key, index, values))

namespace {

using namespace atdata::atmosphere;

struct Seen {
  std::string key;
  std::int64_t index = 0;
  std::vector<float> values;
  bool operator==(const Seen&) const = default;
};

template <class Batch>
void add(std::vector<Seen>& out, std::vector<std::size_t>& sizes, const Batch& b) {
  for (const auto& s : b.samples()) {
    out.push_back(Seen{s.key, s.index, s.values});
  }
  sizes.push_back(b.size());
}

// Mostly small samples, every 37th above 1 MiB, so blob bodies arrive in
// several chunks and samples straddle them.
std::vector<std::string> write_shards(const std::filesystem::path& dir) {
  std::vector<std::string> paths;
  std::int64_t index = 0;
  for (int s = 0; s < 6; ++s) {
    const std::string path = (dir / ("blob-" + std::to_string(s) + ".tar")).string();
    TarWriter w(path);
    const int n = 30 + 17 * s;
    for (int j = 0; j < n; ++j, ++index) {
      const std::size_t count =
          index % 37 == 3 ? 290'000 + static_cast<std::size_t>(index) : 1 + (index * 131) % 700;
      std::vector<float> v(count);
      for (std::size_t k = 0; k < count; ++k)
        v[k] = static_cast<float>(index) + static_cast<float>(k % 977) / 7.0f;
      BlobShardSample sample;
      sample.key = "b" + std::to_string(s) + "-" + std::to_string(index);
      sample.index = index;
      sample.values = std::move(v);
      write_sample(w, sample, sample.key);
    }
    w.close();
    paths.push_back(path);
  }
  return paths;
}

TEST(PrefetchBlobsPds, BlobShardsWithFourInFlightEqualTheLocalRead) {
  Account alice("alice");
  TempDir dir;
  const auto paths = write_shards(dir.path);
  std::vector<SharedBytes> blobs;
  std::string pattern;
  for (const auto& p : paths) {
    std::ifstream f(p, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), {});
    blobs.push_back(SharedBytes::copy_of(std::string_view(bytes)));
    pattern += (pattern.empty() ? "" : "::") + p;
  }

  std::vector<Seen> want;
  std::vector<std::size_t> want_sizes;
  {
    PrefetchOptions one;
    one.shards_in_flight = 1;
    one.decode_threads = 0;
    Dataset<BlobShardSample> local(pattern, DatasetOptions().with_prefetch(one));
    for (const auto& b : local.ordered(16)) add(want, want_sizes, b);
  }
  ASSERT_EQ(want.size(), static_cast<std::size_t>(6 * 30 + 17 * 15));

  SchemaPublisher sp(alice.client);
  AtUri schema = alice.run(sp.publish<BlobShardSample>());
  DatasetPublisher dp(alice.client);
  AtUri uri = alice.run(dp.publish_with_blobs(blobs, schema, "prefetch-blob-shards"));

  PrefetchOptions four;
  four.shards_in_flight = 4;
  four.decode_threads = 2;
  four.read_ahead_bytes = 2u << 20;
  Dataset<BlobShardSample> ds =
      alice.run(to_dataset<BlobShardSample>(alice.client, uri, DatasetOptions().with_prefetch(four)));
  ASSERT_EQ(ds.shard_list().size(), 6u);
  EXPECT_NE(ds.shard_list()[0].find("/xrpc/com.atproto.sync.getBlob?did="), std::string::npos);

  // On the client's executor (its HttpClient serves the blobs).
  {
    auto loader = ds.ordered(16);
    std::vector<Seen> got;
    std::vector<std::size_t> sizes;
    auto first = alice.run(loader.next());
    ASSERT_TRUE(first);
    add(got, sizes, *first);
    EXPECT_EQ(loader.stats().in_flight, 4u) << "4 shards open at once";
    while (auto b = alice.run(loader.next())) add(got, sizes, *b);
    EXPECT_TRUE(got == want) << got.size() << " samples, expected " << want.size();
    EXPECT_EQ(sizes, want_sizes);
    const LoaderStats st = loader.stats();
    EXPECT_EQ(st.shards_done, 6u);
    EXPECT_EQ(st.samples, want.size());
    EXPECT_EQ(st.retries, 0u);
  }
  // Blocking: the loader's own thread and client.
  {
    auto loader = ds.ordered(16);
    std::vector<Seen> got;
    std::vector<std::size_t> sizes;
    for (const auto& b : loader) add(got, sizes, b);
    EXPECT_TRUE(got == want) << got.size() << " samples, expected " << want.size();
    EXPECT_EQ(sizes, want_sizes);
  }
}

}  // namespace
}  // namespace atdata::test
