#include "watch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <cstdlib>
#include <iostream>

#include "args.hpp"
#include "atdata/atmosphere/catalogue.hpp"
#include "atdata/atmosphere/datetime.hpp"
#include "atdata/atmosphere/discovery.hpp"
#include "common.hpp"

namespace atdata::cli {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace atdata::atmosphere;

const char* kWatchUsage =
    "usage: atdata watch [--host URL]... [--jetstream URL]... [--cursor N] [--db FILE] [--json]\n"
    "  Follows event streams and prints one line per schema, dataset or lens record created,\n"
    "  updated or deleted, as it arrives (until interrupted).\n"
    "  --host URL        a PDS or relay firehose (repeatable; default: $ATDATA_PDS_URL)\n"
    "  --jetstream URL   a Jetstream endpoint, e.g. wss://host/subscribe (repeatable)\n"
    "  --jetstream-dict FILE  zstd dictionary for compressed Jetstream messages\n"
    "  --cursor N        start after N (0 replays a PDS's history) instead of the stored cursor\n"
    "  --db FILE         keep the catalogue in FILE and resume from its cursors (default: memory)\n"
    "  --repo DID        also fill this repository from what it holds (repeatable)\n"
    "  --no-verify       trust the hosts: skip commit signature checks\n"
    "  --no-backfill     only live changes; do not read repositories seen for the first time\n"
    "  --count N         exit after N records\n"
    "  --json            one JSON object per record (with the record itself)\n"
    "  -v, --verbose     connection and verification reports on stderr";
const char* kSearchUsage =
    "usage: atdata search [QUERY] --db FILE [--schema URI] [--tag T] [--did DID] [--kind K]\n"
    "                     [--name NAME] [--limit N] [--json]\n"
    "  Queries a catalogue kept by `atdata watch --db FILE`, newest first. QUERY is full-text\n"
    "  over names, descriptions and tags. --kind is schema, dataset or lens.";

std::string line_of(const Discovered& d) {
  std::string s =
      std::string(to_string(d.change)) + "\t" + std::string(to_string(d.kind)) + "\t" + d.uri.str();
  if (d.change != Discovered::Change::deleted) s += "\t" + tsv_cell(d.entry.name);
  return s;
}

json::object entry_json(const CatalogueEntry& e) {
  json::object o;
  o["uri"] = e.uri.str();
  o["kind"] = std::string(to_string(e.kind));
  o["did"] = e.did;
  o["cid"] = e.cid;
  o["name"] = e.name;
  if (!e.description.empty()) o["description"] = e.description;
  if (!e.tags.empty()) {
    json::array t;
    for (const auto& tag : e.tags) t.emplace_back(tag);
    o["tags"] = std::move(t);
  }
  if (!e.schema_ref.empty()) o["schemaRef"] = e.schema_ref;
  o["time"] = format_created_at(e.time);
  o["record"] = e.record;
  return o;
}

json::object discovered_json(const Discovered& d) {
  json::object o;
  o["change"] = std::string(to_string(d.change));
  if (d.change == Discovered::Change::deleted) {
    o["kind"] = std::string(to_string(d.kind));
    o["uri"] = d.uri.str();
    return o;
  }
  json::object e = entry_json(d.entry);
  for (auto& [k, v] : e) o[k] = std::move(v);
  return o;
}

std::optional<RecordKind> parse_kind(const std::string& k) {
  if (k == "schema") return RecordKind::schema;
  if (k == "dataset") return RecordKind::dataset;
  if (k == "lens") return RecordKind::lens;
  throw UsageError("--kind must be schema, dataset or lens, not '" + k + "'");
}

Catalogue open_catalogue(const std::optional<std::string>& db) {
  if (!db) return Catalogue::in_memory();
  CatalogueOptions o;
  o.path = *db;
  return Catalogue::open(o);
}

}  // namespace

