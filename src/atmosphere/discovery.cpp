#include "atdata/atmosphere/discovery.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <deque>
#include <exception>
#include <map>

#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/atproto/event_queue.hpp"
#include "atdata/error.hpp"
#include "atdata/io/detail/signal.hpp"
#include "atdata/net/url.hpp"

namespace asio = boost::asio;

namespace atdata::atmosphere {

namespace {

using Clock = std::chrono::steady_clock;

// The collections the catalogue keeps; subscribers convert (and verify) only
// the ops in these, so the rest of the network costs little more than a decode.
const std::vector<std::string>& dataset_collections() {
  static const std::vector<std::string> c{"ac.foundation.dataset.*", "science.alt.dataset.*"};
  return c;
}

}  // namespace

struct Discovery::Impl : std::enable_shared_from_this<Discovery::Impl> {
  atproto::AtmosphereClient& client;
  Catalogue& cat;
  DiscoveryConfig cfg;
  asio::any_io_executor ex;
  std::shared_ptr<atproto::RepoEventQueue> queue;
  std::vector<std::unique_ptr<atproto::Firehose>> firehoses;
  std::vector<std::unique_ptr<atproto::Jetstream>> jetstreams;

  std::deque<Discovered> notes;
  atdata::detail::Signal note_ready, note_space;
  bool ended = false;
  bool running = false;
  bool cancelled = false;

  std::map<std::string, Clock::time_point, std::less<>> backfill_failed;
  DiscoveryStats st;
  std::exception_ptr fatal;

  Impl(atproto::AtmosphereClient& c, Catalogue& k, DiscoveryConfig config)
      : client(c),
        cat(k),
        cfg(std::move(config)),
        ex(c.http()->get_executor()),
        note_ready(ex),
        note_space(ex) {
    if (cfg.queue_depth == 0) throw InvalidArgument("DiscoveryConfig.queue_depth must be >= 1");
    if (cfg.batch_max == 0) throw InvalidArgument("DiscoveryConfig.batch_max must be >= 1");
  }

  void log(std::string_view line) const {
    if (cfg.on_log) cfg.on_log(line);
  }

  std::optional<std::int64_t> start_cursor(const std::string& source) const {
    if (cfg.cursor) return cfg.cursor;
    return cat.cursor(source);
  }

  void build_sources() {
    queue = std::make_shared<atproto::RepoEventQueue>(ex, cfg.queue_depth);
    // Signing keys come from the client's resolver (shared cache); the client
    // outlives this object, so a non-owning handle is enough.
    std::shared_ptr<atproto::IdentityResolver> identity(std::shared_ptr<void>(), &client.identity());
    for (const auto& host : cfg.hosts) {
      atproto::FirehoseConfig c = cfg.firehose;
      c.host = host;
      c.cursor = start_cursor(host);
      c.collections = dataset_collections();
      c.verify = cfg.verify;
      if (!c.on_status && cfg.on_log) {
        c.on_status = [this, host](const atproto::FirehoseStatus& s) { log(host + ": " + to_string(s)); };
      }
      firehoses.push_back(std::make_unique<atproto::Firehose>(ex, std::move(c), queue, identity));
    }
    for (const auto& url : cfg.jetstreams) {
      atproto::JetstreamConfig c = cfg.jetstream;
      c.url = url;
      c.cursor = start_cursor(url);
      c.wanted_collections = dataset_collections();
      jetstreams.push_back(std::make_unique<atproto::Jetstream>(ex, std::move(c), queue));
    }
  }

  // ---- notifications --------------------------------------------------------

  asio::awaitable<void> publish(std::vector<Discovered>&& found) {
    st.discovered += found.size();
    if (cfg.notification_capacity == 0) co_return;
    for (auto& d : found) {
      while (notes.size() >= cfg.notification_capacity && !cancelled) co_await note_space.wait();
      if (cancelled && notes.size() >= cfg.notification_capacity) co_return;
      notes.push_back(std::move(d));
      note_ready.notify();
    }
  }

