#include "records.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/dataset_loader.hpp"
#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/lens_publisher.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/atmosphere/listed.hpp"
#include "atdata/atmosphere/record_io.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "atdata/atproto/syntax.hpp"
#include "common.hpp"

namespace atdata::cli {

namespace json = boost::json;
using atmosphere::AtUri;
using atmosphere::RecordKind;
using atproto::AtmosphereClient;

namespace {

constexpr const char* kSchemaUsage =
    "usage: atdata schema publish FILE|- [--name NAME] [--version VERSION] [--description TEXT] [--rkey "
    "KEY]\n"
    "                             [--no-validate]\n"
    "       atdata schema list [--repo HANDLE_OR_DID] [--json]\n"
    "       atdata schema show AT_URI [--json]";
constexpr const char* kDatasetUsage =
    "usage: atdata dataset publish SHARDS --name NAME --schema-uri AT_URI [options]  (see --help)\n"
    "       atdata dataset list [--repo HANDLE_OR_DID] [--json]\n"
    "       atdata dataset show AT_URI [--json]";
constexpr const char* kLensUsage =
    "usage: atdata lens publish --name NAME --source AT_URI --target AT_URI [--description TEXT]\n"
    "                           [--repository URL --commit SHA [--getter PATH] [--putter PATH]] [--rkey "
    "KEY]\n"
    "                           [--no-validate]\n"
    "       atdata lens list [--repo HANDLE_OR_DID] [--json]\n"
    "       atdata lens show AT_URI [--json]";

// Schema files are small (a PDS record is at most a few hundred KiB).
constexpr std::size_t kMaxSchemaFileBytes = 4 * 1024 * 1024;

// --repo must name an account; checked before any network call.
std::string repo_option(const ParsedArgs& p) {
  std::string repo = p.value_or("--repo", "");
  if (p.value("--repo") && !atproto::is_valid_did(repo) && !atproto::is_valid_handle(repo)) {
    throw UsageError("--repo needs a handle or a DID, got '" + repo.substr(0, 100) + "'");
  }
  return repo;
}

AtUri uri_argument(const ParsedArgs& p, RecordKind kind) {
  if (p.positional.size() != 1)
    throw UsageError("give exactly one AT_URI of a " + std::string(atmosphere::to_string(kind)));
  try {
    return AtUri::parse(p.positional[0]);
  } catch (const InvalidArgument& e) {
    throw UsageError(e.what());
  }
}

// ---- the only code that reads Listed<R> ------------------------------------
template <class R>
json::object listed_json(const atmosphere::Listed<R>& l) {
  json::object o;
  o["uri"] = l.uri().str();
  o["cid"] = l.cid();
  o["value"] = l.record().to_record();
  return o;
}

// Plain: one line per record, `uri` then `cells(record)`, tab-separated.
// --json: one {"uri", "cid", "value"} object per line.
template <class R, class Cells>
void print_listing(const std::vector<atmosphere::Listed<R>>& items, bool as_json, std::ostream& out,
                   Cells cells) {
  for (const auto& l : items) {
    if (as_json) {
      out << json::serialize(listed_json(l)) << "\n";
      continue;
    }
    out << l.uri();
    for (const std::string& c : cells(l.record())) out << "\t" << tsv_cell(c);
    out << "\n";
  }
}
// ---------------------------------------------------------------------------

// Lists the records of `repo` without login (public data), or with an empty
// `repo` those of the logged-in account.
template <class Loader, class Cells>
void list_records(const std::string& repo, bool as_json, std::ostream& out, std::ostream& err, Cells cells) {
  Connection c(err);
  AtmosphereClient& client = repo.empty() ? c.logged_in() : c.anonymous();
  Loader loader(client);
  auto items = c.run(loader.list_all(repo));
  print_listing(items, as_json, out, cells);
}

template <class Loader, class Cells>
int list_command(const std::vector<std::string>& args, const char* usage, std::ostream& out,
                 std::ostream& err, Cells cells) {
  return guarded(usage, err, [&] {
    auto p = parse_args(args, {"--repo"}, {"--json"});
    if (p.help) {
      out << usage << "\n";
      return kExitOk;
    }
    if (!p.positional.empty()) throw UsageError("list takes no arguments (use --repo for another account)");
    list_records<Loader>(repo_option(p), p.flag("--json"), out, err, cells);
    return kExitOk;
  });
}

// Prints a record exactly as stored (getRecord on its own PDS), after
// checking it is a `kind` record; needs no login.
int show_command(const std::vector<std::string>& args, RecordKind kind, const char* usage, std::ostream& out,
                 std::ostream& err) {
  return guarded(usage, err, [&] {
    auto p = parse_args(args, {}, {"--json"});
    if (p.help) {
      out << usage << "\n";
      return kExitOk;
    }
    const AtUri uri = uri_argument(p, kind);
    Connection c(err);
    AtmosphereClient& client = c.anonymous();
    atproto::Record rec = c.run(atmosphere::detail::get_checked(client, uri, kind));
    if (p.flag("--json")) {
      json::object o;
      o["uri"] = rec.uri.empty() ? uri.str() : rec.uri;
      o["cid"] = rec.cid;
      o["value"] = rec.value;
      out << json::serialize(o) << "\n";
    } else {
      out << pretty_json(rec.value) << "\n";
    }
    return kExitOk;
  });
}

std::string read_text_file(const std::string& path) {
  return read_input(path, kMaxSchemaFileBytes);
}

// The record `schema publish` writes: FILE holds a sampleSchema record (or a
// getRecord answer with it under "value", as `schema show --json` prints),
// or just the array of field definitions; options override its members.
atmosphere::SchemaRecord schema_from_file(const std::string& path, const ParsedArgs& p) {
  boost::system::error_code ec;
  json::value v = json::parse(read_text_file(path), ec);
  if (ec) throw InvalidArgument("'" + path + "' is not JSON: " + ec.message());
  json::object rec;
  if (v.is_array()) {
    rec["fields"] = std::move(v.as_array());
  } else if (v.is_object()) {
    json::object& o = v.as_object();
    if (!o.contains("fields") && o.contains("value") && o.at("value").is_object()) {
      rec = std::move(o.at("value").as_object());
    } else {
      rec = std::move(o);
    }
  } else {
    throw InvalidArgument("'" + path +
                          "' must hold a sampleSchema record (an object) or its fields (an array)");
  }
  if (!rec.contains("$type")) rec["$type"] = atmosphere::nsid::kSampleSchema;
  if (auto n = p.value("--name")) rec["name"] = *n;
  if (auto ver = p.value("--version")) rec["version"] = *ver;
  if (auto d = p.value("--description")) rec["description"] = *d;
  if (!rec.contains("version")) rec["version"] = "1.0.0";
  const json::value* name = rec.if_contains("name");
  if (!name || !name->is_string() || name->get_string().empty()) {
    throw UsageError("the schema needs a name: give --name or a \"name\" member in " + path);
  }
  // A new record is created now, whatever the file says.
  rec["createdAt"] = atmosphere::format_created_at(atmosphere::now_utc());
  return atmosphere::SchemaRecord::from_record(rec);
}

int schema_publish(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded(kSchemaUsage, err, [&] {
    auto p = parse_args(args, {"--name", "--version", "--description", "--rkey"}, {"--no-validate"});
    if (p.help) {
      out << kSchemaUsage << "\n";
      return kExitOk;
    }
    if (p.positional.size() != 1) throw UsageError("give exactly one FILE (JSON, or - for stdin)");
    atmosphere::SchemaRecord rec = schema_from_file(p.positional[0], p);
    (void)rec.to_record();  // throws for what the data model cannot hold (floats), before logging in
    const std::string rkey = p.value_or("--rkey", "");
    if (!rkey.empty() && !atproto::is_valid_rkey(rkey)) throw UsageError("--rkey is not a valid record key");
    Connection c(err);
    atmosphere::SchemaPublisher publisher(c.logged_in());
    const AtUri uri = c.run(publisher.publish_record(std::move(rec), rkey, !p.flag("--no-validate")));
    out << uri.str() << "\n";
    return kExitOk;
  });
}

int lens_publish(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded(kLensUsage, err, [&] {
    auto p = parse_args(args,
                        {"--name", "--source", "--target", "--description", "--repository", "--commit",
                         "--getter", "--putter", "--rkey"},
                        {"--no-validate"});
    if (p.help) {
      out << kLensUsage << "\n";
      return kExitOk;
    }
    if (!p.positional.empty()) throw UsageError("lens publish takes options only");
    atmosphere::LensCode code;
    code.name = p.required("--name");
    code.getter_path = p.value_or("--getter", "");
    code.putter_path = p.value_or("--putter", "");
    atmosphere::LensFromCodeOptions o;
    o.source_schema = p.required("--source");
    o.target_schema = p.required("--target");
    AtUri::parse(o.source_schema);  // typos fail before logging in
    AtUri::parse(o.target_schema);
    o.description = p.value_or("--description", "");
    o.repository = p.value_or("--repository", "");
    o.commit = p.value_or("--commit", "");
    o.rkey = p.value_or("--rkey", "");
    o.validate = !p.flag("--no-validate");
    // Code references need all three parts; a half-given one would be dropped silently.
    if (o.repository.empty() != o.commit.empty()) throw UsageError("--repository and --commit go together");
    if (o.repository.empty() && (!code.getter_path.empty() || !code.putter_path.empty()))
      throw UsageError("--getter and --putter need --repository and --commit");
    if (!o.rkey.empty() && !atproto::is_valid_rkey(o.rkey))
      throw UsageError("--rkey is not a valid record key");
    Connection c(err);
    atmosphere::LensPublisher publisher(c.logged_in());
    const AtUri uri = c.run(publisher.publish_from_lens(std::move(code), std::move(o)));
    out << uri.str() << "\n";
    return kExitOk;
  });
}

std::vector<std::string> schema_cells(const atmosphere::SchemaRecord& r) {
  std::vector<std::string> v;
  v.push_back(r.name);
  v.push_back(r.version);
  return v;
}

std::vector<std::string> dataset_cells(const atmosphere::DatasetRecord& r) {
  std::vector<std::string> v;
  v.push_back(r.name);
  v.push_back(r.schema_ref);
  switch (r.storage.kind) {
    case atmosphere::StorageLocation::Kind::external:
      v.push_back(r.storage.urls.empty() ? std::string("0 urls") : r.storage.urls.front());
      break;
    case atmosphere::StorageLocation::Kind::blobs:
      v.push_back(std::to_string(r.storage.blobs.size()) + " blobs");
      break;
    case atmosphere::StorageLocation::Kind::unknown:
      v.push_back(r.storage.type.empty() ? std::string("unknown storage") : r.storage.type);
      break;
  }
  return v;
}

std::vector<std::string> lens_cells(const atmosphere::LensRecord& r) {
  std::vector<std::string> v;
  v.push_back(r.name);
  v.push_back(r.source_schema);
  v.push_back(r.target_schema);
  return v;
}

// `atdata <group>` with no or an unknown subcommand.
int group_usage(const std::vector<std::string>& args, const char* usage, std::ostream& out,
                std::ostream& err) {
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    out << usage << "\n";
    return kExitOk;
  }
  print_error(err, args.empty() ? std::string("missing subcommand") : "unknown subcommand '" + args[0] + "'");
  err << usage << "\n";
  return kExitUsage;
}

std::vector<std::string> rest(const std::vector<std::string>& args) {
  return std::vector<std::string>(args.begin() + 1, args.end());
}

constexpr const char* kLsUsage = "usage: atdata ls [REPO] [--schemas] [--json]";

}  // namespace

