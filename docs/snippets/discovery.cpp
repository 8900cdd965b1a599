// The C++ blocks of docs/discovery.md, compiled and run against the real PDS
// (CTest: snippet_discovery; tools/pds/with-env.sh exports ATDATA_*): a
// Discovery follows the PDS's firehose while the program publishes a dataset,
// then the catalogue is searched.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <iostream>
#include <string>

#include "atdata/atdata.hpp"
#include "snippet_support.hpp"

namespace asio = boost::asio;

// [snippet discovery-include]
#include <atdata/atmosphere/discovery.hpp>

namespace atmo = atdata::atmosphere;
// [end discovery-include]

namespace {

std::string published_uri;
bool seen = false;

bool is_the_one_we_published(const atmo::Discovered& d) {
  seen = seen || d.uri.str() == published_uri;
  return seen;
}

asio::awaitable<void> publish_one(atdata::atproto::AtmosphereClient& client) {
  // Give the subscription a moment to connect before writing.
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(300));
  co_await t.async_wait(asio::use_awaitable);
  // The URI is fixed before the write: the firehose event may be handled
  // before the write's own answer is.
  const std::string rkey =
      "mnist-train-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  published_uri = "at://" + client.did() + "/ac.foundation.dataset.record/" + rkey;
  atmo::AtmosphereIndex index(client);
  std::vector<std::string> urls{"https://data.example.com/mnist-{000000..000009}.tar"};
  auto entry = co_await index.insert_dataset_urls(
      urls, atmo::DatasetPublishOptions("mnist-train")
                .with_rkey(rkey)
                .with_schema_ref("at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k")
                .with_description("MNIST digits, training split")
                .with_tags("images", "mnist"));
  snippet::check(entry.uri().str() == published_uri, "published under the chosen record key");
}

asio::awaitable<void> follow(atdata::atproto::AtmosphereClient& client) {
  // [snippet discovery-watch]
  atmo::CatalogueOptions db;
  db.path = "catalogue.db";  // kept across runs: a restart resumes from its cursors
  atmo::Catalogue catalogue(db);

  atmo::DiscoveryConfig cfg;
  cfg.hosts.push_back(client.service_url());  // a PDS or a relay
  cfg.notification_capacity = 256;            // next() hands them out
  atmo::Discovery discovery(client, catalogue, cfg);
  asio::co_spawn(co_await asio::this_coro::executor, discovery.run(), asio::detached);

  while (auto d = co_await discovery.next()) {
    std::cout << to_string(d->change) << " " << to_string(d->kind) << " " << d->uri << " " << d->entry.name
              << "\n";
    if (is_the_one_we_published(*d)) discovery.cancel();  // next() drains, then ends
  }
  // [end discovery-watch]
  snippet::check(seen, "the published dataset was discovered");

  // [snippet discovery-search]
  atmo::CatalogueQuery q;
  q.text = "mnist digits";  // full text over names, descriptions and tags
  q.kind = atmo::RecordKind::dataset;
  for (const atmo::CatalogueEntry& e : catalogue.search(q)) {
    std::cout << e.uri << "  " << e.name << "  " << e.cid << "\n";
  }
  // [end discovery-search]
  snippet::check(!catalogue.search(q).empty(), "full-text search finds it");
  atmo::CatalogueQuery by_tag;
  by_tag.tag = "mnist";
  snippet::check(!catalogue.search(by_tag).empty(), "tag search finds it");
}

asio::awaitable<void> index_watch(atdata::atproto::AtmosphereClient& client) {
  // [snippet discovery-index-watch]
  atmo::Catalogue catalogue = atmo::Catalogue::in_memory();
  atmo::AtmosphereIndex index(client);
  std::unique_ptr<atmo::Discovery> watcher = index.watch(catalogue);  // this client's PDS
  // [end discovery-index-watch]
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(200));
  t.async_wait([&](const boost::system::error_code&) { watcher->cancel(); });
  co_await watcher->run();
}

asio::awaitable<void> raw_firehose(atdata::atproto::AtmosphereClient& client) {
  namespace atp = atdata::atproto;
  auto ex = co_await asio::this_coro::executor;
  std::size_t events = 0;
  // [snippet discovery-firehose]
  auto queue = std::make_shared<atp::RepoEventQueue>(ex, 1024);
  atp::FirehoseConfig fc;
  fc.host = client.service_url();
  fc.cursor = 0;  // replay what the host keeps, then follow live
  fc.collections.push_back("ac.foundation.dataset.*");
  atp::Firehose firehose(ex, fc, queue);  // verifies every commit it hands over
  asio::co_spawn(ex, firehose.run(), asio::detached);

  while (auto ev = co_await queue->pop()) {
    if (ev->kind == atp::RepoEvent::Kind::rejected) std::cerr << ev->did << ": " << ev->message << "\n";
    for (const atp::RecordChange& c : ev->changes) {
      std::cout << ev->cursor << " " << to_string(c.action) << " at://" << ev->did << "/" << c.collection
                << "/" << c.rkey << "\n";
    }
    // [end discovery-firehose]
    ++events;
    if (queue->size() == 0 && ev->cursor == firehose.cursor()) {  // caught up with the replay
      firehose.cancel();
      queue->close();
    }
    // [snippet discovery-firehose]
  }
  // [end discovery-firehose]
  snippet::check(events > 0, "the replay delivered events");
}

}  // namespace

int main() {
  return snippet::run("snippet_discovery", [] {
    snippet::ScratchDir dir;
    asio::io_context io;
    auto client = atdata::run_blocking(io, atmo::AtmosphereClient::from_env(io.get_executor()));
    asio::co_spawn(io, publish_one(*client), asio::detached);
    atdata::run_blocking(io, follow(*client));
    atdata::run_blocking(io, index_watch(*client));
    atdata::run_blocking(io, raw_firehose(*client));
  });
}