int run_watch(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded(kWatchUsage, err, [&] {
    const auto a = parse_args(
        args, {"--host", "--jetstream", "--jetstream-dict", "--cursor", "--db", "--repo", "--count"},
        {"--json", "--no-verify", "--no-backfill", "-v", "--verbose"});
    if (a.help) {
      out << kWatchUsage << "\n";
      return kExitOk;
    }
    if (!a.positional.empty()) throw UsageError("unexpected argument '" + a.positional.front() + "'");
    DiscoveryConfig cfg;
    cfg.hosts = a.all("--host");
    cfg.jetstreams = a.all("--jetstream");
    if (cfg.hosts.empty() && cfg.jetstreams.empty()) {
      const char* pds = std::getenv("ATDATA_PDS_URL");
      if (!pds || !*pds)
        throw UsageError("no source: give --host URL or --jetstream URL (or set ATDATA_PDS_URL)");
      cfg.hosts.emplace_back(pds);
    }
    if (a.value("--cursor")) cfg.cursor = static_cast<std::int64_t>(a.integer("--cursor", 0, 0, INT64_MAX));
    if (auto dict = a.value("--jetstream-dict")) {
      cfg.jetstream.dictionary_file = *dict;
      cfg.jetstream.compress = true;
    }
    cfg.repos = a.all("--repo");
    cfg.verify = !a.flag("--no-verify");
    cfg.backfill = !a.flag("--no-backfill");
    cfg.notification_capacity = 1024;
    const bool verbose = a.flag("-v") || a.flag("--verbose");
    if (verbose) cfg.on_log = [&err](std::string_view line) { err << "atdata: " << line << std::endl; };
    const std::uint64_t count = a.integer("--count", 0);
    const bool as_json = a.flag("--json");

    Catalogue catalogue = open_catalogue(a.value("--db"));
    Connection c(err);
    Discovery discovery(c.anonymous(), catalogue, std::move(cfg));
    asio::signal_set signals(c.io(), SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (!ec) discovery.cancel();
    });

    auto printer = [&]() -> asio::awaitable<void> {
      std::uint64_t printed = 0;
      while (auto d = co_await discovery.next()) {
        if (as_json) {
          out << json::serialize(discovered_json(*d)) << std::endl;
        } else {
          out << line_of(*d) << std::endl;
        }
        if (count && ++printed >= count) {
          discovery.cancel();
          break;
        }
      }
      // Keep draining so the writer never waits on a reader that left.
      while (co_await discovery.next()) {
      }
    };
    std::exception_ptr printer_error;
    asio::co_spawn(c.io(), printer(), [&](std::exception_ptr e) { printer_error = e; });
    c.run(discovery.run());
    signals.cancel();
    c.io().restart();
    c.io().run();
    if (printer_error) std::rethrow_exception(printer_error);
    return kExitOk;
  });
}

int run_search(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded(kSearchUsage, err, [&] {
    const auto a =
        parse_args(args, {"--db", "--schema", "--tag", "--did", "--kind", "--name", "--limit"}, {"--json"});
    if (a.help) {
      out << kSearchUsage << "\n";
      return kExitOk;
    }
    if (a.positional.size() > 1) throw UsageError("give the query as one argument (quote it)");
    CatalogueQuery q;
    if (!a.positional.empty()) q.text = a.positional.front();
    if (auto v = a.value("--schema")) q.schema_uri = *v;
    if (auto v = a.value("--tag")) q.tag = *v;
    if (auto v = a.value("--did")) q.did = *v;
    if (auto v = a.value("--name")) q.name = *v;
    if (auto v = a.value("--kind")) q.kind = parse_kind(*v);
    q.limit = a.integer("--limit", 100, 1, 100'000);
    CatalogueOptions o;
    o.path = a.required("--db");
    o.read_only = true;
    Catalogue catalogue = Catalogue::open(o);
    for (const auto& e : catalogue.search(q)) {
      if (a.flag("--json")) {
        out << json::serialize(entry_json(e)) << "\n";
      } else {
        out << to_string(e.kind) << "\t" << e.uri.str() << "\t" << tsv_cell(e.name) << "\t"
            << tsv_cell(e.description) << "\n";
      }
    }
    return kExitOk;
  });
}

}  // namespace atdata::cli
