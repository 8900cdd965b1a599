#pragma once
// Bulk publishing: thousands of records in one call, through applyWrites
// batches (≤ 200 ops, ≤ 150 KiB each) with a bounded number of requests in
// flight, paced by the server's RateLimit-* headers, resumable without
// duplicates (deterministic keys, see bulk_plan.hpp: a re-run lists the keys
// of the job that already exist and writes only the rest), with progress.

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/core/detail/chained_options.hpp"

namespace atdata::atmosphere {

struct BulkProgress {
  std::size_t total = 0;    // records in the job
  std::size_t skipped = 0;  // already present from an earlier run
  std::size_t written = 0;  // written by this run so far
  std::size_t batches_done = 0;
  std::size_t batches_total = 0;
  bool done() const noexcept { return skipped + written == total; }
};

// Not an aggregate (GCC 12, see docs/gcc12.md): fill member by member or
// chain: `BulkOptions().with_job_key("import-7").with_max_in_flight(8)`.
class BulkOptions : public atdata::detail::ChainedOptions<BulkOptions> {
 public:
  BulkOptions() = default;

  // Empty: derived from the collection and the records' content (so the same
  // call re-run is the same job). Set it to resume a job whose input changed.
  std::string job_key;
  std::size_t max_in_flight = 4;  // concurrent applyWrites calls
  std::size_t max_ops_per_batch = 200;
  std::size_t max_batch_bytes = 150 * 1024;
  // Before a batch, wait for the rate-limit window to reset when the last
  // RateLimit-Remaining cannot cover it (points per create, as the PDS counts).
  bool pace_by_rate_limit = true;
  std::size_t points_per_create = 3;
  // Called on the publishing strand after the existing-key scan and after
  // every batch. An exception thrown here stops the job like a crash would:
  // no new batch starts, in-flight ones finish, the exception propagates.
  std::function<void(const BulkProgress&)> on_progress;
  bool validate = true;  // check each record against the shipped lexicon before writing

  BulkOptions&& with_job_key(std::string v) && { return set(job_key, std::move(v)); }
  BulkOptions&& with_max_in_flight(std::size_t v) && { return set(max_in_flight, v); }
  BulkOptions&& with_max_ops_per_batch(std::size_t v) && { return set(max_ops_per_batch, v); }
  BulkOptions&& with_max_batch_bytes(std::size_t v) && { return set(max_batch_bytes, v); }
  BulkOptions&& with_pace_by_rate_limit(bool v) && { return set(pace_by_rate_limit, v); }
  BulkOptions&& with_points_per_create(std::size_t v) && { return set(points_per_create, v); }
  BulkOptions&& with_on_progress(std::function<void(const BulkProgress&)> v) && {
    return set(on_progress, std::move(v));
  }
  BulkOptions&& with_validate(bool v) && { return set(validate, v); }
};

struct BulkResult {
  std::string job_key;
  std::vector<AtUri> uris;  // one per input record, in input order
  std::size_t written = 0;
  std::size_t skipped = 0;
  std::size_t batches = 0;
};

class BulkPublisher {
 public:
  explicit BulkPublisher(atproto::AtmosphereClient& client) : client_(&client) {}

  // Records of one collection in the own repo. Their createdAt is kept when
  // present (and ignored for the job key).
  boost::asio::awaitable<BulkResult> publish_records(std::string collection,
                                                     std::vector<boost::json::object> records,
                                                     BulkOptions options);
  boost::asio::awaitable<BulkResult> publish_records(std::string collection,
                                                     std::vector<boost::json::object> records) {
    return publish_records(std::move(collection), std::move(records), BulkOptions{});
  }
  boost::asio::awaitable<BulkResult> publish_datasets(std::vector<DatasetRecord> records,
                                                      BulkOptions options);
  boost::asio::awaitable<BulkResult> publish_datasets(std::vector<DatasetRecord> records) {
    return publish_datasets(std::move(records), BulkOptions{});
  }

  // The existing record keys of a job (one listRecords range scan).
  boost::asio::awaitable<std::vector<std::string>> existing_keys(std::string collection, std::string job_key);

 private:
  atproto::AtmosphereClient* client_;
};

}  // namespace atdata::atmosphere
