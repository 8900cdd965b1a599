#include "publish.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "args.hpp"
#include "atdata/atmosphere/bulk.hpp"
#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/index.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/error.hpp"
#include "atdata/io/blocking.hpp"
#include "atdata/io/shard_urls.hpp"
#include "progress.hpp"

namespace atdata::cli {

namespace asio = boost::asio;
namespace json = boost::json;
using atproto::AtmosphereClient;

namespace {

constexpr const char* kPublishUsage =
    "usage: atdata publish SHARDS --name NAME --schema-uri AT_URI [--blobs] [--description TEXT]\n"
    "                      [--tag TAG]... [--license SPDX] [--metadata-url URL] [--rkey KEY]\n"
    "                      [--in-flight N] [--no-progress]";
constexpr const char* kRecordsUsage =
    "usage: atdata publish-records COLLECTION FILE|- [--job-key KEY] [--in-flight N]\n"
    "                              [--max-ops N] [--no-progress]";
constexpr const char* kLsUsage = "usage: atdata ls [REPO] [--schemas]";

// Runs a command body with the error policy every command shares: usage
// errors exit 2 with the usage text, library errors exit 1 with one line.
template <class F>
int guarded(const char* command, const char* usage, std::ostream& err, F&& body) {
  try {
    return body();
  } catch (const UsageError& e) {
    err << "atdata " << command << ": " << e.what() << "\n" << usage << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "atdata " << command << ": " << e.what() << "\n";
    return 1;
  }
}

std::unique_ptr<AtmosphereClient> login(asio::io_context& io) {
  return run_blocking(io, AtmosphereClient::from_env(io.get_executor()));
}

// JSON lines, one record object per non-blank line; errors name the line.
std::vector<json::object> read_records(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) throw InvalidArgument("cannot read '" + path + "'");
    in = &file;
  }
  std::vector<json::object> records;
  std::string line;
  for (std::size_t n = 1; std::getline(*in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec) throw InvalidArgument(path + ":" + std::to_string(n) + ": not JSON: " + ec.message());
    if (!v.is_object())
      throw InvalidArgument(path + ":" + std::to_string(n) + ": a record must be a JSON object");
    records.push_back(std::move(v.as_object()));
  }
  return records;
}

bool draws(ProgressMode mode) {
  return mode != ProgressMode::off;
}

}  // namespace

int run_publish(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                ProgressMode mode) {
  return guarded("publish", kPublishUsage, err, [&] {
    auto p = parse_args(args,
                        {"--name", "--schema-uri", "--description", "--tag", "--license", "--metadata-url",
                         "--rkey", "--in-flight"},
                        {"--blobs", "--no-progress"});
    if (p.help) {
      out << kPublishUsage << "\n";
      return 0;
    }
    if (p.positional.size() != 1) throw UsageError("give exactly one SHARDS argument (a URL or pattern)");
    const std::string shards = p.positional[0];
    atmosphere::DatasetPublishOptions rec;
    rec.name = p.required("--name");
    const std::string schema_uri = p.required("--schema-uri");
    atmosphere::AtUri::parse(schema_uri);  // fail on a typo before logging in
    rec.description = p.value_or("--description", "");
    rec.tags = p.all("--tag");
    rec.license = p.value_or("--license", "");
    rec.metadata_url = p.value_or("--metadata-url", "");
    rec.rkey = p.value_or("--rkey", "");
    const auto in_flight = p.integer("--in-flight", 4, 1, 64);
    if (p.flag("--no-progress")) mode = ProgressMode::off;

    // Blob storage uploads local shard files: the pattern names them. They
    // are checked before logging in, so a typo costs no network round trip.
    std::vector<std::string> paths;
    if (p.flag("--blobs")) {
      paths = expand_urls(shards);
      for (auto& path : paths) {
        if (path.rfind("file://", 0) == 0) path.erase(0, 7);
        if (path.find("://") != std::string::npos)
          throw InvalidArgument("--blobs uploads local files; '" + path + "' is a URL");
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec))
          throw InvalidArgument("shard file '" + path + "' does not exist or is not a regular file");
      }
    }
    asio::io_context io;
    auto client = login(io);
    atmosphere::DatasetPublisher publisher(*client);
    atmosphere::AtUri uri;
    if (p.flag("--blobs")) {
      ProgressBar bar(err, "uploading", "shards", mode == ProgressMode::terminal);
      rec.max_in_flight = in_flight;
      if (draws(mode)) rec.on_progress = [&](std::size_t done, std::size_t total) { bar.update(done, total); };
      uri = run_blocking(io, publisher.publish_with_blob_files(std::move(paths), schema_uri, std::move(rec)));
      bar.finish();
    } else {
      std::vector<std::string> urls{shards};  // stored verbatim, pattern unexpanded
      uri = run_blocking(io, publisher.publish_with_urls(std::move(urls), schema_uri, std::move(rec)));
    }
    out << uri.str() << "\n";
    return 0;
  });
}

