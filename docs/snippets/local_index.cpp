// The C++ blocks of docs/local-index.md and docs/s3.md, compiled and run: the
// local index in SQLite and in the Redis fixture's server, code written
// against `Index` run on both kinds of index, promotion to the real PDS, and
// shards written to and read from the S3 fixture's server.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "atdata/atdata.hpp"
#include "snippet_support.hpp"

namespace asio = boost::asio;
namespace atmo = atdata::atmosphere;

struct ImageSample {
  atdata::NDArrayOf<std::uint8_t> image;
  std::string label;
};
BOOST_DESCRIBE_STRUCT(ImageSample, (), (image, label))

namespace {

struct Row {
  std::int64_t id = 0;
  std::string text;
};
BOOST_DESCRIBE_STRUCT(Row, (), (id, text))

std::string line_of(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

// The S3 fixture's server and key pair, exported the way a user's shell
// would (the docs' code reads the environment).
void export_s3_environment() {
  const std::string dir = snippet::env("ATDATA_S3_RUN_DIR");
  ::setenv("AWS_ENDPOINT_URL", line_of(dir + "/url").c_str(), 1);
  ::setenv("AWS_ACCESS_KEY_ID", line_of(dir + "/access_key").c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", line_of(dir + "/secret_key").c_str(), 1);
}

void s3_demo() {
  export_s3_environment();
  const std::string bucket = line_of(snippet::env("ATDATA_S3_RUN_DIR") + "/bucket");
  const std::string prefix = "s3://" + bucket + "/snippet-" + std::to_string(::getpid());
  // [snippet s3-write-read]
  // Credentials and endpoint from the environment (AWS_ACCESS_KEY_ID,
  // AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL for an S3-compatible store, …).
  atdata::net::S3Config s3 = atdata::net::S3Config::from_environment();

  // Shards go to disk, then each is uploaded as soon as it is closed.
  atdata::ShardWriterOptions shards;
  shards.maxcount = 100;
  std::vector<std::string> urls = atdata::write_shards_to_s3(
      s3, prefix + "/rows",
      [](atdata::ShardWriter& w) {
        for (int i = 0; i < 250; ++i) atdata::write_sample(w, Row{i, "row " + std::to_string(i)});
      },
      shards);
  // urls: s3://…/rows/data--<uuid4>--000000.tar, …000001.tar, …000002.tar

  // Read back like any other URL (open_shard signs with the same environment).
  atdata::Dataset<Row> ds(urls[0] + "::" + urls[1] + "::" + urls[2]);
  std::int64_t n = 0;
  for (const auto& batch : ds.ordered(64)) n += static_cast<std::int64_t>(batch.size());
  // [end s3-write-read]
  snippet::check(urls.size() == 3 && n == 250, "250 rows through S3");
}

std::string redis_url() {
  std::ifstream in(snippet::env("ATDATA_REDIS_RUN_DIR") + "/url");
  std::string url;
  std::getline(in, url);
  return url + "/9";
}

// [snippet local-index-generic]
// Works with a LocalIndex and an AtmosphereIndex alike.
asio::awaitable<std::size_t> describe(atmo::Index& index) {
  std::size_t n = 0;
  for (const atmo::IndexEntry& e : co_await index.list_datasets()) {
    std::cout << index.kind() << "  " << e.ref() << "  " << e.name() << "  " << e.schema_ref() << "\n";
    ++n;
  }
  co_return n;
}
// [end local-index-generic]

asio::awaitable<void> demo(asio::io_context& io) {
  // [snippet local-index-sqlite]
  // One SQLite file (created on first use); nothing to run beside it.
  atmo::LocalIndex index(io.get_executor(), atmo::LocalIndexConfig().with_path("team-index.sqlite"));

  // The kind in the reference is Python's `module.Class`: give the Python
  // class's to share the schema with Python code.
  std::string schema_ref = co_await index.publish_schema<ImageSample>(
      atmo::SchemaPublishOptions().with_name("mylab.samples.ImageSample").with_version("1.0.0"));
  // schema_ref == "local://schemas/mylab.samples.ImageSample@1.0.0"

  atmo::LocalDatasetEntry entry("imagenet-subset", schema_ref,
                                {"s3://team-bucket/imagenet/data--{000000..000009}.tar"});
  co_await index.add_entry(entry);
  std::cout << entry.cid() << "\n";  // bafyrei…: the same CID Python atdata computes

  atmo::LocalDatasetEntry again = co_await index.get_entry_by_name("imagenet-subset");
  auto sample_type = co_await index.decode_schema(again.schema_ref());  // a run-time sample type
  // [end local-index-sqlite]
  snippet::check(schema_ref == "local://schemas/mylab.samples.ImageSample@1.0.0", "schema ref");
  snippet::check(again.cid() == entry.cid() && sample_type->size() == 2, "entry and schema read back");
  snippet::check(co_await describe(index) == 1, "one local entry");

  // [snippet local-index-redis]
  // Python atdata's Redis index: the same keys and bytes, so both read each
  // other's entries.
  atmo::LocalIndex shared(io.get_executor(), atmo::LocalIndexConfig().with_redis_url(redis_url()));
  std::vector<atmo::LocalDatasetEntry> batch;
  for (int i = 0; i < 1000; ++i) {
    batch.emplace_back("run-" + std::to_string(i), schema_ref,
                       std::vector<std::string>{"s3://team-bucket/runs/" + std::to_string(i) + ".tar"});
  }
  co_await shared.add_entries(std::move(batch));  // pipelined, one MULTI/EXEC per 2,000
  // [end local-index-redis]
  snippet::check((co_await shared.entries()).size() >= 1000, "1000 entries in Redis");

  // [snippet local-index-promote]
  auto client = co_await atmo::AtmosphereClient::from_env(io.get_executor());
  atmo::AtmosphereIndex atmosphere(*client);
  atmo::PromoteResult r =
      co_await atmo::promote(again, index, atmosphere, atmo::PromoteOptions().with_description("A subset"));
  std::cout << r.dataset << (r.dataset_reused ? " (already promoted)" : "") << "\n";
  // [end local-index-promote]
  atmo::PromoteResult twice = co_await atmo::promote(again, index, atmosphere);
  snippet::check(twice.schema_reused && r.dataset.collection == "ac.foundation.dataset.record",
                 "promotion reuses the schema");
  snippet::check(co_await describe(atmosphere) >= 1, "the atmosphere index lists it");
}

}  // namespace

int main() {
  return snippet::run("local_index", [] {
    snippet::ScratchDir dir;
    s3_demo();
    asio::io_context io;
    atdata::run_blocking(io, demo(io));
  });
}
