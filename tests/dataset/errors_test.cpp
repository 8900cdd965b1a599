// What a user sees when a shard or a sample is bad: SampleError naming the
// shard, the sample, its offset and type; truncated shards delivering every
// completed sample (also the partial last batch) before the ShardError.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "atdata/core/msgpack.hpp"
#include "atdata/dataset/dataset.hpp"
#include "atdata/dataset/write.hpp"
#include "atdata/error.hpp"
#include "atdata/io/tar_reader.hpp"

namespace {

using namespace atdata;
namespace fs = std::filesystem;

struct FeatureSample {
  std::int64_t id;
  std::int64_t label;
};
BOOST_DESCRIBE_STRUCT(FeatureSample, (), (id, label))

// Same field names, label of the wrong kind.
struct StrLabelSample {
  std::int64_t id;
  std::string label;
};
BOOST_DESCRIBE_STRUCT(StrLabelSample, (), (id, label))

struct ExtraFieldSample {
  std::int64_t id;
  std::int64_t label;
  std::int64_t extra;
};
BOOST_DESCRIBE_STRUCT(ExtraFieldSample, (), (id, label, extra))

struct IdOnlySample {
  std::int64_t id;
};
BOOST_DESCRIBE_STRUCT(IdOnlySample, (), (id))

struct ArraySample {
  NDArray features;
  std::int64_t label;
};
BOOST_DESCRIBE_STRUCT(ArraySample, (), (features, label))

struct Row {
  std::int64_t id;
  std::string name;
};
BOOST_DESCRIBE_STRUCT(Row, (), (id, name))

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<std::byte> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), {});
  std::vector<std::byte> out(c.size());
  std::memcpy(out.data(), c.data(), c.size());
  return out;
}

struct Member {
  std::string name;
  std::uint64_t offset;  // header
  std::uint64_t end;     // end of the payload (without padding)
};

// The regular members of a complete shard, parsed independently of the
// dataset layer.
std::vector<Member> layout(const fs::path& shard) {
  auto bytes = read_file(shard);
  TarParser p(shard.string());
  p.feed(SharedBytes::copy_of(std::span<const std::byte>(bytes)));
  std::vector<Member> out;
  while (auto e = p.pop()) {
    if (e->is_regular()) out.push_back({e->name, e->offset, e->offset + 512 + e->data.size()});
  }
  EXPECT_TRUE(p.at_end());
  return out;
}

// ---- SampleError ---------------------------------------------------------------------

// Shard with samples k0..k5 of FeatureSample, except k3 whose label is a str.
struct MismatchShard : ::testing::Test {
  fs::path dir = fresh_dir("atdata_sample_error");
  std::string path = (dir / "data-000003.tar").string();
  std::uint64_t k3_offset = 0;

  void SetUp() override {
    {
      TarWriter w(path);
      for (int i = 0; i < 6; ++i) {
        std::string key = "k" + std::to_string(i);
        if (i == 3) {
          write_sample(w, StrLabelSample{i, "cat"}, key);
        } else {
          write_sample(w, FeatureSample{i, 10 * i}, key);
        }
      }
      w.close();
    }
    auto members = layout(path);
    ASSERT_EQ(members.size(), 6u);
    ASSERT_EQ(members[3].name, "k3.msgpack");
    k3_offset = members[3].offset;
    ASSERT_GT(k3_offset, 0u);
  }

  void expect_k3(const SampleError& e, const std::string& type) const {
    EXPECT_EQ(e.url(), path);
    EXPECT_EQ(e.offset(), k3_offset);
    EXPECT_EQ(e.key(), "k3");
    EXPECT_EQ(e.sample_type(), type);
    EXPECT_EQ(e.field(), "label");
    EXPECT_FALSE(e.malformed());
    EXPECT_EQ(e.reason().rfind("expected int, got msgpack str", 0), 0u) << e.reason();
    const std::string prefix = "shard " + path + ", sample 'k3' (at byte " + std::to_string(k3_offset) +
                               "): " + type + ".label: expected int, got msgpack str";
    EXPECT_EQ(std::string(e.what()).rfind(prefix, 0), 0u) << e.what();
  }
};

