#pragma once
// Discovery: follows the network live and keeps a Catalogue of every schema,
// dataset and lens record published on it. It runs any number of firehose
// subscribers (PDSes or relays) and Jetstream clients into one bounded
// queue, applies what they deliver to the catalogue in transactions (with
// each host's cursor, so a restart resumes exactly where the catalogue
// stopped), fills repositories it sees for the first time from what they
// already hold (listRecords or getRepo), and hands out "discovered"
// notifications to whoever awaits them.
//
// One run() loop owns it all; cancel() ends it. Everything runs on one
// executor (the catalogue is written from that executor only).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "atdata/atmosphere/backfill.hpp"
#include "atdata/atmosphere/catalogue.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/atproto/firehose.hpp"
#include "atdata/atproto/jetstream.hpp"
#include "atdata/io/asio_build.hpp"

namespace atdata::atmosphere {

struct DiscoveryConfig {
  DiscoveryConfig() = default;  // not an aggregate (see XrpcCall)
  // Firehose hosts: PDS or relay base URLs (http[s]:// or ws[s]://).
  std::vector<std::string> hosts;
  // Jetstream endpoints (ws[s]://host/subscribe).
  std::vector<std::string> jetstreams;
  // Start every source after this cursor instead of the catalogue's stored
  // one (0 replays a PDS's whole history). nullopt: the stored cursor, or
  // live-only for a source the catalogue has never followed.
  std::optional<std::int64_t> cursor;
  // Signature checks on firehose commits (keys from the DID documents).
  bool verify = true;
  // Fill a repository from what it already holds the first time one of its
  // dataset records is seen (and after a #sync event).
  bool backfill = true;
  BackfillMethod backfill_method = BackfillMethod::list_records;
  // Repositories (DIDs or handles) to fill when run() starts, whether or not
  // they publish anything while it runs.
  std::vector<std::string> repos;
  // At start, ask each host which repositories hold dataset records
  // (com.atproto.sync.listReposByCollection, offered by relays, not by PDSes)
  // and fill those not known yet. A host without the method is skipped.
  bool backfill_listed_repos = true;
  // A failed backfill is retried on a later event of that repository, but
  // not sooner than this.
  std::chrono::milliseconds backfill_retry{30'000};
  // Events between subscribers and the catalogue; a full queue slows reading.
  std::size_t queue_depth = 4096;
  // Events applied per catalogue transaction at most.
  std::size_t batch_max = 1024;
  // How long a transaction may wait for more events while they keep coming
  // (RepoEventQueue::pop_batch): a busy stream is written in large batches,
  // an idle one at once. 0: take only what is queued.
  std::chrono::microseconds batch_linger{5'000};
  // Notifications kept for next() (0: none are produced). A full buffer makes
  // the loop wait for the reader, so none is lost.
  std::size_t notification_capacity = 0;
  // Templates for each subscriber's settings (timeouts, backoff, TLS, the
  // Jetstream dictionary); host/url, cursor, collections and verify are set
  // per source from the fields above.
  atproto::FirehoseConfig firehose;
  atproto::JetstreamConfig jetstream;
  // Connection and verification reports from every subscriber, and backfill
  // results, as one line of text each (for logs).
  std::function<void(std::string_view)> on_log;
};

struct DiscoveryStats {
  std::uint64_t events = 0;        // events taken from the queue
  std::uint64_t rejected = 0;      // frames that failed decoding or verification
  std::uint64_t transactions = 0;  // catalogue batches written
  std::uint64_t discovered = 0;    // records created, updated or deleted in the catalogue
  std::uint64_t invalid_records = 0;
  std::uint64_t backfills = 0;  // repositories filled
  std::uint64_t backfill_failures = 0;
};

class Discovery {
 public:
  // `client` (no login needed) reads repositories for backfill and resolves
  // signing keys; it must outlive the Discovery, as must `catalogue`.
  Discovery(atproto::AtmosphereClient& client, Catalogue& catalogue, DiscoveryConfig config);
  ~Discovery();
  Discovery(const Discovery&) = delete;
  Discovery& operator=(const Discovery&) = delete;

  // Runs every subscriber and the catalogue writer until cancel() (then
  // returns once all have stopped) or a fatal subscriber error (a
  // FutureCursor: StreamError is rethrown after the others were stopped).
  boost::asio::awaitable<void> run();
  void cancel();

  // The next notification, in catalogue order; nullopt once run() ended and
  // all were read. Needs notification_capacity > 0 (InvalidArgument).
  boost::asio::awaitable<std::optional<Discovered>> next();

  Catalogue& catalogue() noexcept;
  const DiscoveryConfig& config() const noexcept;
  DiscoveryStats stats() const noexcept;
  // Each source's current cursor (what was last queued), keyed by source.
  std::vector<std::pair<std::string, std::optional<std::int64_t>>> cursors() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace atdata::atmosphere
