#include "atdata/atmosphere/bulk.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <unordered_set>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include "atdata/atmosphere/bulk_plan.hpp"
#include "atdata/atmosphere/concurrency.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/error.hpp"
#include "atmosphere/publish_checks.hpp"

namespace atdata::atmosphere {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// applyWrites body overhead besides the ops: {"repo":"<did>","validate":false,"writes":[…]}.
constexpr std::size_t kBodyOverhead = 64;

struct Batch {
  std::vector<std::size_t> items;  // input indices
};

std::vector<Batch> make_batches(const std::vector<std::size_t>& todo, const std::vector<std::size_t>& sizes,
                                std::size_t max_ops, std::size_t max_bytes, std::size_t repo_len) {
  std::vector<Batch> out;
  Batch cur;
  std::size_t bytes = kBodyOverhead + repo_len;
  for (std::size_t i : todo) {
    const std::size_t sz = sizes[i] + 1;  // + separating comma
    if (kBodyOverhead + repo_len + sz > max_bytes) {
      throw InvalidArgument("bulk publish: record " + std::to_string(i) + " is " + std::to_string(sizes[i]) +
                            " bytes of JSON, more than one applyWrites call may carry (" +
                            std::to_string(max_bytes) + ")");
    }
    if (!cur.items.empty() && (cur.items.size() >= max_ops || bytes + sz > max_bytes)) {
      out.push_back(std::move(cur));
      cur = {};
      bytes = kBodyOverhead + repo_len;
    }
    cur.items.push_back(i);
    bytes += sz;
  }
  if (!cur.items.empty()) out.push_back(std::move(cur));
  return out;
}

// Waits out the rate-limit window when the last known remaining points cannot
// cover `points`. The PDS also answers 429 when exceeded; XrpcClient retries
// those, this only avoids provoking them.
asio::awaitable<void> pace(atproto::AtmosphereClient& client, std::size_t points) {
  const atproto::RateLimitInfo info = client.rate_limit();
  if (!info.remaining || !info.reset) co_return;
  if (*info.remaining >= static_cast<std::int64_t>(points)) co_return;
  auto wait = *info.reset - std::chrono::system_clock::now();
  if (wait <= std::chrono::system_clock::duration::zero()) co_return;
  // Never sleep for absurd header values (a broken proxy): cap at one hour.
  wait = std::min<std::chrono::system_clock::duration>(wait, std::chrono::hours(1));
  asio::steady_timer t(co_await asio::this_coro::executor,
                       std::chrono::duration_cast<asio::steady_timer::duration>(wait));
  co_await t.async_wait(asio::use_awaitable);
}

}  // namespace

asio::awaitable<std::vector<std::string>> BulkPublisher::existing_keys(std::string collection,
                                                                       std::string job_key) {
  check_job_key(job_key);
  // Ascending from the job key: every key "<job>-NNNNNN" sorts right after
  // "<job>", so the scan reads only this job's records.
  atproto::ListRecordsOptions opt;
  opt.repo = client_->did();
  opt.limit = 100;
  opt.reverse = true;
  opt.cursor = job_key;
  std::vector<std::string> keys;
  const std::string prefix = job_key + "-";
  auto pager = client_->list_all_records(std::move(collection), opt);
  while (auto page = co_await pager.next()) {
    for (const auto& r : page->records) {
      const AtUri u = AtUri::parse(r.uri);
      if (!u.rkey.starts_with(prefix)) co_return keys;  // past the job's range
      if (is_bulk_rkey_of(u.rkey, job_key)) keys.push_back(u.rkey);
    }
  }
  co_return keys;
}

asio::awaitable<BulkResult> BulkPublisher::publish_records(std::string collection,
                                                           std::vector<json::object> records,
                                                           BulkOptions options) {
  if (options.max_ops_per_batch == 0 || options.max_ops_per_batch > 200) {
    throw InvalidArgument("bulk publish: max_ops_per_batch must be 1..200");
  }
  // Every record before any write: a job never stops half-way on a bad one.
  if (options.validate) {
    for (std::size_t i = 0; i < records.size(); ++i) {
      detail::check_before_write(
          collection, records[i],
          "bulk publish: record #" + std::to_string(i) + " of " + std::to_string(records.size()));
    }
  }
  const std::string did = client_->did();  // AuthError when logged out, before any I/O
  BulkResult result;
  result.job_key = options.job_key.empty() ? bulk_job_key(collection, records) : options.job_key;
  check_job_key(result.job_key);

  const std::size_t n = records.size();
  std::vector<std::string> rkeys(n);
  result.uris.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    rkeys[i] = bulk_rkey(result.job_key, i);
    result.uris.push_back(AtUri{did, collection, rkeys[i]});
  }

  const auto existing_list = co_await existing_keys(collection, result.job_key);
  const std::unordered_set<std::string> existing(existing_list.begin(), existing_list.end());
  std::vector<std::size_t> todo;
  std::vector<std::size_t> sizes(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    if (existing.contains(rkeys[i])) continue;
    todo.push_back(i);
    sizes[i] =
        json::serialize(atproto::write_op_json(atproto::WriteOp::create(collection, records[i], rkeys[i])))
            .size();
  }
  result.skipped = n - todo.size();
  const auto batches =
      make_batches(todo, sizes, options.max_ops_per_batch, options.max_batch_bytes, did.size());

  BulkProgress progress{n, result.skipped, 0, 0, batches.size()};
  if (options.on_progress) options.on_progress(progress);

  co_await detail::for_each_bounded(
      batches.size(), options.max_in_flight, [&](std::size_t b) -> asio::awaitable<void> {
        const Batch& batch = batches[b];
        std::vector<atproto::WriteOp> ops;
        ops.reserve(batch.items.size());
        for (std::size_t i : batch.items)
          ops.push_back(atproto::WriteOp::create(collection, records[i], rkeys[i]));
        if (options.pace_by_rate_limit) co_await pace(*client_, ops.size() * options.points_per_create);
        atproto::ApplyWritesLimits limits;
        limits.max_ops = options.max_ops_per_batch;
        limits.max_body_bytes = options.max_batch_bytes;
        co_await client_->apply_writes(ops, false, limits);
        progress.written += ops.size();
        progress.batches_done += 1;
        if (options.on_progress) options.on_progress(progress);
      });
  result.written = progress.written;
  result.batches = batches.size();
  co_return result;
}

asio::awaitable<BulkResult> BulkPublisher::publish_datasets(std::vector<DatasetRecord> records,
                                                            BulkOptions options) {
  std::vector<json::object> objs;
  objs.reserve(records.size());
  for (const auto& r : records) objs.push_back(r.to_record());
  co_return co_await publish_records(std::string(nsid::kDatasetRecord), std::move(objs), std::move(options));
}

}  // namespace atdata::atmosphere