TEST_F(MismatchShard, UnbatchedNamesShardSampleOffsetTypeAndField) {
  Dataset<FeatureSample> ds(path);
  auto loader = ds.ordered(unbatched);
  std::vector<std::int64_t> ids;
  try {
    while (auto s = loader.next_blocking()) ids.push_back(s->id);
    FAIL() << "expected SampleError";
  } catch (const SampleError& e) {
    expect_k3(e, "FeatureSample");
  }
  EXPECT_EQ(ids, (std::vector<std::int64_t>{0, 1, 2}));
  // The bad sample is skipped by calling again.
  while (auto s = loader.next_blocking()) ids.push_back(s->id);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{0, 1, 2, 4, 5}));
}

TEST_F(MismatchShard, BatchedNamesTheBadSample) {
  Dataset<FeatureSample> ds(path);
  auto loader = ds.ordered(2);
  ASSERT_EQ(loader.next_blocking()->size(), 2u);  // k0 k1
  try {
    loader.next_blocking();  // k2 k3
    FAIL() << "expected SampleError";
  } catch (const SampleError& e) {
    expect_k3(e, "FeatureSample");
  }
  auto last = loader.next_blocking();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->column<&FeatureSample::id>(), (std::vector<std::int64_t>{4, 5}));
}

TEST_F(MismatchShard, ExistingSchemaErrorHandlersStillCatchIt) {
  Dataset<FeatureSample> ds(path);
  auto loader = ds.ordered(10);
  EXPECT_THROW(loader.next_blocking(), SchemaError);
  auto again = ds.ordered(10);
  EXPECT_THROW(again.next_blocking(), Error);
}

TEST_F(MismatchShard, DynamicDatasetNamesTheSchema) {
  auto schema = std::make_shared<const SampleSchema>(schema_of<FeatureSample>("FeatureRecord"));
  DynamicDataset ds(path, schema);
  auto loader = ds.ordered(unbatched);
  std::size_t n = 0;
  try {
    while (loader.next_blocking()) ++n;
    FAIL() << "expected SampleError";
  } catch (const SampleError& e) {
    EXPECT_EQ(n, 3u);
    EXPECT_EQ(e.url(), path);
    EXPECT_EQ(e.offset(), k3_offset);
    EXPECT_EQ(e.key(), "k3");
    EXPECT_EQ(e.sample_type(), "FeatureRecord");
    EXPECT_EQ(e.field(), "label");
    EXPECT_FALSE(e.malformed());
    EXPECT_NE(std::string(e.what()).find("FeatureRecord.label: expected int"), std::string::npos) << e.what();
  }
  auto batches = ds.ordered(4);
  EXPECT_THROW(batches.next_blocking(), SampleError);
}

TEST(SampleErrors, UnknownAndMissingFieldsAreNamed) {
  fs::path dir = fresh_dir("atdata_sample_fields");
  const std::string path = (dir / "s.tar").string();
  {
    TarWriter w(path);
    write_sample(w, FeatureSample{0, 0}, "ok");
    write_sample(w, ExtraFieldSample{1, 1, 7}, "extra");
    write_sample(w, IdOnlySample{2}, "short");
    w.close();
  }
  auto members = layout(path);
  ASSERT_EQ(members.size(), 3u);
  Dataset<FeatureSample> ds(path);
  auto loader = ds.ordered(unbatched);
  ASSERT_TRUE(loader.next_blocking());
  try {
    loader.next_blocking();
    FAIL() << "expected SampleError";
  } catch (const SampleError& e) {
    EXPECT_EQ(e.key(), "extra");
    EXPECT_EQ(e.offset(), members[1].offset);
    EXPECT_EQ(e.field(), "extra");
    EXPECT_NE(e.reason().find("unknown field"), std::string::npos) << e.reason();
    EXPECT_NE(std::string(e.what()).find("FeatureSample.extra: unknown field"), std::string::npos)
        << e.what();
  }
  try {
    loader.next_blocking();
    FAIL() << "expected SampleError";
  } catch (const SampleError& e) {
    EXPECT_EQ(e.key(), "short");
    EXPECT_EQ(e.offset(), members[2].offset);
    EXPECT_EQ(e.field(), "label");
    EXPECT_EQ(e.reason(), "missing required field");
  }
  EXPECT_FALSE(loader.next_blocking());
}

