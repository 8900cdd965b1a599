// bench_atmosphere_bulk ENV_JSON [N] [IN_FLIGHT...]
// Bulk publishing of N dataset index records (ac.foundation.dataset.record,
// external storage, tags, description, msgpack metadata) through
// atmosphere::BulkPublisher against the real loopback PDS (tools/pds): one
// job per in-flight setting, each into a fresh account, then the re-run of the
// same job (all records already present: the resume path). The reference is
// @atproto/api doing one createRecord per call (bench/ts/create-records.js),
// run by bench/atmosphere_bulk.sh. Results: docs/benchmarks.md
// "Atmosphere bulk publishing".

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/parse.hpp>

#include "atdata/atmosphere/bulk.hpp"
#include "atdata/atmosphere/metadata.hpp"
#include "atdata/atproto/atmosphere_client.hpp"
#include "atdata/atproto/xrpc_client.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using namespace atdata;

namespace {

struct Env {
  std::string pds_url, plc_url;
};

Env load_env(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  auto v = json::parse(std::string((std::istreambuf_iterator<char>(f)), {})).as_object();
  return {std::string(v.at("pds_url").as_string()), std::string(v.at("plc_url").as_string())};
}

asio::awaitable<std::unique_ptr<atproto::AtmosphereClient>> fresh_client(asio::any_io_executor ex,
                                                                         const Env& env,
                                                                         const std::string& tag) {
  atproto::AtmosphereClientOptions o;
  o.base_url = env.pds_url;
  o.identity.plc_url = env.plc_url;
  auto c = std::make_unique<atproto::AtmosphereClient>(ex, o);
  std::random_device rd;
  std::string name = "ab" + tag + std::to_string(rd() % 1000000000u);
  json::object acct{{"handle", name + ".test"}, {"email", name + "@example.com"}, {"password", "bench-pass"}};
  atproto::XrpcClient x(c->http(), env.pds_url);
  co_await x.procedure("com.atproto.server.createAccount", json::value(std::move(acct)));
  co_await c->login(name + ".test", "bench-pass");
  // Warm-up like the reference: connection and first commits are not measured.
  for (int i = 0; i < 10; ++i) {
    json::object warm;  // (member by member: GCC 12 and braced lists in coroutines)
    warm["$type"] = "ac.foundation.dataset.record";
    warm["name"] = "warm";
    warm["i"] = i;
    co_await c->create_record("ac.foundation.dataset.record", std::move(warm));
  }
  co_return c;
}

std::vector<atmosphere::DatasetRecord> make_records(int n) {
  std::vector<atmosphere::DatasetRecord> out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    auto& r = out[static_cast<std::size_t>(i)];
    r.name = "features-" + std::to_string(i);
    r.schema_ref = "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k";
    r.storage = atmosphere::StorageLocation::external(
        {"https://data.example.com/features/" + std::to_string(i) + "/shard-{000000..000009}.tar"});
    r.description = "Synthetic feature vectors, part " + std::to_string(i);
    r.tags = {"features", "synthetic"};
    r.license = "MIT";
    r.metadata =
        atmosphere::encode_metadata(json::object{{"split", "train"}, {"samples", 10000}, {"part", i}});
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void report(const std::string& mode, int n, double s, const atmosphere::BulkResult& r) {
  std::printf(
      "{\"client\":\"atdata-cpp "
      "BulkPublisher\",\"mode\":\"%s\",\"n\":%d,\"seconds\":%.3f,\"records_per_s\":%.1f,"
      "\"written\":%zu,\"skipped\":%zu,\"batches\":%zu}\n",
      mode.c_str(), n, s, n / s, r.written, r.skipped, r.batches);
  std::fflush(stdout);
}

asio::awaitable<void> run(const Env& env, int n, std::vector<std::size_t> in_flight) {
  auto ex = co_await asio::this_coro::executor;
  for (std::size_t k : in_flight) {
    auto c = co_await fresh_client(ex, env, std::to_string(k));
    atmosphere::BulkPublisher bulk(*c);
    atmosphere::BulkOptions o;
    o.max_in_flight = k;
    auto t0 = std::chrono::steady_clock::now();
    auto r = co_await bulk.publish_datasets(make_records(n), o);
    report("publish_datasets, " + std::to_string(k) + " in flight", n, seconds_since(t0), r);
    if (r.written != static_cast<std::size_t>(n)) throw std::runtime_error("not every record was written");
    t0 = std::chrono::steady_clock::now();
    auto again = co_await bulk.publish_datasets(make_records(n), o);
    report("re-run of the same job (resume check)", n, seconds_since(t0), again);
    if (again.written != 0) throw std::runtime_error("re-run wrote duplicates");
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s ENV_JSON [N] [IN_FLIGHT...]\n", argv[0]);
    return 2;
  }
  const Env env = load_env(argv[1]);
  const int n = argc > 2 ? std::stoi(argv[2]) : 2000;
  std::vector<std::size_t> in_flight;
  for (int i = 3; i < argc; ++i) in_flight.push_back(static_cast<std::size_t>(std::stoul(argv[i])));
  if (in_flight.empty()) in_flight = {1, 4};
  asio::io_context io;
  std::exception_ptr err;
  asio::co_spawn(io, run(env, n, in_flight), [&](std::exception_ptr e) { err = e; });
  io.run();
  if (err) {
    try {
      std::rethrow_exception(err);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_atmosphere_bulk: %s\n", e.what());
      return 1;
    }
  }
  return 0;
}
