// Live discovery against the real PDS: its own subscribeRepos firehose, the
// publishers writing schemas, datasets and lenses, the catalogue following.

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "atdata/atmosphere/backfill.hpp"
#include "atdata/atmosphere/bulk.hpp"
#include "atdata/atmosphere/catalogue.hpp"
#include "atdata/atmosphere/discovery.hpp"
#include "atdata/atmosphere/index.hpp"
#include "atdata/atmosphere/lens_publisher.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "atdata/atproto/event_queue.hpp"
#include "atdata/atproto/firehose.hpp"
#include "atdata/error.hpp"
#include "atdata/net/url.hpp"
#include "pds/atmosphere_fixture.hpp"
#include "support/tcp_relay.hpp"

namespace atdata::atmosphere {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using test::Account;
using test::FeatureSample;
using test::PdsEnv;
using Clock = std::chrono::steady_clock;

// Runs the io_context until `pred` holds (true) or `timeout` passed (false).
template <class Pred>
bool run_until(asio::io_context& io, Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() >= deadline) return false;
    io.restart();
    io.run_for(2ms);
  }
  return true;
}

// A Discovery on the account's io_context, its run() spawned; stops it at
// destruction.
struct Watcher {
  asio::io_context& io;
  Catalogue catalogue;
  std::unique_ptr<Discovery> discovery;
  bool connected = false;
  bool finished = false;
  std::exception_ptr error;

  Watcher(Account& acct, DiscoveryConfig cfg, Catalogue cat = Catalogue::in_memory())
      : io(acct.io), catalogue(std::move(cat)) {
    cfg.firehose.on_status = [this](const atproto::FirehoseStatus& s) {
      if (s.kind == atproto::FirehoseStatus::Kind::connected) connected = true;
    };
    discovery = std::make_unique<Discovery>(acct.client, catalogue, std::move(cfg));
    asio::co_spawn(io, discovery->run(), [this](std::exception_ptr e) {
      error = e;
      finished = true;
    });
  }
  bool wait_connected() {
    return run_until(
               io, [&] { return connected || finished; }, 10s) &&
           connected;
  }
  ~Watcher() {
    discovery->cancel();
    run_until(
        io, [&] { return finished; }, 10s);
  }
};

// uri -> cid of every record of `collection` in the account's repository.
std::map<std::string, std::string> list_uris(Account& a, std::string_view collection) {
  std::map<std::string, std::string> out;
  std::string page_cursor;
  for (;;) {
    atproto::ListRecordsOptions lo;
    lo.repo = a.client.did();
    lo.limit = 100;
    lo.cursor = page_cursor;
    auto page = a.run(a.client.list_records(std::string(collection), lo));
    for (const auto& rec : page.records) out[rec.uri] = rec.cid;
    if (page.records.empty() || !page.cursor) break;
    page_cursor = *page.cursor;
  }
  return out;
}

// Dataset records "<stem>-<i>" whose storage URLs carry a per-run salt.
std::vector<DatasetRecord> numbered_records(const std::string& stem, const std::string& salt, std::size_t n) {
  std::vector<DatasetRecord> records(n);
  for (std::size_t i = 0; i < n; ++i) {
    records[i].name = stem + "-" + std::to_string(i);
    records[i].schema_ref = "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k";
    records[i].storage =
        StorageLocation::external({"https://example.com/" + salt + "/" + std::to_string(i) + ".tar"});
  }
  return records;
}

// When each record's event left the PDS, as a trusting firehose beside the
// watcher sees it. The official PDS polls its own event log with a backoff that
// grows to 1 s while it is idle, so the time from a write returning to its frame
// is the server's; the watcher answers for the time from the frame on.
struct FrameClock {
  std::shared_ptr<atproto::RepoEventQueue> queue;
  std::unique_ptr<atproto::Firehose> firehose;
  std::map<std::string, Clock::time_point> seen;  // at:// URI -> first event
  bool connected = false;
  int running = 2;