TEST(SampleErrors, MalformedBytesAreSampleErrorsToo) {
  fs::path dir = fresh_dir("atdata_sample_malformed");
  const std::string path = (dir / "m.tar").string();
  {
    TarWriter w(path);
    const std::byte never_used[] = {std::byte{0xc1}};  // a msgpack byte that is never valid
    w.write("garbage", "msgpack", never_used);
    // {"features": <bin that is not .npy>, "label": 1}
    std::vector<std::byte> packed;
    msgpack::Writer mw(packed);
    mw.write_map_header(2);
    mw.write_str("features");
    const std::byte junk[] = {std::byte{'n'}, std::byte{'o'}, std::byte{'p'}, std::byte{'e'}};
    mw.write_bin(junk);
    mw.write_str("label");
    mw.write_uint(1);
    w.write("badarray", "msgpack", packed);
    w.close();
  }
  auto members = layout(path);
  ASSERT_EQ(members.size(), 2u);

  Dataset<ArraySample> ds(path);
  auto loader = ds.ordered(unbatched);
  try {
    loader.next_blocking();
    FAIL() << "expected SampleError";
  } catch (const SampleError& e) {
    EXPECT_TRUE(e.malformed());
    EXPECT_EQ(e.key(), "garbage");
    EXPECT_EQ(e.offset(), 0u);
    EXPECT_EQ(e.sample_type(), "ArraySample");
    EXPECT_EQ(e.field(), "");
    EXPECT_EQ(
        std::string(e.what()).rfind("shard " + path + ", sample 'garbage' (at byte 0): ArraySample: ", 0), 0u)
        << e.what();
  }
  try {
    loader.next_blocking();
    FAIL() << "expected SampleError";
  } catch (const SampleError& e) {
    EXPECT_TRUE(e.malformed());
    EXPECT_EQ(e.key(), "badarray");
    EXPECT_EQ(e.offset(), members[1].offset);
    EXPECT_EQ(e.field(), "features");
    EXPECT_NE(std::string(e.what()).find("ArraySample.features: bin value at byte"), std::string::npos)
        << e.what();
  }

  // Schemaless: no type to name.
  DynamicDataset raw(path, nullptr);
  auto rl = raw.ordered(unbatched);
  try {
    rl.next_blocking();
    FAIL() << "expected SampleError";
  } catch (const SampleError& e) {
    EXPECT_TRUE(e.malformed());
    EXPECT_EQ(e.sample_type(), "");
    EXPECT_EQ(std::string(e.what()).rfind("shard " + path + ", sample 'garbage' (at byte 0): ", 0), 0u)
        << e.what();
    EXPECT_EQ(std::string(e.what()), "shard " + path + ", sample 'garbage' (at byte 0): " + e.reason());
  }
}

TEST(SampleErrors, SampleWithoutMsgpackMemberIsAShardErrorAtItsOffset) {
  fs::path dir = fresh_dir("atdata_sample_nomsgpack");
  const std::string path = (dir / "n.tar").string();
  {
    TarWriter w(path);
    write_sample(w, FeatureSample{0, 0}, "k0");
    const std::byte text[] = {std::byte{'h'}, std::byte{'i'}};
    w.write("k1", "txt", text);
    w.close();
  }
  auto members = layout(path);
  ASSERT_EQ(members.size(), 2u);
  Dataset<FeatureSample> ds(path);
  auto loader = ds.ordered(unbatched);
  ASSERT_TRUE(loader.next_blocking());
  try {
    loader.next_blocking();
    FAIL() << "expected ShardError";
  } catch (const ShardError& e) {
    EXPECT_EQ(e.url(), path);
    EXPECT_EQ(e.offset(), members[1].offset);
    EXPECT_NE(std::string(e.what()).find("sample 'k1' has no msgpack member"), std::string::npos) << e.what();
  }
}