int run_ls(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded(kLsUsage, err, [&] {
    auto p = parse_args(args, {}, {"--schemas", "--json"});
    if (p.help) {
      out << kLsUsage << "\n";
      return kExitOk;
    }
    if (p.positional.size() > 1) throw UsageError("give at most one REPO (a handle or DID)");
    const std::string repo = p.positional.empty() ? std::string() : p.positional[0];
    if (!repo.empty() && !atproto::is_valid_did(repo) && !atproto::is_valid_handle(repo))
      throw UsageError("REPO needs a handle or a DID, got '" + repo.substr(0, 100) + "'");
    if (p.flag("--schemas")) {
      list_records<atmosphere::SchemaLoader>(repo, p.flag("--json"), out, err, schema_cells);
    } else {
      list_records<atmosphere::DatasetLoader>(repo, p.flag("--json"), out, err, dataset_cells);
    }
    return kExitOk;
  });
}

int run_schema(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const std::string sub = args.empty() ? std::string() : args[0];
  if (sub == "publish") return schema_publish(rest(args), out, err);
  if (sub == "list")
    return list_command<atmosphere::SchemaLoader>(rest(args), kSchemaUsage, out, err, schema_cells);
  if (sub == "show") return show_command(rest(args), RecordKind::schema, kSchemaUsage, out, err);
  return group_usage(args, kSchemaUsage, out, err);
}

int run_dataset(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                ProgressMode mode) {
  const std::string sub = args.empty() ? std::string() : args[0];
  if (sub == "publish") return run_publish(rest(args), out, err, mode);
  if (sub == "list")
    return list_command<atmosphere::DatasetLoader>(rest(args), kDatasetUsage, out, err, dataset_cells);
  if (sub == "show") return show_command(rest(args), RecordKind::dataset, kDatasetUsage, out, err);
  return group_usage(args, kDatasetUsage, out, err);
}

int run_lens(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const std::string sub = args.empty() ? std::string() : args[0];
  if (sub == "publish") return lens_publish(rest(args), out, err);
  if (sub == "list")
    return list_command<atmosphere::LensLoader>(rest(args), kLensUsage, out, err, lens_cells);
  if (sub == "show") return show_command(rest(args), RecordKind::lens, kLensUsage, out, err);
  return group_usage(args, kLensUsage, out, err);
}

}  // namespace atdata::cli
