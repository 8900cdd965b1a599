// End-to-end shard read benchmark (issue 3): Dataset<T>::ordered(32) over
// generated shards, from the page cache.
//   (a) 16 shards × 10,000 {features f32[128], label int, source str}
//   (b)  8 shards ×  1,000 {image u8[3,224,224], label int}
// Data is generated on first run into $ATDATA_BENCH_DIR (default
// /tmp/atdata-bench) and reused; the first timed pass warms the page cache.
// Counters: items_per_second = samples/s, bytes_per_second = shard bytes/s.

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "bench_shards.hpp"

namespace {

namespace fs = std::filesystem;
using namespace atdata;

using namespace bench_shards;

// Minor page faults of this process so far (mmap'd page-cache pages and fresh
// heap pages each cost one unless pre-faulted).
long minor_faults() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

template <class T, auto ArrayMember>
void read_all(benchmark::State& state, const std::string& url) {
  Dataset<T> ds(url);
  const std::uint64_t bytes = bench_shards::total_size(ds.shard_list());
  std::uint64_t samples = 0;
  long faults0 = minor_faults();
  for (auto _ : state) samples = bench_shards::ordered32_pass<T, ArrayMember>(ds);
  state.SetItemsProcessed(static_cast<std::int64_t>(samples * state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["minflt/pass"] =
      static_cast<double>(minor_faults() - faults0) / static_cast<double>(state.iterations());
}

std::vector<std::string> image_shards() {
  Dataset<ImageSample> ds(images_url());
  return ds.shard_list();
}

// Reference copies of the same shard bytes, for the ceiling of (b): the bytes
// are copied in image-sized pieces (3·224·224) into one reused 32-image
// destination, i.e. the stacking memcpy without tar/npy parsing.
constexpr std::size_t kImageBytes = 3 * 224 * 224;

void copy_pieces(const std::byte* src, std::size_t n, std::vector<std::byte>& dst, std::size_t& slot) {
  for (std::size_t off = 0; off < n; off += kImageBytes) {
    std::size_t len = std::min(kImageBytes, n - off);
    std::memcpy(dst.data() + slot * kImageBytes, src + off, len);
    slot = (slot + 1) % 32;
  }
}

template <class Pass>
void reference(benchmark::State& state, Pass pass) {
  auto shards = image_shards();
  std::uint64_t bytes = 0;
  for (const auto& s : shards) bytes += fs::file_size(s);
  std::vector<std::byte> dst(32 * kImageBytes);
  pass(shards, dst);  // warm the page cache and the destination
  long faults0 = minor_faults();
  for (auto _ : state) {
    pass(shards, dst);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
  state.counters["minflt/pass"] =
      static_cast<double>(minor_faults() - faults0) / static_cast<double>(state.iterations());
}

struct Mapped {
  const std::byte* p = nullptr;
  std::size_t n = 0;
};

Mapped map_file(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::size_t n = fs::file_size(path);
  void* a = ::mmap(nullptr, n, PROT_READ, MAP_PRIVATE | flags, fd, 0);
  ::close(fd);
  return {static_cast<const std::byte*>(a), n};
}

// memcpy alone: the shards stay mapped and pre-faulted across passes, so this
// is the copy from cache-cold memory with no page-table work.
void BM_Images_Memcpy_Mapped(benchmark::State& state) {
  std::vector<Mapped> maps;
  for (const auto& s : image_shards()) maps.push_back(map_file(s, MAP_POPULATE));
  reference(state, [&](const std::vector<std::string>&, std::vector<std::byte>& dst) {
    std::size_t slot = 0;
    for (const auto& m : maps) copy_pieces(m.p, m.n, dst, slot);
  });
  for (const auto& m : maps) ::munmap(const_cast<std::byte*>(m.p), m.n);
}

// What a mmap source costs at best: map + pre-fault + copy + unmap per pass.
void BM_Images_Memcpy_MmapPerPass(benchmark::State& state) {
  reference(state, [](const std::vector<std::string>& shards, std::vector<std::byte>& dst) {
    std::size_t slot = 0;
    for (const auto& s : shards) {
      Mapped m = map_file(s, 0);
      (void)::madvise(const_cast<std::byte*>(m.p), m.n, MADV_POPULATE_READ);
      copy_pieces(m.p, m.n, dst, slot);
      ::munmap(const_cast<std::byte*>(m.p), m.n);
    }
  });
}

// What a read() source costs at best: pread into one reused buffer of
// state.range(0) KiB (the kernel's copy out of the page cache) + copy out.
void BM_Images_Memcpy_ReadPerPass(benchmark::State& state) {
  std::vector<std::byte> buf(static_cast<std::size_t>(state.range(0)) << 10);
  reference(state, [&](const std::vector<std::string>& shards, std::vector<std::byte>& dst) {
    std::size_t slot = 0;
    for (const auto& s : shards) {
      int fd = ::open(s.c_str(), O_RDONLY | O_CLOEXEC);
      off_t off = 0;
      for (;;) {
        ssize_t r = ::pread(fd, buf.data(), buf.size(), off);
        if (r <= 0) break;
        copy_pieces(buf.data(), static_cast<std::size_t>(r), dst, slot);
        off += r;
      }
      ::close(fd);
    }
  });
}

void BM_Features_Ordered32(benchmark::State& state) {
  read_all<FeatureSample, &FeatureSample::features>(state, features_url());
}
void BM_Images_Ordered32(benchmark::State& state) {
  read_all<ImageSample, &ImageSample::image>(state, images_url());
}

BENCHMARK(BM_Features_Ordered32)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_Images_Ordered32)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_Images_Memcpy_Mapped)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_Images_Memcpy_MmapPerPass)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_Images_Memcpy_ReadPerPass)
    ->Arg(256)
    ->Arg(1024)
    ->Arg(4096)
    ->Arg(16384)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