  explicit FrameClock(Account& acct) {
    auto ex = acct.io.get_executor();
    queue = std::make_shared<atproto::RepoEventQueue>(ex, 256);
    atproto::FirehoseConfig fc;
    fc.host = PdsEnv::get().pds_url;
    fc.verify = false;
    fc.on_status = [this](const atproto::FirehoseStatus& s) {
      if (s.kind == atproto::FirehoseStatus::Kind::connected) connected = true;
    };
    std::shared_ptr<atproto::IdentityResolver> identity(std::shared_ptr<void>(), &acct.client.identity());
    firehose = std::make_unique<atproto::Firehose>(ex, fc, queue, identity);
    asio::co_spawn(ex, firehose->run(), [this](std::exception_ptr) { --running; });
    asio::co_spawn(ex, drain(), [this](std::exception_ptr) { --running; });
  }
  asio::awaitable<void> drain() {
    while (auto ev = co_await queue->pop()) {
      const auto now = Clock::now();
      for (const auto& c : ev->changes) {
        seen.emplace("at://" + ev->did + "/" + c.collection + "/" + c.rkey, now);
      }
    }
  }
  std::optional<Clock::time_point> when(const AtUri& uri) const {
    auto it = seen.find(uri.str());
    if (it == seen.end()) return std::nullopt;
    return it->second;
  }
  void stop(asio::io_context& io) {
    firehose->cancel();
    queue->close();
    run_until(
        io, [&] { return running == 0; }, 10s);
  }
};

DiscoveryConfig live_config() {
  DiscoveryConfig cfg;
  cfg.hosts.push_back(PdsEnv::get().pds_url);
  cfg.notification_capacity = 0;
  return cfg;
}

TEST(DiscoveryPds, PublishedSchemaDatasetAndLensAppearWithinOneSecond) {
  Account alice("alice");
  auto cfg = live_config();
  cfg.repos.push_back(alice.client.did());  // filled before subscribing: the timings are the live path's
  Watcher w(alice, cfg);
  ASSERT_TRUE(w.wait_connected()) << "firehose did not connect";
  FrameClock frames(alice);
  ASSERT_TRUE(run_until(
      alice.io, [&] { return frames.connected; }, 10s));

  const auto wait_for = [&](const AtUri& uri) {
    const auto written = Clock::now();
    const bool ok = run_until(
        alice.io, [&] { return w.catalogue.get(uri).has_value(); }, 5s);
    const auto in_catalogue = Clock::now();
    EXPECT_TRUE(ok) << uri.str() << " not in the catalogue";
    // The observer may be a poll behind the watcher: give it a moment.
    run_until(
        alice.io, [&] { return frames.when(uri).has_value(); }, 2s);
    const auto sent = frames.when(uri).value_or(written);
    const auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d); };
    const auto ours = sent < in_catalogue ? ms(in_catalogue - sent) : 0ms;
    EXPECT_LT(ours, 1000ms) << uri.str() << ": " << ms(in_catalogue - written).count()
                            << " ms after the write, " << ms(sent - written).count() << " ms of it the PDS's";
    return w.catalogue.get(uri);
  };
  const auto same_as_get_record = [&](const AtUri& uri, const std::optional<CatalogueEntry>& e) {
    ASSERT_TRUE(e);
    auto rec = alice.run(alice.client.get_record(uri.authority, uri.collection, uri.rkey));
    EXPECT_EQ(e->cid, rec.cid);
    EXPECT_EQ(boost::json::value(e->record), rec.value) << uri.str();
  };

  SchemaPublisher sp(alice.client);
  AtUri schema = alice.run(sp.publish<FeatureSample>(SchemaPublishOptions().with_name("DiscoveredSample")));
  auto se = wait_for(schema);
  same_as_get_record(schema, se);
  EXPECT_EQ(se->kind, RecordKind::schema);
  EXPECT_EQ(se->name, "DiscoveredSample");

  AtmosphereIndex index(alice.client);
  std::vector<std::string> urls{"https://example.com/discovered-{000000..000003}.tar"};
  auto entry = alice.run(index.insert_dataset_urls(urls, DatasetPublishOptions("discovered-dataset")
                                                             .with_schema_ref(schema.str())
                                                             .with_description("found live on the firehose")
                                                             .with_tags("discovery", "live")));
  auto de = wait_for(entry.uri());
  same_as_get_record(entry.uri(), de);
  EXPECT_EQ(de->kind, RecordKind::dataset);
  EXPECT_EQ(de->schema_ref, schema.str());

  LensPublisher lp(alice.client);
  AtUri lens = alice.run(lp.publish(
      LensPublishOptions("discovered-lens", schema, schema)
          .with_getter_code(CodeReference("https://github.com/org/repo", "abc123def456", "lenses:get"))
          .with_putter_code(CodeReference("https://github.com/org/repo", "abc123def456", "lenses:put"))));
  auto le = wait_for(lens);
  same_as_get_record(lens, le);
  EXPECT_EQ(le->kind, RecordKind::lens);

  CatalogueQuery by_schema;
  by_schema.schema_uri = schema.str();
  auto hits = w.catalogue.search(by_schema);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].uri, entry.uri());
  CatalogueQuery text;
  text.text = "firehose";
  hits = w.catalogue.search(text);
  EXPECT_TRUE(std::any_of(hits.begin(), hits.end(), [&](const auto& h) { return h.uri == entry.uri(); }));
  EXPECT_EQ(w.discovery->stats().rejected, 0u);
  EXPECT_FALSE(w.error);
  frames.stop(alice.io);
}

