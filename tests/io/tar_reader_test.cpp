#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "atdata/error.hpp"
#include "atdata/io/compression.hpp"
#include "atdata/io/tar_reader.hpp"
#include "tar_test_util.hpp"

namespace {

using namespace atdata;
using namespace atdata::test;

std::vector<std::byte> load(const std::string& name) {
  std::ifstream in(std::string(ATDATA_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return bytes_of(ss.str());
}

boost::json::value load_json(const std::string& name) {
  auto b = load(name);
  return boost::json::parse(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

TEST(TarReader, FixtureTestSamples) {
  auto samples = read_samples(load("test_samples.tar"));
  ASSERT_EQ(samples.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(samples[i].key, "sample_00000" + std::to_string(i));
    ASSERT_EQ(samples[i].members.size(), 1u);
    EXPECT_EQ(samples[i].members[0].ext, "msgpack");
    EXPECT_EQ(samples[i].members[0].data.size(), 31u);
    EXPECT_EQ(*samples[i].url, "mem.tar");
  }
  // First payload byte-exact (fixture README).
  EXPECT_EQ(sha256_hex(samples[0].members[0].data.span()),
            sha256_hex(std::as_bytes(std::span("\x83\xa2id\x00\xa4name\xadtest_sample_0\xa5value\x00", 31))));
}

// Golden shard: PAX 'x' header before every member; every chunking of the
// stream (including 1-byte chunks and chunks that split headers) gives the
// same samples, and members inside one chunk are zero-copy views of it.
class GoldenChunks : public ::testing::TestWithParam<std::size_t> {};

TEST_P(GoldenChunks, MatchesExpectedJson) {
  auto shard = load("golden-basic-000000.tar");
  auto expected = load_json("golden-basic-000000.expected.json");
  const auto& exp_samples = expected.at("samples").as_array();
  SharedBytes whole = SharedBytes::copy_of(std::span<const std::byte>(shard));
  auto samples = read_samples(whole, GetParam(), "golden-basic-000000.tar");
  ASSERT_EQ(samples.size(), exp_samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& e = exp_samples[i].as_object();
    EXPECT_EQ(samples[i].key, e.at("key").as_string().c_str());
    ASSERT_EQ(samples[i].members.size(), 1u);
    const SharedBytes& data = samples[i].members[0].data;
    EXPECT_EQ(data.size(), static_cast<std::size_t>(e.at("msgpack_len").as_int64()));
    EXPECT_EQ(sha256_hex(data.span()), e.at("msgpack_sha256").as_string().c_str());
    if (GetParam() == 0) {
      // One chunk: every member is a view into the shard buffer.
      EXPECT_GE(data.data(), whole.data());
      EXPECT_LE(data.data() + data.size(), whole.data() + whole.size());
      EXPECT_EQ(data.owner(), whole.owner());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(ChunkSizes, GoldenChunks, ::testing::Values(0, 1, 7, 511, 512, 513, 4096, 100000));

TEST(TarReader, GroupsConsecutiveMembersAndLowercasesExtensions) {
  std::vector<std::byte> t;
  append_member(t, "a.msgpack", "1");
  append_member(t, "a.JSON", "2");
  append_member(t, "a.seg.NPY", "3");
  append_member(t, "b.msgpack", "4");
  append_member(t, "a.msgpack", "5");  // not consecutive: a new sample
  append_end(t);
  auto s = read_samples(t);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].key, "a");
  ASSERT_EQ(s[0].members.size(), 3u);
  EXPECT_EQ(s[0].members[1].ext, "json");
  EXPECT_EQ(s[0].members[2].ext, "seg.npy");
  EXPECT_EQ(s[0].find("seg.npy")->as_string_view(), "3");
  EXPECT_EQ(s[1].key, "b");
  EXPECT_EQ(s[2].key, "a");
  EXPECT_EQ(s[2].find("msgpack")->as_string_view(), "5");
}

TEST(TarReader, SkipsMetaNonRegularAndDotlessMembers) {
  std::vector<std::byte> t;
  append_member(t, "__meta__", "x");
  append_member(t, "__meta__/a.txt", "x");
  append_member(t, "dir/", "", '5');
  append_member(t, "link.txt", "", '2');
  append_member(t, "noext", "x");
  append_member(t, "k.txt", "keep");
  append_member(t, "fifo.txt", "", '6');
  append_end(t);
  auto s = read_samples(t);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].key, "k");
  EXPECT_EQ(s[0].members.size(), 1u);
}

TEST(TarReader, DuplicateExtensionIsAnError) {
  std::vector<std::byte> t;
  append_member(t, "a.txt", "1");
  append_member(t, "a.TXT", "2");
  append_end(t);
  try {
    read_samples(t);
    FAIL();
  } catch (const ShardError& e) {
    EXPECT_EQ(e.offset(), 1024u);
    EXPECT_NE(std::string(e.what()).find("duplicate"), std::string::npos);
  }
  std::vector<std::byte> t2;
  append_member(t2, "a.__key__", "1");
  append_end(t2);
  EXPECT_THROW(read_samples(t2), ShardError);
}

TEST(TarReader, PaxPathSizeAndGnuLongName) {
  std::string long_name(150, 'k');
  std::vector<std::byte> t;
  // PAX path override.
  std::string rec = "30 path=" + long_name.substr(0, 17) + ".bin\n";
  ASSERT_EQ(rec.size(), 30u);
  append_member(t, "././@PaxHeader", rec, 'x');
  append_member(t, "ignored.name", "pax");
  // GNU long name.
  append_member(t, "././@LongLink", long_name + ".txt", 'L');
  append_member(t, "truncated", "gnu");
  // ustar prefix.
  append_member(t, "p.txt", "prefixed", '0', "some/dir");
  // PAX size overriding a wrong header size.
  append_member(t, "././@PaxHeader", "10 size=4\n", 'x');
  append(t, tar_header("s.txt", 999));
  append(t, bytes_of("four"));
  t.resize(t.size() + 508);
  append_end(t);
  auto s = read_samples(t, 100);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].key, long_name.substr(0, 17));
  EXPECT_EQ(s[0].members[0].data.as_string_view(), "pax");
  EXPECT_EQ(s[1].key, long_name);
  EXPECT_EQ(s[1].members[0].data.as_string_view(), "gnu");
  EXPECT_EQ(s[2].key, "some/dir/p");
  EXPECT_EQ(s[3].key, "s");
  EXPECT_EQ(s[3].members[0].data.as_string_view(), "four");
}

TEST(TarReader, GlobalPaxAppliesOnlyThroughLaterXHeaders) {
  std::vector<std::byte> t;
  append_member(t, "././@GlobalHead", "14 path=g.txt\n", 'g');
  append_member(t, "a.txt", "plain");           // Python: not patched by 'g'
  append_member(t, "././@PaxHeader", "", 'x');  // empty x merges the global path
  append_member(t, "b.txt", "patched");
  append_end(t);
  auto s = read_samples(t);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].key, "a");
  EXPECT_EQ(s[1].key, "g");
}

