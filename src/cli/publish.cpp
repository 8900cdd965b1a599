#include "publish.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

#include <boost/json/parse.hpp>

#include "args.hpp"
#include "atdata/atmosphere/bulk.hpp"
#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/error.hpp"
#include "atdata/io/shard_urls.hpp"
#include "common.hpp"
#include "progress.hpp"

namespace atdata::cli {

namespace json = boost::json;
using atproto::AtmosphereClient;

namespace {

constexpr const char* kPublishUsage =
    "usage: atdata dataset publish SHARDS --name NAME --schema-uri AT_URI [--blobs] [--description TEXT]\n"
    "                              [--tag TAG]... [--license SPDX] [--metadata-url URL] [--rkey KEY]\n"
    "                              [--in-flight N] [--no-progress] [--no-validate]\n"
    "       (`atdata publish …` is the same command)";
constexpr const char* kRecordsUsage =
    "usage: atdata publish-records COLLECTION FILE|- [--job-key KEY] [--in-flight N]\n"
    "                              [--max-ops N] [--no-progress] [--no-validate]";

// JSON lines, one record object per non-blank line; errors name the line.
std::vector<json::object> read_records(const std::string& path) {
  std::ifstream file;
  std::istream* in = &open_input(path, file);
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
  return guarded(kPublishUsage, err, [&] {
    auto p = parse_args(args,
                        {"--name", "--schema-uri", "--description", "--tag", "--license", "--metadata-url",
                         "--rkey", "--in-flight"},
                        {"--blobs", "--no-progress", "--no-validate"});
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
    rec.validate = !p.flag("--no-validate");
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
    Connection c(err);
    atmosphere::DatasetPublisher publisher(c.logged_in());
    atmosphere::AtUri uri;
    if (p.flag("--blobs")) {
      ProgressBar bar(err, "uploading", "shards", mode == ProgressMode::terminal);
      rec.max_in_flight = in_flight;
      if (draws(mode))
        rec.on_progress = [&](std::size_t done, std::size_t total) { bar.update(done, total); };
      uri = c.run(publisher.publish_with_blob_files(std::move(paths), schema_uri, std::move(rec)));
      bar.finish();
    } else {
      std::vector<std::string> urls{shards};  // stored verbatim, pattern unexpanded
      uri = c.run(publisher.publish_with_urls(std::move(urls), schema_uri, std::move(rec)));
    }
    out << uri.str() << "\n";
    return 0;
  });
}

int run_publish_records(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                        ProgressMode mode) {
  return guarded(kRecordsUsage, err, [&] {
    auto p = parse_args(args, {"--job-key", "--in-flight", "--max-ops"}, {"--no-progress", "--no-validate"});
    if (p.help) {
      out << kRecordsUsage << "\n";
      return 0;
    }
    if (p.positional.size() != 2) throw UsageError("give COLLECTION and FILE (JSON lines, or - for stdin)");
    atmosphere::BulkOptions o;
    o.job_key = p.value_or("--job-key", "");
    o.max_in_flight = p.integer("--in-flight", o.max_in_flight, 1, 64);
    o.max_ops_per_batch = p.integer("--max-ops", o.max_ops_per_batch, 1, 200);
    o.validate = !p.flag("--no-validate");
    if (p.flag("--no-progress")) mode = ProgressMode::off;
    std::vector<json::object> records = read_records(p.positional[1]);

    Connection c(err);
    AtmosphereClient& client = c.logged_in();
    ProgressBar bar(err, "publishing", "records", mode == ProgressMode::terminal);
    if (draws(mode)) {
      o.on_progress = [&](const atmosphere::BulkProgress& pr) {
        bar.update(pr.skipped + pr.written, pr.total, pr.skipped);
      };
    }
    atmosphere::BulkPublisher bulk(client);
    auto r = c.run(bulk.publish_records(p.positional[0], std::move(records), std::move(o)));
    bar.finish();
    for (const auto& u : r.uris) out << u.str() << "\n";
    err << "published " << r.uris.size() << " records: " << r.written << " written, " << r.skipped
        << " already present, " << r.batches << " applyWrites calls (job " << r.job_key << ")\n";
    return 0;
  });
}

}  // namespace atdata::cli