// The firehose alone behind a relay that cuts the TCP connection several
// times while a bulk publish runs: every seq arrives exactly once, in order.
TEST(DiscoveryPds, ConnectionDropsDuringBulkPublishLoseAndRepeatNothing) {
  Account bob("bob");
  const auto pds = net::HttpUrl::parse(PdsEnv::get().pds_url);
  test::TcpRelay relay(bob.io.get_executor(), pds.host, pds.port);

  auto queue = std::make_shared<atproto::RepoEventQueue>(bob.io.get_executor(), 64);
  atproto::FirehoseConfig fc;
  fc.host = relay.url();
  fc.collections = {std::string(nsid::kDatasetRecord)};
  // From the start of the history: a subscription that starts live cannot
  // resume a drop that comes before its first event.
  fc.cursor = 0;
  fc.reconnect_initial = 20ms;
  fc.reconnect_max = 200ms;
  bool connected = false;
  fc.on_status = [&](const atproto::FirehoseStatus& s) {
    if (s.kind == atproto::FirehoseStatus::Kind::connected) connected = true;
  };
  std::shared_ptr<atproto::IdentityResolver> identity(std::shared_ptr<void>(), &bob.client.identity());
  atproto::Firehose firehose(bob.io.get_executor(), fc, queue, identity);
  bool fh_done = false;
  std::exception_ptr fh_error;
  asio::co_spawn(bob.io, firehose.run(), [&](std::exception_ptr e) {
    fh_error = e;
    fh_done = true;
  });
  ASSERT_TRUE(run_until(
      bob.io, [&] { return connected; }, 10s));

  std::vector<std::int64_t> seqs;
  std::set<std::string> rkeys;
  std::uint64_t rejected = 0;
  std::string rejections;
  asio::co_spawn(
      bob.io,
      [&]() -> asio::awaitable<void> {
        while (auto ev = co_await queue->pop()) {
          if (ev->cursor > 0) seqs.push_back(ev->cursor);
          if (ev->kind == atproto::RepoEvent::Kind::rejected) {
            ++rejected;
            rejections += ev->error_check + ": " + ev->message + "\n";
          }
          for (const auto& c : ev->changes) rkeys.insert(c.rkey);
        }
      },
      asio::detached);

  constexpr std::size_t kN = 500;
  const std::string salt = test::unique_collection("drops");
  const std::vector<DatasetRecord> records = numbered_records("drop", salt, kN);
  // A drop every 60 ms while the writes go on.
  bool writing = true;
  asio::co_spawn(
      bob.io,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(bob.io);
        while (writing) {
          t.expires_after(60ms);
          co_await t.async_wait(asio::use_awaitable);
          relay.drop_all();
        }
      },
      asio::detached);
  BulkPublisher bulk(bob.client);
  BulkOptions opts;
  opts.max_in_flight = 4;
  BulkResult r = bob.run(bulk.publish_datasets(records, opts));
  writing = false;
  ASSERT_EQ(r.uris.size(), kN);
  EXPECT_GE(relay.dropped(), 3u) << "the relay should have cut the stream several times";

  std::set<std::string> want;
  for (const auto& u : r.uris) want.insert(u.rkey);
  ASSERT_TRUE(run_until(
      bob.io, [&] { return std::includes(rkeys.begin(), rkeys.end(), want.begin(), want.end()); }, 20s))
      << rkeys.size() << " of " << kN << " records seen; seqs " << (seqs.empty() ? 0 : seqs.front()) << ".."
      << (seqs.empty() ? 0 : seqs.back()) << " (" << seqs.size() << "), cursor "
      << firehose.cursor().value_or(-1) << ", connections " << firehose.stats().connections << ", rejected:\n"
      << rejections;
  ASSERT_FALSE(seqs.empty());
  for (std::size_t i = 1; i < seqs.size(); ++i) {
    ASSERT_EQ(seqs[i], seqs[i - 1] + 1) << "at " << i << ": gap or duplicate";
  }
  EXPECT_EQ(rejected, 0u) << rejections;
  firehose.cancel();
  ASSERT_TRUE(run_until(
      bob.io, [&] { return fh_done; }, 5s));
  queue->close();
  EXPECT_FALSE(fh_error);
}