  asio::awaitable<void> take(CatalogueUpdate&& u) {
    st.invalid_records += u.invalid.size();
    for (const auto& bad : u.invalid) log("invalid record " + bad.uri.str() + ": " + bad.error);
    co_await publish(std::move(u.discovered));
  }

  // ---- backfill ---------------------------------------------------------------

  bool backfill_due(const std::string& did) const {
    auto it = backfill_failed.find(did);
    return it == backfill_failed.end() || Clock::now() - it->second >= cfg.backfill_retry;
  }

  asio::awaitable<void> backfill(std::string did, std::string source) {
    try {
      auto records = co_await fetch_repo_records(client, did, cfg.backfill_method);
      CatalogueUpdate u = cat.replace_repo(did, records, source);
      backfill_failed.erase(did);
      ++st.backfills;
      log("backfilled " + did + ": " + std::to_string(records.size()) + " records");
      co_await take(std::move(u));
    } catch (const Error& e) {
      // Live events of the repository still apply; the fill is retried later.
      ++st.backfill_failures;
      backfill_failed[did] = Clock::now();
      log("backfill of " + did + " failed: " + e.what());
    }
  }

  bool wants_backfill(const atproto::RepoEvent& ev) const {
    if (!cfg.backfill || ev.did.empty()) return false;
    if (ev.kind == atproto::RepoEvent::Kind::sync) return backfill_due(ev.did);
    if (ev.kind != atproto::RepoEvent::Kind::commit || ev.changes.empty()) return false;
    return !cat.known_repo(ev.did) && backfill_due(ev.did);
  }

  // ---- the catalogue writer ------------------------------------------------------

  asio::awaitable<void> apply_range(std::span<const atproto::RepoEvent> evs) {
    if (evs.empty()) co_return;
    CatalogueUpdate u = cat.apply(evs);
    ++st.transactions;
    if (!cfg.backfill) {
      for (const auto& did : u.needs_backfill) log(did + " was resynchronised by its host; backfill is off");
    }
    co_await take(std::move(u));
  }

  asio::awaitable<void> apply_batch(std::vector<atproto::RepoEvent>& batch) {
    st.events += batch.size();
    std::size_t start = 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& ev = batch[i];
      if (ev.kind == atproto::RepoEvent::Kind::rejected) {
        ++st.rejected;
        log("rejected event " + std::to_string(ev.cursor) + " of " + ev.did + " from " + ev.source + " (" +
            ev.error_check + "): " + ev.message);
      } else if (ev.kind == atproto::RepoEvent::Kind::info) {
        log(ev.source + ": " + ev.info_name + (ev.message.empty() ? "" : ": " + ev.message));
      }
      if (!wants_backfill(ev)) continue;
      // The repository's snapshot is read after the events before this one
      // were applied; this event and the later ones are applied over it in
      // order, so every record ends in its latest state.
      co_await apply_range(std::span(batch).subspan(start, i - start));
      start = i;
      co_await backfill(ev.did, ev.source);
    }
    co_await apply_range(std::span(batch).subspan(start));
  }

  asio::awaitable<void> backfill_named() {
    for (const auto& repo : cfg.repos) {
      if (cancelled) co_return;
      std::string did;
      try {
        did = co_await client.identity().resolve_did_of(repo);
      } catch (const Error& e) {
        log("cannot backfill " + repo + ": " + e.what());
        continue;
      }
      co_await backfill(did, {});
    }
  }

  asio::awaitable<void> backfill_listed() {
    if (!cfg.backfill || !cfg.backfill_listed_repos) co_return;
    static constexpr std::string_view kCollections[] = {nsid::kSampleSchema, nsid::kDatasetRecord,
                                                        nsid::kLens};
    for (const auto& host : cfg.hosts) {
      std::vector<std::string> dids;
      try {
        for (auto c : kCollections) {
          auto more =
              co_await list_repos_by_collection(client, net::websocket_to_http_url(host), std::string(c));
          dids.insert(dids.end(), more.begin(), more.end());
        }
      } catch (const Error& e) {
        log(host + " does not list repositories by collection (" + e.what() + ")");
        continue;
      }
      std::sort(dids.begin(), dids.end());
      dids.erase(std::unique(dids.begin(), dids.end()), dids.end());
      for (const auto& did : dids) {
        if (cancelled) co_return;
        if (!cat.known_repo(did)) co_await backfill(did, host);
      }
    }
  }