// ---- truncated shards -----------------------------------------------------------------

constexpr int kSamples = 100;
constexpr int kAfter = 5;  // samples in the intact second shard

struct Truncation : ::testing::Test {
  fs::path dir = fresh_dir("atdata_truncation");
  std::string first = (dir / "t-0.tar").string();
  std::string second = (dir / "t-1.tar").string();
  std::vector<std::byte> full;
  std::vector<Member> members;

  void SetUp() override {
    ShardWriterOptions o;
    o.maxcount = kSamples;
    {
      ShardWriter w((dir / "t-%d.tar").string(), o);
      // Names of varying length: members of one to three blocks, so the cuts
      // land in headers, payloads and paddings of different sizes.
      for (int i = 0; i < kSamples + kAfter; ++i) {
        write_sample(w, Row{i, std::string(static_cast<std::size_t>((i * 137) % 1100), 'x')},
                     "s" + std::to_string(i));
      }
      w.close();
    }
    full = read_file(first);
    members = layout(first);
    ASSERT_EQ(members.size(), static_cast<std::size_t>(kSamples));
  }

  // Sample i is complete once member i + 1 has been read in full (as in
  // webdataset); the last one only at the end-of-archive marker.
  std::size_t completed_before(std::uint64_t cut) const {
    std::size_t k = 0;
    for (std::size_t j = 1; j < members.size(); ++j) k += members[j].end <= cut;
    return k;
  }

  // The cuts: inside a header, on a member boundary, inside a payload, right
  // after a payload, inside the padding, inside the end-of-archive marker.
  std::vector<std::uint64_t> cuts() const {
    std::vector<std::uint64_t> c = {0, 1, 511};
    for (std::size_t j : {1u, 6u, 7u, 8u, 31u, 32u, 33u, 40u, 64u, 65u, 99u}) {
      const Member& m = members[j];
      c.push_back(m.offset);
      c.push_back(m.offset + 100);
      c.push_back(m.offset + 512 + (m.end - m.offset - 512) / 2);
      c.push_back(m.end);
      if (m.end % 512 != 0) c.push_back(m.end + 1);
    }
    c.push_back(members.back().end + 512);  // after the padding: first zero block missing
    c.push_back(full.size() - 512 * 10);    // somewhere in the end-of-archive zeros
    return c;
  }

  void truncate_to(std::uint64_t cut) const {
    std::ofstream out(first, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(full.data()), static_cast<std::streamsize>(cut));
  }

  void check_error(const ShardError& e, std::uint64_t cut, std::size_t k) const {
    EXPECT_EQ(e.url(), first);
    EXPECT_LE(e.offset(), cut);
    EXPECT_GE(e.offset(), members[k].offset) << e.what();  // not before the first undelivered sample
  }
};

