#include "atdata/io/tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "atdata/error.hpp"
#include "tar_test_util.hpp"

namespace {

using namespace atdata;
using namespace atdata::test;

std::vector<std::byte> payload(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>((i * 131 + seed * 7) >> 3);
  return v;
}

// Writes `count` samples with two fields each into memory.
std::vector<std::byte> write_shard(Compression c, int count, std::size_t size) {
  TarWriterOptions o;
  o.compression = c;
  o.mtime = 1768694400;
  TarWriter w = TarWriter::in_memory(o);
  for (int i = 0; i < count; ++i) {
    auto a = payload(size + static_cast<std::size_t>(i), static_cast<unsigned>(i));
    auto b = bytes_of("{\"i\": " + std::to_string(i) + "}");
    TarMemberData m[] = {{"msgpack", a}, {"json", b}};
    w.write("sample_" + std::to_string(1000 + i), m);
  }
  return w.take_bytes();
}

TEST(TarWriter, UstarLayoutLikeWebdataset) {
  auto t = write_shard(Compression::none, 1, 10);
  ASSERT_EQ(t.size() % 10240, 0u);
  // Members in sorted extension order.
  auto name = [&](std::size_t off) { return std::string(reinterpret_cast<const char*>(t.data() + off)); };
  EXPECT_EQ(name(0), "sample_1000.json");
  EXPECT_EQ(name(1024), "sample_1000.msgpack");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.data() + 100), 8), std::string("0000444\0", 8));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.data() + 257), 8), std::string("ustar\0"
                                                                                       "00",
                                                                                       8));
  EXPECT_EQ(name(265), "bigdata");
  EXPECT_EQ(name(297), "bigdata");
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(t.data() + 136), 12), std::string("15133021200\0", 12));
  EXPECT_EQ(static_cast<char>(t[156]), '0');
}

class RoundTrip : public ::testing::TestWithParam<Compression> {};

TEST_P(RoundTrip, WriteThenRead) {
  auto t = write_shard(GetParam(), 25, 3000);
  if (GetParam() != Compression::none) {
    EXPECT_EQ(detect_compression(t), GetParam());
  }
  for (std::size_t chunk : {std::size_t{0}, std::size_t{1000}, std::size_t{3}}) {
    auto s = read_samples(t, chunk);
    ASSERT_EQ(s.size(), 25u);
    for (int i = 0; i < 25; ++i) {
      EXPECT_EQ(s[i].key, "sample_" + std::to_string(1000 + i));
      ASSERT_EQ(s[i].members.size(), 2u);
      EXPECT_EQ(s[i].members[0].ext, "json");
      auto expect = payload(3000 + static_cast<std::size_t>(i), static_cast<unsigned>(i));
      EXPECT_EQ(*s[i].find("msgpack"), SharedBytes::copy_of(std::span<const std::byte>(expect)));
    }
  }
}

TEST_P(RoundTrip, LibarchiveReadsWhatWeWrite) {
  auto t = write_shard(GetParam(), 5, 700);
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  ASSERT_EQ(archive_read_open_memory(a, t.data(), t.size()), ARCHIVE_OK) << archive_error_string(a);
  archive_entry* e = nullptr;
  int n = 0;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string expected = "sample_" + std::to_string(1000 + n / 2) + (n % 2 == 0 ? ".json" : ".msgpack");
    EXPECT_EQ(archive_entry_pathname(e), expected);
    EXPECT_EQ(archive_entry_perm(e), 0444);
    EXPECT_STREQ(archive_entry_uname(e), "bigdata");
    if (n % 2 == 1) {
      std::vector<std::byte> buf(static_cast<std::size_t>(archive_entry_size(e)));
      EXPECT_EQ(archive_read_data(a, buf.data(), buf.size()), static_cast<la_ssize_t>(buf.size()));
      EXPECT_EQ(buf, payload(700 + static_cast<std::size_t>(n / 2), static_cast<unsigned>(n / 2)));
    }
    ++n;
  }
  EXPECT_EQ(n, 10);
  archive_read_free(a);
}