TEST(DiscoveryPds, CursorZeroReplaysTheHistoryAndAFutureCursorIsAnError) {
  // dave is written by this test alone, so the replayed catalogue must equal
  // his repository exactly: creates, an update and a delete, then a marker.
  Account dave("dave");
  SchemaPublisher sp(dave.client);
  AtUri schema = dave.run(sp.publish<FeatureSample>(SchemaPublishOptions().with_name("ReplaySample")));
  AtmosphereIndex index(dave.client);
  std::vector<std::string> urls{"https://example.com/replay.tar"};
  const auto publish = [&](const char* name) {
    return dave.run(
        index.insert_dataset_urls(urls, DatasetPublishOptions(name).with_schema_ref(schema.str())));
  };
  auto kept = publish("replay-kept");
  auto renamed = publish("replay-before-rename");
  auto deleted = publish("replay-deleted");
  DatasetRecord update = renamed.record();
  update.name = "replay-renamed";
  dave.run(dave.client.put_record(std::string(nsid::kDatasetRecord), renamed.uri().rkey, update.to_record()));
  dave.run(dave.client.delete_record(std::string(nsid::kDatasetRecord), deleted.uri().rkey));
  LensPublisher lp(dave.client);
  AtUri lens = dave.run(lp.publish(
      LensPublishOptions("replay-lens", schema, schema)
          .with_getter_code(CodeReference("https://github.com/org/repo", "abc123def456", "lenses:get"))
          .with_putter_code(CodeReference("https://github.com/org/repo", "abc123def456", "lenses:put"))));
  auto marker = publish("replay-marker");

  auto cfg = live_config();
  cfg.cursor = 0;
  cfg.backfill = false;
  {
    Watcher w(dave, cfg);
    ASSERT_TRUE(run_until(
        dave.io, [&] { return w.catalogue.get(marker.uri()).has_value(); }, 60s));
    CatalogueQuery q;
    q.did = dave.client.did();
    std::map<std::string, std::string> got;
    for (const auto& e : w.catalogue.search(q)) got[e.uri.str()] = e.cid;
    std::map<std::string, std::string> want;
    for (auto coll : {nsid::kSampleSchema, nsid::kDatasetRecord, nsid::kLens}) {
      for (const auto& [uri, cid] : list_uris(dave, coll)) want[uri] = cid;
    }
    EXPECT_EQ(want.size(), 5u);
    EXPECT_EQ(got, want);
    ASSERT_TRUE(w.catalogue.get(renamed.uri()));
    EXPECT_EQ(w.catalogue.get(renamed.uri())->name, "replay-renamed");
    EXPECT_FALSE(w.catalogue.get(deleted.uri()));
    EXPECT_TRUE(w.catalogue.get(lens));
    EXPECT_TRUE(w.catalogue.get(kept.uri()));
  }
  cfg.cursor = 1'000'000'000'000;
  Watcher future(dave, cfg);
  ASSERT_TRUE(run_until(
      dave.io, [&] { return future.finished; }, 10s));
  ASSERT_TRUE(future.error);
  try {
    std::rethrow_exception(future.error);
  } catch (const StreamError& e) {
    EXPECT_EQ(e.error_name(), "FutureCursor");
    EXPECT_NE(std::string(e.what()).find("FutureCursor"), std::string::npos) << e.what();
  }
}