TEST(TarReader, BadChecksumNamesUrlAndOffset) {
  std::vector<std::byte> t;
  append_member(t, "a.txt", "1");
  append_member(t, "b.txt", "2");
  append_end(t);
  t[1024 + 3] = std::byte{'X'};  // corrupt second header
  try {
    read_samples(SharedBytes::copy_of(std::span<const std::byte>(t)), 0, "file:///x/shard.tar");
    FAIL();
  } catch (const ShardError& e) {
    EXPECT_EQ(e.url(), "file:///x/shard.tar");
    EXPECT_EQ(e.offset(), 1024u);
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos);
  }
}

TEST(TarReader, NotATarAndEmpty) {
  EXPECT_THROW(read_samples(bytes_of("This is not a tar file at all!")), ShardError);
  std::vector<std::byte> junk(4096, std::byte{'j'});
  EXPECT_THROW(read_samples(junk), ShardError);
  EXPECT_THROW(read_samples(std::vector<std::byte>{}), ShardError);
}

TEST(TarReader, HostileSizesDoNotAllocate) {
  // A header claiming a 2^62-byte member followed by little data: error,
  // no huge allocation.
  std::vector<std::byte> t = tar_header("a.txt", 0);
  std::vector<std::byte> h = tar_header("a.txt", 0);
  // base-256 size 2^61
  t[124] = std::byte{0x80};
  std::memset(t.data() + 125, 0, 11);
  t[124 + 4] = std::byte{0x20};
  std::memset(t.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (auto b : t) sum += static_cast<unsigned char>(b);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06o", sum);
  std::memcpy(t.data() + 148, buf, 6);
  t[154] = std::byte{0};
  t.resize(t.size() + 4096);
  EXPECT_THROW(read_samples(t), ShardError);
  // Oversized PAX header.
  std::vector<std::byte> p = tar_header("././@PaxHeader", std::uint64_t{1} << 30, 'x');
  EXPECT_THROW(read_samples(p), ShardError);
  // Malformed PAX records.
  for (std::string bad : {"3 x\n", "99 path=a\n", "abc path=a\n", "12 pathxa.b\n", "11 size=x1\n"}) {
    std::vector<std::byte> q;
    append_member(q, "././@PaxHeader", bad, 'x');
    append_member(q, "a.txt", "1");
    append_end(q);
    EXPECT_THROW(read_samples(q), ShardError) << bad;
  }
}

// Truncating a valid shard at any 512-byte boundary before the end-of-archive
// marker is complete is an error; complete samples before the damage are
// delivered, the damaged one never (checked via an incremental reader).
TEST(TarReader, TruncationAtEveryBlockBoundary) {
  auto shard = load("golden-basic-000000.tar");
  // Offset just after the second end-of-archive block.
  std::size_t end_of_archive = 0;
  {
    auto json = load_json("golden-basic-000000.expected.json");
    const auto& entries = json.at("tar_layout").at("golden-basic-000000.tar").at("entries").as_array();
    const auto& last = entries.back().as_object();
    std::size_t data_end = static_cast<std::size_t>(last.at("offset").as_int64()) + 512 +
                           (static_cast<std::size_t>(last.at("size").as_int64()) + 511) / 512 * 512;
    end_of_archive = data_end + 1024;
  }
  auto full = read_samples(shard);
  ASSERT_EQ(full.size(), 50u);
  for (std::size_t cut = 0; cut <= shard.size(); cut += 512) {
    std::vector<std::byte> part(shard.begin(), shard.begin() + static_cast<std::ptrdiff_t>(cut));
    asio::io_context ctx;
    ShardReader reader(
        make_memory_source(SharedBytes::copy_of(std::span<const std::byte>(part)), "cut.tar", 1000));
    std::vector<RawSample> got;
    bool failed = false;
    try {
      run_blocking(ctx, [&]() -> asio::awaitable<void> {
        while (co_await reader.read(got, 1) > 0) {
        }
      }());
    } catch (const ShardError& e) {
      failed = true;
      EXPECT_EQ(e.url(), "cut.tar");
      EXPECT_LE(e.offset(), cut);
    }
    EXPECT_EQ(failed, cut < end_of_archive) << "cut at " << cut;
    // Whatever was delivered is a prefix of the real samples, each complete.
    ASSERT_LE(got.size(), full.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].key, full[i].key);
      EXPECT_EQ(got[i].members[0].data, full[i].members[0].data);
    }
    if (!failed) {
      EXPECT_EQ(got.size(), 50u);
    }
  }
}

