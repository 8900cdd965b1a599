// Prefetching loader over HTTP (docs/benchmarks.md, "Prefetching loader").
// bench/prefetch_http.sh starts nginx and the fault proxy, links the sets
// into nginx's www and runs the cases below, each as one process, next to
// curl. Every case prints one JSON object per line on stdout.
//
//   bench_prefetch_http generate
//       writes the sets (once, into $ATDATA_BENCH_DIR) and prints
//       "<name> <dir> <shards>" per set: features (16 × 10,000),
//       images (8 × 1,000), features64 (64 × 2,500) and features64s
//       (64 × 250): the latency cases
//   bench_prefetch_http read URL features|images [options]
//       Dataset<T>::ordered(32) over URL; every batch's stacked array and
//       label column are touched. Options:
//         --in-flight N   shards_in_flight (default: the library default)
//         --reps R        passes, each with a new loader (default 1)
//         --epochs E      passes within one measurement (default 1)
//         --sleep-us U    the consumer sleeps U µs per batch ("training")
//         --busy-us U     the consumer spins U µs per batch
//         --in-memory     decode every batch first (untimed), then time the
//                         consumer over the vector: the no-I/O reference
//       Per rep: wall and process CPU seconds (all threads), shard bytes,
//       samples, batches, and the RSS before the first batch / peak RSS.

#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_shards.hpp"

namespace {

using namespace bench_shards;
using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return s(u.ru_utime) + s(u.ru_stime);
}

// kB from /proc/self/status ("VmRSS", "VmHWM").
long status_kb(const std::string& key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  }
  return -1;
}

void spin_for(std::chrono::microseconds d) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) {
  }
}

struct Options {
  std::string url, kind;
  long in_flight = 0;  // 0 = default
  int reps = 1, epochs = 1;
  long sleep_us = 0, busy_us = 0;
  bool in_memory = false;
};

// The consumer: touch the decoded batch so the decode cannot be skipped,
// then "train".
template <class T, auto Array>
std::uint64_t consume(const SampleBatch<T>& b, const Options& o) {
  const NDArray& a = b.template stacked<Array>();
  auto bytes = a.bytes();
  std::uint64_t sum =
      bytes.empty() ? 0
                    : static_cast<std::uint64_t>(bytes.front()) + static_cast<std::uint64_t>(bytes.back());
  for (std::int64_t l : b.template column<&T::label>()) sum += static_cast<std::uint64_t>(l);
  benchmark::DoNotOptimize(sum);
  if (o.sleep_us) std::this_thread::sleep_for(std::chrono::microseconds(o.sleep_us));
  if (o.busy_us) spin_for(std::chrono::microseconds(o.busy_us));
  return b.size();
}

template <class T, auto Array>
void run(const Options& o) {
  DatasetOptions dopt;
  if (o.in_flight > 0) dopt.prefetch.shards_in_flight = static_cast<std::size_t>(o.in_flight);
  Dataset<T> ds(o.url, std::move(dopt));
  for (int rep = 0; rep < o.reps; ++rep) {
    std::vector<SampleBatch<T>> held;
    std::uint64_t bytes = 0;
    if (o.in_memory) {
      for (int e = 0; e < o.epochs; ++e) {
        auto loader = ds.ordered(32);
        for (auto& b : loader) held.push_back(std::move(b));
        bytes += loader.stats().bytes;
      }
    }
    const long rss0 = status_kb("VmRSS");
    const double c0 = cpu_seconds();
    const auto t0 = Clock::now();
    std::uint64_t samples = 0, batches = 0, max_buffered = 0;
    if (o.in_memory) {
      for (const auto& b : held) {
        samples += consume<T, Array>(b, o);
        ++batches;
      }
    } else {
      for (int e = 0; e < o.epochs; ++e) {
        auto loader = ds.ordered(32);
        for (const auto& b : loader) {
          samples += consume<T, Array>(b, o);
          if ((++batches & 63) == 0) max_buffered = std::max(max_buffered, loader.stats().buffered_bytes);
        }
        bytes += loader.stats().bytes;
      }
    }
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = cpu_seconds() - c0;
    std::printf(
        "{\"kind\":\"%s\",\"in_flight\":%ld,\"epochs\":%d,\"sleep_us\":%ld,\"busy_us\":%ld,\"in_memory\":%s,"
        "\"rep\":%d,\"wall\":%.6f,\"cpu\":%.6f,\"bytes\":%llu,\"samples\":%llu,\"batches\":%llu,"
        "\"rss0_kb\":%ld,\"hwm_kb\":%ld,\"max_buffered\":%llu}\n",
        o.kind.c_str(), o.in_flight, o.epochs, o.sleep_us, o.busy_us, o.in_memory ? "true" : "false", rep,
        wall, cpu, static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(samples),
        static_cast<unsigned long long>(batches), rss0, status_kb("VmHWM"),
        static_cast<unsigned long long>(max_buffered));
    std::fflush(stdout);
  }
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_prefetch_http generate\n"
               "       bench_prefetch_http read URL features|images [--in-flight N] [--reps R] [--epochs E]\n"
               "                           [--sleep-us U] [--busy-us U] [--in-memory]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "generate") {
    auto dir = [](const std::string& url) { return fs::path(url).parent_path().string(); };
    std::printf("features %s 16\n", dir(features_url()).c_str());
    std::printf("images %s 8\n", dir(images_url()).c_str());
    std::printf("features64 %s 64\n", dir(features_url("features64", 64, 2500)).c_str());
    std::printf("features64s %s 64\n", dir(features_url("features64s", 64, 250)).c_str());
    return 0;
  }
  if (args.size() < 3 || args[0] != "read") return usage();
  Options o;
  o.url = args[1];
  o.kind = args[2];
  try {
    for (std::size_t i = 3; i < args.size(); ++i) {
      auto num = [&] {
        if (i + 1 >= args.size()) throw std::invalid_argument(args[i] + " needs a value");
        return std::stol(args[++i]);
      };
      if (args[i] == "--in-flight") {
        o.in_flight = num();
      } else if (args[i] == "--reps") {
        o.reps = static_cast<int>(num());
      } else if (args[i] == "--epochs") {
        o.epochs = static_cast<int>(num());
      } else if (args[i] == "--sleep-us") {
        o.sleep_us = num();
      } else if (args[i] == "--busy-us") {
        o.busy_us = num();
      } else if (args[i] == "--in-memory") {
        o.in_memory = true;
      } else {
        return usage();
      }
    }
    if (o.kind == "features") {
      run<FeatureSample, &FeatureSample::features>(o);
    } else if (o.kind == "images") {
      run<ImageSample, &ImageSample::image>(o);
    } else {
      return usage();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_prefetch_http: %s\n", e.what());
    return 1;
  }
  return 0;
}