// Both backfill methods read the same records from a repository: listRecords
// trusting the PDS, getRepo verified block by block and by signature.
TEST(DiscoveryPds, GetRepoAndListRecordsBackfillTheSameRecords) {
  Account erin("erin");  // written by this test alone
  SchemaPublisher sp(erin.client);
  AtUri schema = erin.run(sp.publish<FeatureSample>(SchemaPublishOptions().with_name("BackfillSample")));
  AtmosphereIndex index(erin.client);
  std::vector<std::string> urls{"https://example.com/backfill.tar"};
  for (const char* name : {"backfill-a", "backfill-b", "backfill-c"}) {
    erin.run(index.insert_dataset_urls(urls, DatasetPublishOptions(name).with_schema_ref(schema.str())));
  }
  LensPublisher lp(erin.client);
  AtUri lens = erin.run(lp.publish(
      LensPublishOptions("backfill-lens", schema, schema)
          .with_getter_code(CodeReference("https://github.com/org/repo", "abc123def456", "lenses:get"))
          .with_putter_code(CodeReference("https://github.com/org/repo", "abc123def456", "lenses:put"))));
  // Not a dataset collection: neither method may return it.
  boost::json::object note{{"$type", "app.example.note"}, {"text", "not a dataset"}};
  atproto::CreateRecordOptions no_validate;
  no_validate.validate = false;
  erin.run(erin.client.create_record("app.example.note", note, no_validate));

  const auto as_map = [](const std::vector<atproto::RecordChange>& v) {
    std::map<std::string, std::pair<std::string, boost::json::object>> m;
    for (const auto& c : v) m[c.collection + "/" + c.rkey] = {c.cid, c.record};
    return m;
  };
  auto listed = erin.run(fetch_repo_records(erin.client, erin.client.did(), BackfillMethod::list_records));
  auto exported = erin.run(fetch_repo_records(erin.client, erin.client.did(), BackfillMethod::get_repo));
  const auto a = as_map(listed), b = as_map(exported);
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(a, b);
  for (const auto& [path, v] : a) EXPECT_TRUE(is_dataset_collection(path.substr(0, path.find('/')))) << path;
  ASSERT_TRUE(a.count(std::string(nsid::kLens) + "/" + lens.rkey));
  auto rec = erin.run(erin.client.get_record(lens.authority, lens.collection, lens.rkey));
  EXPECT_EQ(a.at(std::string(nsid::kLens) + "/" + lens.rkey).first, rec.cid);
  EXPECT_EQ(boost::json::value(a.at(std::string(nsid::kLens) + "/" + lens.rkey).second), rec.value);

  // Discovery filling a named repository with getRepo: the same catalogue.
  auto cfg = live_config();
  cfg.repos.push_back(erin.client.did());
  cfg.backfill_method = BackfillMethod::get_repo;
  Watcher w(erin, cfg);
  CatalogueQuery q;
  q.did = erin.client.did();
  ASSERT_TRUE(run_until(
      erin.io, [&] { return w.catalogue.search(q).size() >= a.size(); }, 10s));
  std::map<std::string, std::string> got;
  for (const auto& e : w.catalogue.search(q)) got[e.uri.collection + "/" + e.uri.rkey] = e.cid;
  std::map<std::string, std::string> want;
  for (const auto& [path, v] : a) want[path] = v.first;
  EXPECT_EQ(got, want);
}