TEST(TarReader, ParserIgnoresBytesAfterEnd) {
  std::vector<std::byte> t;
  append_member(t, "a.txt", "1");
  append_end(t);
  t.resize(t.size() + 700, std::byte{'z'});
  auto s = read_samples(t, 3);
  ASSERT_EQ(s.size(), 1u);
}

struct NameCase {
  const char* name;
  const char* key;  // nullptr: no match
  const char* ext;
};

TEST(MemberNames, SplitLikeWebdatasetRegex) {
  // Expected values from Python: re.match(r"^((?:.*/|)[^.]+)[.]([^/]*)$", name).
  const NameCase cases[] = {
      {"a.b", "a", "b"},
      {"a.b.c", "a", "b.c"},
      {"dir/a.b", "dir/a", "b"},
      {"dir.x/a.b.c", "dir.x/a", "b.c"},
      {"a/b/c.d.e", "a/b/c", "d.e"},
      {"noext", nullptr, nullptr},
      {"dir.x/noext", nullptr, nullptr},
      {".hidden", nullptr, nullptr},
      {"a/.hidden", "a/", "hidden"},
      {"a.b/.hidden", nullptr, nullptr},
      {"/.x", "/", "x"},
      {"a//.x", "a//", "x"},
      {"a.", "a", ""},
      {"x/y/z.", "x/y/z", ""},
  };
  for (const auto& c : cases) {
    std::string_view key, ext;
    bool ok = split_member_name(c.name, key, ext);
    ASSERT_EQ(ok, c.key != nullptr) << c.name;
    if (ok) {
      EXPECT_EQ(key, c.key) << c.name;
      EXPECT_EQ(ext, c.ext) << c.name;
    }
  }
}