TEST_P(RoundTrip, TruncatedCompressedStreamIsAnError) {
  if (GetParam() == Compression::none) GTEST_SKIP();
  auto t = write_shard(GetParam(), 20, 5000);
  for (std::size_t cut : {t.size() / 4, t.size() / 2, t.size() - 40}) {
    std::vector<std::byte> part(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_THROW(read_samples(part, 1 << 12), ShardError) << "cut " << cut;
  }
  // Flipped bytes in the middle: a decode error (or a tar error), never a crash.
  auto bad = t;
  for (std::size_t i = bad.size() / 2; i < bad.size() / 2 + 16; ++i) bad[i] ^= std::byte{0x5a};
  EXPECT_THROW(read_samples(bad), ShardError);
}

INSTANTIATE_TEST_SUITE_P(Codecs, RoundTrip,
                         ::testing::Values(Compression::none, Compression::gzip, Compression::bzip2,
                                           Compression::xz, Compression::zstd),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(TarWriter, LongNamesUsePaxAndReadBack) {
  TarWriter w = TarWriter::in_memory();
  std::string key = "dir/" + std::string(120, 'k');
  auto data = bytes_of("x");
  w.write(key, "msgpack", data);
  auto t = w.take_bytes();
  EXPECT_EQ(static_cast<char>(t[156]), 'x');
  auto s = read_samples(t);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].key, key);
}

TEST(TarWriter, RejectsBadKeysAndExtensions) {
  TarWriter w = TarWriter::in_memory();
  auto d = bytes_of("x");
  EXPECT_THROW(w.write("", "msgpack", d), InvalidArgument);
  EXPECT_THROW(w.write("a.b", "msgpack", d), InvalidArgument);
  EXPECT_THROW(w.write("dir/", "msgpack", d), InvalidArgument);
  EXPECT_THROW(w.write("a", "", d), InvalidArgument);
  EXPECT_THROW(w.write("a", "x/y", d), InvalidArgument);
  TarMemberData dup[] = {{"txt", d}, {"txt", d}};
  EXPECT_THROW(w.write("a", dup), InvalidArgument);
  EXPECT_NO_THROW(w.write("dir.x/a", "msgpack", d));
}

TEST(ShardWriter, RollsOverByCountAndSize) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / "atdata_shardwriter";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<std::string> closed;
  ShardWriterOptions o;
  o.maxcount = 10;
  o.on_shard_closed = [&](const std::string& n) { closed.push_back(n); };
  {
    ShardWriter sw((dir / "out-%06d.tar").string(), o);
    auto d = payload(100, 1);
    for (int i = 0; i < 25; ++i) sw.write("s" + std::to_string(i), "msgpack", d);
    EXPECT_EQ(sw.shards().size(), 3u);
    sw.close();
  }
  ASSERT_EQ(closed.size(), 3u);
  EXPECT_EQ(closed[0], (dir / "out-000000.tar").string());
  EXPECT_EQ(closed[2], (dir / "out-000002.tar").string());
  std::size_t total = 0;
  for (const auto& n : closed) {
    ByteSourcePtr src = open_file_source(n);
    asio::io_context ctx;
    SharedBytes all = run_blocking(ctx, read_all(*src));
    total += read_samples(all).size();
  }
  EXPECT_EQ(total, 25u);

  // maxsize counts payload bytes; compressed by extension.
  ShardWriterOptions o2;
  o2.maxsize = 250;
  ShardWriter sw2((dir / "z-%d.tar.zst").string(), o2);
  auto d = payload(100, 2);
  for (int i = 0; i < 7; ++i) sw2.write("s" + std::to_string(i), "bin", d);
  sw2.close();
  ASSERT_EQ(sw2.shards().size(), 3u);  // 3 + 3 + 1 samples
  ByteSourcePtr src = open_file_source(sw2.shards()[0]);
  asio::io_context ctx;
  SharedBytes first = run_blocking(ctx, read_all(*src));
  EXPECT_EQ(detect_compression(first.span()), Compression::zstd);
  EXPECT_EQ(read_samples(first).size(), 3u);
}

TEST(ShardWriter, BadPatternFailsEarly) {
  EXPECT_THROW(ShardWriter("out.tar"), InvalidArgument);
  EXPECT_THROW(ShardWriter("/nonexistent-dir/x-%d.tar").write("a", "b", bytes_of("c")), ShardError);
}

TEST(Compression, DetectAndName) {
  EXPECT_EQ(compression_for_name("a.tar.gz"), Compression::gzip);
  EXPECT_EQ(compression_for_name("a.tgz"), Compression::gzip);
  EXPECT_EQ(compression_for_name("a.tar.bz2"), Compression::bzip2);
  EXPECT_EQ(compression_for_name("a.tar.xz"), Compression::xz);
  EXPECT_EQ(compression_for_name("a.tar.zst"), Compression::zstd);
  EXPECT_EQ(compression_for_name("a.tar"), Compression::none);
  EXPECT_EQ(detect_compression({}), Compression::none);
}

}  // namespace
