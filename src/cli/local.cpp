#include "local.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <iostream>

#include "atdata/atmosphere/index.hpp"
#include "atdata/atmosphere/local_index.hpp"
#include "atdata/atmosphere/promote.hpp"
#include "atdata/atmosphere/schema_mapping.hpp"
#include "atdata/io/blocking.hpp"
#include "atdata/io/shard_urls.hpp"
#include "common.hpp"

namespace atdata::cli {

namespace asio = boost::asio;
namespace json = boost::json;
using atmosphere::LocalDatasetEntry;
using atmosphere::LocalIndex;
using atmosphere::LocalIndexConfig;

namespace {

constexpr const char* kLocalUsage =
    "usage: atdata local ls [--json]\n"
    "       atdata local show NAME_OR_CID [--json]\n"
    "       atdata local insert URL... --name NAME (--schema-ref REF | --schema FILE [--kind MODULE.CLASS])\n"
    "                          [--version V] [--metadata JSON]\n"
    "       atdata local schemas [--json]\n"
    "  every form takes --redis URL or --db FILE (default: $ATDATA_REDIS_URL, else the SQLite file\n"
    "  $ATDATA_LOCAL_INDEX or ~/.local/share/atdata/local-index.sqlite)";
constexpr const char* kPromoteUsage =
    "usage: atdata promote NAME_OR_CID [--blobs] [--name NAME] [--description TEXT] [--tag T]...\n"
    "                      [--license SPDX] [--redis URL | --db FILE]";

constexpr std::size_t kMaxSchemaFileBytes = 4 * 1024 * 1024;

// The index the options (else the environment) name; entries a listing
// skips or corrects become warnings on `err`.
LocalIndexConfig index_config(const ParsedArgs& p, std::ostream& err) {
  LocalIndexConfig c = LocalIndexConfig::from_environment();
  if (p.value("--redis") && p.value("--db")) throw UsageError("give --redis or --db, not both");
  if (auto r = p.value("--redis")) {
    c.redis_url = *r;
  } else if (auto d = p.value("--db")) {
    c.redis_url.clear();
    c.path = *d;
  }
  c.on_problem = [&err](const std::string& key, const std::string& problem) {
    print_warning(err, key + ": " + problem);
  };
  return c;
}

json::object entry_json(const atmosphere::IndexEntry& e) {
  json::object o;
  o["cid"] = e.ref();
  o["name"] = e.name();
  o["schema_ref"] = e.schema_ref();
  json::array urls;
  for (const auto& u : e.data_urls()) urls.emplace_back(u);
  o["data_urls"] = std::move(urls);
  if (e.metadata()) o["metadata"] = *e.metadata();
  return o;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

int local_ls(const ParsedArgs& p, std::ostream& out, std::ostream& err) {
  asio::io_context io;
  LocalIndex index(io.get_executor(), index_config(p, err));
  auto entries = run_blocking(io, index.entries());
  for (const auto& e : entries) {
    if (p.flag("--json")) {
      out << json::serialize(entry_json(e)) << "\n";
    } else {
      out << e.cid() << "\t" << tsv_cell(e.name()) << "\t" << tsv_cell(e.schema_ref()) << "\t"
          << tsv_cell(joined(e.data_urls())) << "\n";
    }
  }
  return kExitOk;
}

int local_show(const ParsedArgs& p, std::ostream& out, std::ostream& err) {
  if (p.positional.size() != 2) throw UsageError("give exactly one NAME_OR_CID");
  asio::io_context io;
  LocalIndex index(io.get_executor(), index_config(p, err));
  atmosphere::Index& i = index;
  atmosphere::IndexEntry e = run_blocking(io, i.get_dataset(p.positional[1]));
  out << (p.flag("--json") ? json::serialize(entry_json(e)) : pretty_json(entry_json(e))) << "\n";
  return kExitOk;
}

int local_schemas(const ParsedArgs& p, std::ostream& out, std::ostream& err) {
  asio::io_context io;
  LocalIndex index(io.get_executor(), index_config(p, err));
  atmosphere::Index& i = index;
  auto schemas = run_blocking(io, i.list_schemas());
  for (const auto& s : schemas) {
    if (p.flag("--json")) {
      json::object o;
      o["ref"] = s.ref();
      o["value"] = json::parse(atmosphere::local_schema_json(s.record()));
      out << json::serialize(o) << "\n";
    } else {
      out << s.ref() << "\t" << tsv_cell(s.record().name) << "\t" << tsv_cell(s.record().version) << "\t"
          << s.record().fields.size() << " fields\n";
    }
  }
  return kExitOk;
}

int local_insert(const ParsedArgs& p, std::ostream& out, std::ostream& err) {
  std::vector<std::string> urls(p.positional.begin() + 1, p.positional.end());
  if (urls.empty()) throw UsageError("give at least one shard URL");
  const std::string name = p.required("--name");
  const bool has_ref = p.value("--schema-ref").has_value();
  const bool has_file = p.value("--schema").has_value();
  if (has_ref == has_file) throw UsageError("give --schema-ref REF or --schema FILE");
  std::optional<json::object> metadata;
  if (auto m = p.value("--metadata")) {
    boost::system::error_code ec;
    json::value v = json::parse(*m, ec);
    if (ec || !v.is_object()) throw UsageError("--metadata must be a JSON object");
    metadata = std::move(v.as_object());
  }
  asio::io_context io;
  LocalIndex index(io.get_executor(), index_config(p, err));
  std::string ref;
  if (has_ref) {
    ref = *p.value("--schema-ref");
  } else {
    // A local schema JSON (Python's form) or a sampleSchema record.
    const std::string text = read_input(*p.value("--schema"), kMaxSchemaFileBytes);
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) throw InvalidArgument("'" + *p.value("--schema") + "' is not a JSON object");
    if (!v.as_object().contains("createdAt")) {
      v.as_object()["createdAt"] = atmosphere::format_created_at(atmosphere::now_utc());
    }
    atmosphere::SchemaRecord rec = atmosphere::parse_local_schema_json(json::serialize(v));
    atmosphere::SchemaPublishOptions so;
    so.name = p.value_or("--kind", rec.name);
    so.version = p.value_or("--version", rec.version);
    so.description = rec.description;
    atmosphere::Index& i = index;
    ref = run_blocking(io, i.publish_schema(atmosphere::to_sample_schema(rec), std::move(so)));
  }
  LocalDatasetEntry e(name, ref, std::move(urls), std::move(metadata));
  LocalDatasetEntry stored = run_blocking(io, index.add_entry(std::move(e)));
  out << stored.cid() << "\n";
  return kExitOk;
}

}  // namespace

int run_local(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded(kLocalUsage, err, [&] {
    auto p = parse_args(
        args, {"--redis", "--db", "--name", "--schema-ref", "--schema", "--kind", "--version", "--metadata"},
        {"--json"});
    if (p.help || p.positional.empty()) {
      if (!p.help) throw UsageError("give a subcommand: ls, show, insert or schemas");
      out << kLocalUsage << "\n";
      return kExitOk;
    }
    const std::string& sub = p.positional[0];
    if (sub == "ls") return local_ls(p, out, err);
    if (sub == "show") return local_show(p, out, err);
    if (sub == "insert") return local_insert(p, out, err);
    if (sub == "schemas") return local_schemas(p, out, err);
    throw UsageError("unknown subcommand '" + sub + "'");
  });
}

int run_promote(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded(kPromoteUsage, err, [&] {
    auto p =
        parse_args(args, {"--redis", "--db", "--name", "--description", "--tag", "--license"}, {"--blobs"});
    if (p.help) {
      out << kPromoteUsage << "\n";
      return kExitOk;
    }
    if (p.positional.size() != 1) throw UsageError("give exactly one NAME_OR_CID of a local entry");
    Connection c(err);
    LocalIndex local(c.io().get_executor(), index_config(p, err));
    LocalDatasetEntry entry = c.run(local.find(p.positional[0]));
    atmosphere::AtmosphereIndex atm(c.logged_in());
    atmosphere::PromoteOptions o;
    o.name = p.value_or("--name", "");
    o.description = p.value_or("--description", "");
    o.tags = p.all("--tag");
    o.license = p.value_or("--license", "");
    o.blobs = p.flag("--blobs");
    atmosphere::PromoteResult r = c.run(atmosphere::promote(std::move(entry), local, atm, std::move(o)));
    if (r.dataset_reused) {
      print_warning(err, "already promoted: " + r.dataset.str() + " (nothing written)");
    } else if (r.schema_reused) {
      print_warning(err, "reused the schema " + r.schema.str());
    }
    out << r.dataset.str() << "\n";
    return kExitOk;
  });
}

AtDataset resolve_local_dataset(const std::string& ref, bool want_schema) {
  asio::io_context io;
  LocalIndex index(io.get_executor(), LocalIndexConfig::from_environment());
  atmosphere::Index& i = index;
  const std::string key = ref.substr(ref.find(':') + 1);
  atmosphere::IndexEntry e = run_blocking(io, i.get_dataset(key));
  AtDataset out;
  for (const auto& pattern : e.data_urls()) {
    for (auto& u : expand_urls(pattern)) out.shards.push_back(std::move(u));
  }
  if (want_schema && e.schema_ref().rfind("local://", 0) == 0) {
    out.schema = run_blocking(io, i.decode_schema(e.schema_ref()));
  }
  return out;
}

}  // namespace atdata::cli
