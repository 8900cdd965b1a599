#include "atdata/io/byte_source.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "atdata/io/blocking.hpp"

namespace {

using namespace atdata;

std::string slurp(ByteSource& src, std::vector<std::size_t>* sizes = nullptr) {
  asio::io_context ctx;
  return run_blocking(ctx, [&]() -> asio::awaitable<std::string> {
    std::string out;
    for (;;) {
      SharedBytes c = co_await src.next_chunk();
      if (c.empty()) break;
      if (sizes) sizes->push_back(c.size());
      out.append(c.as_string_view());
    }
    // EOF is sticky.
    SharedBytes again = co_await src.next_chunk();
    EXPECT_TRUE(again.empty());
    co_return out;
  }());
}

TEST(MemorySource, ChunksAndEof) {
  auto src = make_memory_source(SharedBytes::copy_of(std::string_view("abcdefghij")), "mem://x", 3);
  std::vector<std::size_t> sizes;
  EXPECT_EQ(slurp(*src, &sizes), "abcdefghij");
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 3, 1}));
  EXPECT_EQ(src->url(), "mem://x");
}

TEST(MemorySource, EmptyIsImmediateEof) {
  auto src = make_memory_source(SharedBytes{});
  EXPECT_EQ(slurp(*src), "");
}

class FileSourceTest : public ::testing::TestWithParam<bool> {};

TEST_P(FileSourceTest, ReadsWholeFileInChunks) {
  std::string path = ::testing::TempDir() + "/atdata_bytesrc_" + std::to_string(GetParam()) + ".bin";
  std::string content;
  for (int i = 0; i < 100000; ++i) content.push_back(static_cast<char>(i * 7 + 3));
  std::ofstream(path, std::ios::binary) << content;
  FileSourceOptions opt;
  opt.use_mmap = GetParam();
  opt.chunk_size = 8192;
  auto src = open_file_source(path, "", opt);
  EXPECT_EQ(src->url(), path);
  EXPECT_EQ(src->size_hint().value_or(0), content.size());
  std::vector<std::size_t> sizes;
  EXPECT_EQ(slurp(*src, &sizes), content);
  ASSERT_EQ(sizes.size(), 13u);
  EXPECT_EQ(sizes.front(), 8192u);
}

TEST_P(FileSourceTest, EmptyFile) {
  std::string path = ::testing::TempDir() + "/atdata_bytesrc_empty.bin";
  std::ofstream(path, std::ios::binary).flush();
  FileSourceOptions opt;
  opt.use_mmap = GetParam();
  auto src = open_file_source(path, "", opt);
  EXPECT_EQ(slurp(*src), "");
}

INSTANTIATE_TEST_SUITE_P(MmapAndRead, FileSourceTest, ::testing::Bool());

TEST(FileSource, MissingFileNamesUrl) {
  try {
    open_file_source("/nonexistent/dir/shard.tar", "file:///nonexistent/dir/shard.tar");
    FAIL() << "expected ShardError";
  } catch (const ShardError& e) {
    EXPECT_EQ(e.url(), "file:///nonexistent/dir/shard.tar");
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
  }
}

TEST(FileSource, DirectoryIsAnError) {
  EXPECT_THROW(open_file_source(::testing::TempDir()), ShardError);
}

TEST(ReadAll, ConcatenatesAndBounds) {
  asio::io_context ctx;
  auto src = make_memory_source(SharedBytes::copy_of(std::string_view("0123456789")), "m", 4);
  SharedBytes all = run_blocking(ctx, read_all(*src));
  EXPECT_EQ(all.as_string_view(), "0123456789");
  auto src2 = make_memory_source(SharedBytes::copy_of(std::string_view("0123456789")), "m", 4);
  EXPECT_THROW(run_blocking(ctx, read_all(*src2, 5)), ShardError);
  auto src3 = make_memory_source(SharedBytes::copy_of(std::string_view("0123456789")), "m");
  EXPECT_THROW(run_blocking(ctx, read_all(*src3, 5)), ShardError);
}

}  // namespace