  asio::awaitable<void> writer() {
    std::vector<atproto::RepoEvent> batch;
    batch.reserve(cfg.batch_max);
    for (;;) {
      batch.clear();
      const std::size_t n = co_await queue->pop_batch(batch, cfg.batch_max, cfg.batch_linger);
      if (n == 0) break;
      co_await apply_batch(batch);
    }
  }

  void stop_sources() {
    for (auto& f : firehoses) f->cancel();
    for (auto& j : jetstreams) j->cancel();
  }

  asio::awaitable<void> run() {
    if (running) throw InvalidArgument("Discovery::run is already running");
    running = true;
    build_sources();
    co_await backfill_named();
    co_await backfill_listed();

    const std::size_t n_sources = firehoses.size() + jetstreams.size();
    auto remaining = std::make_shared<std::size_t>(n_sources);
    auto self = shared_from_this();
    auto done = [self, remaining](std::exception_ptr e) {
      if (e && !self->fatal) {
        self->fatal = e;
        self->stop_sources();
      }
      if (--*remaining == 0) self->queue->close();
    };
    for (auto& f : firehoses) asio::co_spawn(ex, f->run(), done);
    for (auto& j : jetstreams) asio::co_spawn(ex, j->run(), done);
    if (n_sources == 0 || cancelled) {
      stop_sources();
      if (n_sources == 0) queue->close();
    }

    co_await writer();
    ended = true;
    note_ready.notify();
    if (fatal) std::rethrow_exception(fatal);
  }

  void cancel() {
    cancelled = true;
    note_space.notify();
    if (!queue) return;
    stop_sources();
    if (firehoses.empty() && jetstreams.empty()) queue->close();
  }

  asio::awaitable<std::optional<Discovered>> next() {
    if (cfg.notification_capacity == 0) {
      throw InvalidArgument("Discovery::next needs DiscoveryConfig.notification_capacity > 0");
    }
    while (notes.empty() && !ended) co_await note_ready.wait();
    if (notes.empty()) co_return std::nullopt;
    Discovered d = std::move(notes.front());
    notes.pop_front();
    note_space.notify();
    co_return d;
  }
};

Discovery::Discovery(atproto::AtmosphereClient& client, Catalogue& catalogue, DiscoveryConfig config)
    : impl_(std::make_shared<Impl>(client, catalogue, std::move(config))) {}

Discovery::~Discovery() = default;

asio::awaitable<void> Discovery::run() {
  auto keep = impl_;
  co_await keep->run();
}

void Discovery::cancel() {
  impl_->cancel();
}

asio::awaitable<std::optional<Discovered>> Discovery::next() {
  auto keep = impl_;
  co_return co_await keep->next();
}

Catalogue& Discovery::catalogue() noexcept {
  return impl_->cat;
}
const DiscoveryConfig& Discovery::config() const noexcept {
  return impl_->cfg;
}
DiscoveryStats Discovery::stats() const noexcept {
  return impl_->st;
}

std::vector<std::pair<std::string, std::optional<std::int64_t>>> Discovery::cursors() const {
  std::vector<std::pair<std::string, std::optional<std::int64_t>>> out;
  for (const auto& f : impl_->firehoses) out.emplace_back(f->config().host, f->cursor());
  for (std::size_t i = 0; i < impl_->jetstreams.size(); ++i) {
    out.emplace_back(impl_->cfg.jetstreams[i], impl_->jetstreams[i]->cursor());
  }
  return out;
}

}  // namespace atdata::atmosphere