// `atdata watch --db` killed with SIGKILL during a bulk publish and started
// again: the catalogue ends equal to the repository.
pid_t spawn_watch(const std::string& db, const std::string& log) {
  std::vector<std::string> args{
      ATDATA_CLI_BINARY, "watch", "--host", PdsEnv::get().pds_url, "--db", db, "-v"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::string plc = "ATDATA_PLC_URL=" + PdsEnv::get().plc_url;
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e) envp.push_back(*e);
  envp.push_back(plc.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + std::string(argv[0]));
  return pid;
}

std::map<std::string, std::string> catalogue_of(const std::string& db, const std::string& did) {
  CatalogueOptions o;
  o.path = db;
  o.read_only = true;
  Catalogue c = Catalogue::open(o);
  CatalogueQuery q;
  q.did = did;
  q.kind = RecordKind::dataset;
  q.limit = 1'000'000;
  std::map<std::string, std::string> out;
  for (const auto& e : c.search(q)) out[e.uri.str()] = e.cid;
  return out;
}

TEST(DiscoveryPds, WatcherKilledDuringBulkPublishResumesWithNothingLostOrDoubled) {
  Account bob("bob");
  test::TempDir dir;
  const std::string db = (dir.path / "catalogue.db").string();
  const std::string log = (dir.path / "watch.log").string();
  const auto wait_connected = [&](std::size_t times) {
    for (int i = 0; i < 200; ++i) {
      std::ifstream f(log);
      const std::string text((std::istreambuf_iterator<char>(f)), {});
      std::size_t n = 0;
      for (auto at = text.find("connected to"); at != std::string::npos;
           at = text.find("connected to", at + 1))
        ++n;
      if (n >= times) return true;
      std::this_thread::sleep_for(25ms);
    }
    return false;
  };
  pid_t pid = spawn_watch(db, log);
  ASSERT_TRUE(wait_connected(1));

  constexpr std::size_t kN = 300;
  const std::string salt = test::unique_collection("sigkill");
  const std::vector<DatasetRecord> records = numbered_records("killed", salt, kN);
  BulkPublisher bulk(bob.client);
  BulkOptions opts;
  opts.max_in_flight = 2;
  opts.max_ops_per_batch = 10;  // many commits, so the kill lands mid-stream
  bool killed = false;
  opts.on_progress = [&](const BulkProgress& p) {
    if (!killed && p.written >= kN / 3) {
      // Only once the watcher has committed something (a slow first
      // backfill, e.g. under sanitizers, must not turn this into a cold start).
      for (int i = 0; i < 600; ++i) {
        try {
          CatalogueOptions o;
          o.path = db;
          o.read_only = true;
          if (Catalogue(o).cursor(PdsEnv::get().pds_url)) break;
        } catch (const Error&) {
        }
        std::this_thread::sleep_for(50ms);
      }
      ::kill(pid, SIGKILL);
      killed = true;
    }
  };
  BulkResult r = bob.run(bulk.publish_datasets(records, opts));
  ASSERT_TRUE(killed);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  pid = spawn_watch(db, log);

  // Other suites may write as bob meanwhile (ctest -j): everything the
  // repository held after the bulk publish must be there with its CID, and
  // every record this test wrote.
  const std::map<std::string, std::string> want = list_uris(bob, nsid::kDatasetRecord);
  for (const auto& u : r.uris) ASSERT_TRUE(want.count(u.str())) << u.str();
  const auto covers = [&](const std::map<std::string, std::string>& got) {
    return std::includes(got.begin(), got.end(), want.begin(), want.end());
  };
  std::map<std::string, std::string> got;
  const auto deadline = Clock::now() + 60s;
  while (Clock::now() < deadline) {
    try {
      got = catalogue_of(db, bob.client.did());
    } catch (const Error&) {
      // Not created yet.
    }
    if (covers(got)) break;
    std::this_thread::sleep_for(50ms);
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);
  std::ifstream lf(log);
  const std::string log_text((std::istreambuf_iterator<char>(lf)), {});
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "watch log:\n" << log_text;
  EXPECT_TRUE(covers(got)) << got.size() << " entries for " << want.size() << " records; watch log:\n"
                           << log_text.substr(0, 3000);
}