// Batch sizes [full…, partial] then the error, via range-for and next_blocking().
TEST_F(Truncation, BlockingIterationDeliversPartialBatchThenShardError) {
  const std::uint64_t archive_end = members.back().end + 1024;  // both zero blocks read
  for (std::uint64_t cut : cuts()) {
    if (cut >= archive_end) continue;
    truncate_to(cut);
    const std::size_t k = completed_before(cut);
    for (std::size_t batch : {std::size_t{1}, std::size_t{7}, std::size_t{32}}) {
      SCOPED_TRACE("cut " + std::to_string(cut) + ", batch " + std::to_string(batch));
      Dataset<Row> ds((dir / "t-{0..1}.tar").string());
      auto loader = ds.ordered(batch);
      std::vector<std::int64_t> ids;
      std::vector<std::size_t> sizes;
      bool failed = false;
      try {
        for (const auto& b : loader) {
          sizes.push_back(b.size());
          for (auto id : b.column<&Row::id>()) ids.push_back(id);
        }
      } catch (const ShardError& e) {
        failed = true;
        check_error(e, cut, k);
      }
      ASSERT_TRUE(failed);
      ASSERT_EQ(ids.size(), k);
      for (std::size_t i = 0; i < k; ++i) EXPECT_EQ(ids[i], static_cast<std::int64_t>(i));
      std::vector<std::size_t> expected(k / batch, batch);
      if (k % batch) expected.push_back(k % batch);
      EXPECT_EQ(sizes, expected);
      EXPECT_EQ(loader.state().samples_delivered, k);
      // Calling again skips the damaged shard (webdataset's warn_and_continue).
      std::vector<std::int64_t> rest;
      while (auto b = loader.next_blocking())
        for (auto id : b->column<&Row::id>()) rest.push_back(id);
      ASSERT_EQ(rest.size(), static_cast<std::size_t>(kAfter));
      EXPECT_EQ(rest.front(), kSamples);
    }
  }
}

TEST_F(Truncation, AwaitableNextDeliversPartialBatchThenShardError) {
  const std::uint64_t archive_end = members.back().end + 1024;
  for (std::uint64_t cut : cuts()) {
    if (cut >= archive_end) continue;
    truncate_to(cut);
    const std::size_t k = completed_before(cut);
    for (std::size_t batch : {std::size_t{1}, std::size_t{7}, std::size_t{32}}) {
      SCOPED_TRACE("cut " + std::to_string(cut) + ", batch " + std::to_string(batch));
      Dataset<Row> ds(first);
      auto loader = ds.ordered(batch);
      std::size_t delivered = 0, batches = 0, last_size = 0;
      std::optional<ShardError> error;
      bool ended = false;
      asio::io_context ctx;
      asio::co_spawn(
          ctx,
          [&]() -> asio::awaitable<void> {
            try {
              while (auto b = co_await loader.next()) {
                ++batches;
                last_size = b->size();
                delivered += b->size();
              }
              ended = true;
            } catch (const ShardError& e) {
              error = e;
            }
          },
          asio::detached);
      ctx.run();
      EXPECT_FALSE(ended);
      ASSERT_TRUE(error.has_value());
      check_error(*error, cut, k);
      EXPECT_EQ(delivered, k);
      EXPECT_EQ(batches, (k + batch - 1) / batch);
      if (k > 0) {
        EXPECT_EQ(last_size, k % batch ? k % batch : batch);
      }
    }
  }
}

TEST_F(Truncation, UnbatchedAndShuffledDeliverEveryCompletedSample) {
  const std::uint64_t cut = members[40].offset + 100;
  truncate_to(cut);
  const std::size_t k = completed_before(cut);
  ASSERT_EQ(k, 39u);
  Dataset<Row> ds(first);
  {
    auto loader = ds.ordered(unbatched);
    std::size_t n = 0;
    EXPECT_THROW(
        {
          while (loader.next_blocking()) ++n;
        },
        ShardError);
    EXPECT_EQ(n, k);
  }
  {
    // Shuffled: the buffer holds samples when the damage is found; the ones
    // already out come first, the rest follow when iteration continues.
    ShuffleOptions so;
    so.buffer_samples = 16;
    so.seed = 3;
    auto loader = ds.shuffled(so, 7);
    std::set<std::int64_t> seen;
    bool failed = false;
    for (;;) {
      try {
        auto b = loader.next_blocking();
        if (!b) break;
        for (auto id : b->column<&Row::id>()) seen.insert(id);
      } catch (const ShardError& e) {
        EXPECT_FALSE(failed);
        failed = true;
        EXPECT_EQ(e.url(), first);
      }
    }
    EXPECT_TRUE(failed);
    EXPECT_EQ(seen.size(), k);
    EXPECT_EQ(*seen.rbegin(), static_cast<std::int64_t>(k - 1));
  }
}

}  // namespace