TEST(MemberNames, MetaNames) {
  EXPECT_TRUE(is_meta_member_name("__key__"));
  EXPECT_TRUE(is_meta_member_name("___"));
  EXPECT_TRUE(is_meta_member_name("__meta__/x.txt"));
  EXPECT_TRUE(is_meta_member_name("__a.b__"));
  EXPECT_FALSE(is_meta_member_name("___/x.txt"));
  EXPECT_FALSE(is_meta_member_name("a/__x__"));
  EXPECT_FALSE(is_meta_member_name("__x_.txt"));
  EXPECT_FALSE(is_meta_member_name("sample.msgpack"));
}

}  // namespace

namespace {

// Deterministic mutation sweep: corrupted shards (plain and compressed) either
// read or fail with an atdata::Error — never crash, hang or over-allocate
// (run under ATDATA_SANITIZE for the memory-safety half of the claim).
TEST(TarReader, MutatedShardsFailCleanly) {
  using namespace atdata;
  using namespace atdata::test;
  std::ifstream in(std::string(ATDATA_TEST_DATA_DIR) + "/golden-basic-000000.tar", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  auto plain = bytes_of(ss.str());
  std::vector<std::vector<std::byte>> inputs{plain};
  for (Compression c : {Compression::gzip, Compression::zstd}) {
    std::vector<std::byte> out;
    auto sink = [](void* ctx, std::span<const std::byte> s) {
      auto* v = static_cast<std::vector<std::byte>*>(ctx);
      v->insert(v->end(), s.begin(), s.end());
    };
    auto comp = make_compressor(c, sink, &out);
    comp->write(plain);
    comp->finish();
    inputs.push_back(std::move(out));
  }
  std::uint64_t x = 0x243f6a8885a308d3ULL;
  auto rnd = [&]() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  int errors = 0, reads = 0;
  for (const auto& base : inputs) {
    for (int iter = 0; iter < 150; ++iter) {
      auto t = base;
      int flips = 1 + static_cast<int>(rnd() % 8);
      for (int f = 0; f < flips; ++f) {
        std::size_t pos = iter % 3 == 0 ? rnd() % std::min<std::size_t>(t.size(), 2048) : rnd() % t.size();
        t[pos] = static_cast<std::byte>(rnd());
      }
      if (iter % 5 == 0) t.resize(rnd() % t.size());
      try {
        auto s = read_samples(t, 1 + rnd() % 70000);
        ++reads;
        EXPECT_LE(s.size(), 50u);
      } catch (const Error&) {
        ++errors;
      }
    }
  }
  EXPECT_GT(errors, 0);
  EXPECT_EQ(errors + reads, 450);
}

}  // namespace