// Two PDSes into one catalogue; an update replaces an entry, a delete removes it.
TEST(DiscoveryPds, TwoHostsOneCatalogueUpdatesAndDeletes) {
  Account alice("alice");
  const auto& env2 = PdsEnv::second();
  atproto::AtmosphereClient carol(alice.io.get_executor(), env2.client_options());
  const auto& acct = env2.accounts.at("carol");
  alice.run(carol.login(acct.handle, acct.password));

  auto cfg = live_config();
  cfg.hosts.push_back(env2.pds_url);
  int connected = 0;
  Catalogue cat = Catalogue::in_memory();
  cfg.firehose.on_status = [&](const atproto::FirehoseStatus& s) {
    if (s.kind == atproto::FirehoseStatus::Kind::connected) ++connected;
  };
  Discovery d(alice.client, cat, cfg);
  bool finished = false;
  asio::co_spawn(alice.io, d.run(), [&](std::exception_ptr) { finished = true; });
  ASSERT_TRUE(run_until(
      alice.io, [&] { return connected >= 2; }, 10s));

  const std::string schema_ref = "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k";
  AtmosphereIndex ia(alice.client), ic(carol);
  std::vector<std::string> urls{"https://example.com/two-hosts.tar"};
  auto ea = alice.run(
      ia.insert_dataset_urls(urls, DatasetPublishOptions("on-first-pds").with_schema_ref(schema_ref)));
  auto ec = alice.run(
      ic.insert_dataset_urls(urls, DatasetPublishOptions("on-second-pds").with_schema_ref(schema_ref)));
  ASSERT_TRUE(run_until(
      alice.io, [&] { return cat.get(ea.uri()) && cat.get(ec.uri()); }, 5s));
  EXPECT_EQ(cat.get(ec.uri())->name, "on-second-pds");
  EXPECT_EQ(cat.get(ec.uri())->did, carol.did());

  // Update: the same rkey with a new record.
  DatasetRecord updated = ec.record();
  updated.name = "renamed-on-second-pds";
  auto ref =
      alice.run(carol.put_record(std::string(nsid::kDatasetRecord), ec.uri().rkey, updated.to_record()));
  ASSERT_TRUE(run_until(
      alice.io,
      [&] {
        auto e = cat.get(ec.uri());
        return e && e->cid == ref.cid;
      },
      5s));
  EXPECT_EQ(cat.get(ec.uri())->name, "renamed-on-second-pds");
  CatalogueQuery q;
  q.name = "on-second-pds";
  EXPECT_TRUE(cat.search(q).empty()) << "the old version must be gone";

  alice.run(alice.client.delete_record(std::string(nsid::kDatasetRecord), ea.uri().rkey));
  ASSERT_TRUE(run_until(
      alice.io, [&] { return !cat.get(ea.uri()); }, 5s));
  EXPECT_TRUE(cat.get(ec.uri()));
  d.cancel();
  ASSERT_TRUE(run_until(
      alice.io, [&] { return finished; }, 10s));
  const auto cursors = d.cursors();
  ASSERT_EQ(cursors.size(), 2u);
  for (const auto& [host, c] : cursors) EXPECT_EQ(cat.cursor(host), c) << host;
}

}  // namespace
}  // namespace atdata::atmosphere