int run_publish_records(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                        ProgressMode mode) {
  return guarded("publish-records", kRecordsUsage, err, [&] {
    auto p = parse_args(args, {"--job-key", "--in-flight", "--max-ops"}, {"--no-progress"});
    if (p.help) {
      out << kRecordsUsage << "\n";
      return 0;
    }
    if (p.positional.size() != 2) throw UsageError("give COLLECTION and FILE (JSON lines, or - for stdin)");
    atmosphere::BulkOptions o;
    o.job_key = p.value_or("--job-key", "");
    o.max_in_flight = p.integer("--in-flight", o.max_in_flight, 1, 64);
    o.max_ops_per_batch = p.integer("--max-ops", o.max_ops_per_batch, 1, 200);
    if (p.flag("--no-progress")) mode = ProgressMode::off;
    std::vector<json::object> records = read_records(p.positional[1]);

    asio::io_context io;
    auto client = login(io);
    ProgressBar bar(err, "publishing", "records", mode == ProgressMode::terminal);
    if (draws(mode)) {
      o.on_progress = [&](const atmosphere::BulkProgress& pr) {
        bar.update(pr.skipped + pr.written, pr.total, pr.skipped);
      };
    }
    atmosphere::BulkPublisher bulk(*client);
    auto r = run_blocking(io, bulk.publish_records(p.positional[0], std::move(records), std::move(o)));
    bar.finish();
    for (const auto& u : r.uris) out << u.str() << "\n";
    err << "published " << r.uris.size() << " records: " << r.written << " written, " << r.skipped
        << " already present, " << r.batches << " applyWrites calls (job " << r.job_key << ")\n";
    return 0;
  });
}

int run_ls(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded("ls", kLsUsage, err, [&] {
    auto p = parse_args(args, {}, {"--schemas"});
    if (p.help) {
      out << kLsUsage << "\n";
      return 0;
    }
    if (p.positional.size() > 1) throw UsageError("give at most one REPO (a handle or DID)");
    const std::string repo = p.positional.empty() ? std::string() : p.positional[0];
    asio::io_context io;
    // Another repository is public: no login needed when credentials are absent.
    std::unique_ptr<AtmosphereClient> client;
    if (repo.empty() || AtmosphereClient::env_has_credentials()) {
      client = login(io);
    } else {
      client = std::make_unique<AtmosphereClient>(io.get_executor(), AtmosphereClient::options_from_env());
    }
    atmosphere::AtmosphereIndex index(*client);
    if (p.flag("--schemas")) {
      for (const auto& s : run_blocking(io, index.list_schemas(repo))) {
        out << s.uri() << "\t" << s.record().name << "\t" << s.record().version << "\n";
      }
    } else {
      for (const auto& e : run_blocking(io, index.list_datasets(repo))) {
        const auto urls = e.data_urls();
        out << e.uri() << "\t" << e.name() << "\t" << e.schema_ref() << "\t"
            << (urls.empty() ? std::to_string(e.record().storage.blobs.size()) + " blobs" : urls.front())
            << "\n";
      }
    }
    return 0;
  });
}

}  // namespace atdata::cli
