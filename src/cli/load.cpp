#include "load.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "args.hpp"
#include "atdata/dataset/dataset.hpp"
#include "atdata/dataset/shard_cache.hpp"
#include "atdata/io/shard_urls.hpp"
#include "cat.hpp"
#include "common.hpp"
#include "local.hpp"
#include "progress.hpp"

namespace atdata::cli {
namespace {

const char* kUsage =
    "usage: atdata load URL|AT_URI [--batch-size N] [--shuffle [--seed S] [--epoch E]] [--in-flight N]\n"
    "                   [--threads N] [--read-ahead MiB] [--cache-dir D [--cache-max-gb G]] [--limit N]\n"
    "                   [--skip-bad-shards] [--json]";

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

std::string load_summary(const LoaderStats& s, std::uint64_t batches) {
  std::string out = "loaded " + std::to_string(s.samples) + " samples in " + std::to_string(batches) +
                    " batches from " + std::to_string(s.shards_done) + "/" + std::to_string(s.shards_total) +
                    " shards, " + fixed(static_cast<double>(s.bytes) / 1e6, 1) + " MB in " +
                    fixed(s.seconds, 2) + " s: " + fixed(s.samples_per_second(), 0) + " samples/s, " +
                    fixed(s.bytes_per_second() / 1e9, 3) + " GB/s, " + std::to_string(s.retries) + " retries";
  if (s.shards_skipped) out += ", " + std::to_string(s.shards_skipped) + " shards skipped";
  return out;
}

std::string load_summary_json(const LoaderStats& s, std::uint64_t batches) {
  boost::json::object o;
  o["samples"] = s.samples;
  o["batches"] = batches;
  o["bytes"] = s.bytes;
  o["shards_done"] = s.shards_done;
  o["shards_total"] = s.shards_total;
  o["shards_skipped"] = s.shards_skipped;
  o["retries"] = s.retries;
  o["seconds"] = s.seconds;
  o["samples_per_second"] = s.samples_per_second();
  o["bytes_per_second"] = s.bytes_per_second();
  return boost::json::serialize(o);
}

int run_load(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, ProgressMode mode) {
  return guarded(kUsage, err, [&]() -> int {
    const ParsedArgs a = parse_args(args,
                                    {"--batch-size", "--seed", "--epoch", "--in-flight", "--threads",
                                     "--read-ahead", "--cache-dir", "--cache-max-gb", "--limit"},
                                    {"--shuffle", "--json", "--skip-bad-shards"});
    if (a.help) {
      out << kUsage << "\n";
      return kExitOk;
    }
    if (a.positional.size() != 1) throw UsageError("give exactly one URL or AT_URI");
    const std::string& url = a.positional[0];
    const std::size_t batch = a.integer("--batch-size", 32, 1, 1u << 20);
    const std::optional<std::uint64_t> limit =
        a.value("--limit") ? std::optional<std::uint64_t>(a.integer("--limit", 0)) : std::nullopt;

    DatasetOptions options;
    options.prefetch.shards_in_flight = a.integer("--in-flight", options.prefetch.shards_in_flight, 1, 1024);
    options.prefetch.decode_threads = a.integer("--threads", options.prefetch.decode_threads, 0, 256);
    options.prefetch.read_ahead_bytes =
        a.integer("--read-ahead", options.prefetch.read_ahead_bytes >> 20, 1, 1u << 14) << 20;
    if (a.flag("--skip-bad-shards")) options.prefetch.on_shard_error = ShardErrorPolicy::skip;
    if (auto dir = a.value("--cache-dir")) {
      ShardCacheOptions c;
      c.dir = *dir;
      c.max_bytes = a.integer("--cache-max-gb", 0) << 30;
      options.cache = std::make_shared<ShardCache>(c);
    } else if (a.value("--cache-max-gb")) {
      throw UsageError("--cache-max-gb needs --cache-dir");
    }

    std::string pattern = url;
    std::shared_ptr<const SampleSchema> schema;
    if (url.rfind("local:", 0) == 0 && url.rfind("local://", 0) != 0) {
      AtDataset local = resolve_local_dataset(url, true);
      pattern.clear();
      for (const auto& s : local.shards) pattern += (pattern.empty() ? "" : "::") + s;
      schema = std::move(local.schema);
    } else if (url.rfind("at://", 0) == 0) {
      AtDataset at = resolve_at_dataset(url, true);
      pattern.clear();
      for (const auto& s : at.shards) pattern += (pattern.empty() ? "" : "::") + s;
      options.opener = std::move(at.opener);
      schema = std::move(at.schema);
    }
    DynamicDataset ds(pattern, schema, std::move(options));
    std::optional<DynamicDataset::BatchLoader> loader;
    if (a.flag("--shuffle")) {
      ShuffleOptions sh;
      sh.seed = a.integer("--seed", 0);
      sh.epoch = a.integer("--epoch", 0);
      loader.emplace(ds.shuffled(sh, batch));
    } else {
      loader.emplace(ds.ordered(batch));
    }

    std::optional<ProgressBar> bar;
    if (mode != ProgressMode::off) bar.emplace(err, "loading", "shards", mode == ProgressMode::terminal);
    std::uint64_t batches = 0, samples = 0;
    while (!limit || samples < *limit) {
      auto b = loader->next_blocking();
      if (!b) break;
      ++batches;
      samples += b->size();
      if (bar) {
        const LoaderStats s = loader->stats();
        bar->update(s.shards_done, s.shards_total);
      }
    }
    const LoaderStats s = loader->stats();
    if (bar) {
      bar->update(s.shards_done, s.shards_total);
      bar->finish();
    }
    if (a.flag("--json")) {
      out << load_summary_json(s, batches) << "\n";
    } else {
      out << load_summary(s, batches) << "\n";
    }
    return kExitOk;
  });
}

}  // namespace atdata::cli
