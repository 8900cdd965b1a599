// bench_xrpc_records ENV_JSON [N]
// Records per second against the real loopback PDS (tools/pds), for N creates
// of the same small record in three ways: sequential createRecord, createRecord
// with 8 calls in flight, and applyWrites batches of 200. Each mode writes
// into a fresh account so every mode starts from an empty repo, exactly like
// the @atproto/api reference (bench/ts/create-records.js).
// Driven by bench/xrpc_records.sh, which also runs the reference; results go
// to docs/benchmarks.md ("XRPC").

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>

#include "atdata/atproto/atmosphere_client.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using namespace atdata;
using namespace atdata::atproto;

namespace {

constexpr const char* kCollection = "ac.foundation.dataset.record";

json::object make_record(int i) {
  json::object r;
  r["$type"] = kCollection;
  r["name"] = "rec-" + std::to_string(i);
  r["i"] = i;
  return r;
}

struct Env {
  std::string pds_url, plc_url;
};

Env load_env(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  auto v = json::parse(std::string((std::istreambuf_iterator<char>(f)), {})).as_object();
  return {std::string(v.at("pds_url").as_string()), std::string(v.at("plc_url").as_string())};
}

// A fresh account, then a logged-in client for it.
asio::awaitable<std::unique_ptr<AtmosphereClient>> fresh_client(asio::any_io_executor ex, const Env& env,
                                                                const std::string& tag) {
  AtmosphereClientOptions o;
  o.base_url = env.pds_url;
  o.identity.plc_url = env.plc_url;
  auto c = std::make_unique<AtmosphereClient>(ex, o);
  std::random_device rd;
  std::string name = "bc" + tag + std::to_string(rd() % 1000000000u);
  json::object acct{{"handle", name + ".test"}, {"email", name + "@example.com"}, {"password", "bench-pass"}};
  XrpcClient x(c->http(), env.pds_url);
  co_await x.procedure("com.atproto.server.createAccount", json::value(std::move(acct)));
  co_await c->login(name + ".test", "bench-pass");
  // warm-up, as in the reference: connection + first commit are not measured
  for (int i = 0; i < 10; ++i) co_await c->create_record(kCollection, make_record(-1 - i));
  co_return c;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void report(const char* mode, int n, double s) {
  std::printf(
      "{\"client\":\"atdata-cpp\",\"mode\":\"%s\",\"n\":%d,\"seconds\":%.3f,\"records_per_s\":%.1f}\n", mode,
      n, s, n / s);
  std::fflush(stdout);
}

asio::awaitable<void> sequential(const Env& env, int n) {
  auto c = co_await fresh_client(co_await asio::this_coro::executor, env, "s");
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) co_await c->create_record(kCollection, make_record(i));
  report("sequential createRecord", n, seconds_since(t0));
}

asio::awaitable<void> worker(AtmosphereClient& c, int& next, int n) {
  while (next < n) {
    int i = next++;
    co_await c.create_record(kCollection, make_record(i));
  }
}

asio::awaitable<void> concurrent(const Env& env, int n, int in_flight) {
  auto ex = co_await asio::this_coro::executor;
  auto c = co_await fresh_client(ex, env, "c");
  int next = 0, finished = 0;
  std::exception_ptr err;
  auto t0 = std::chrono::steady_clock::now();
  // Workers share one connection pool; each keeps one createRecord in flight.
  asio::steady_timer done(ex, std::chrono::steady_clock::time_point::max());
  for (int w = 0; w < in_flight; ++w) {
    asio::co_spawn(ex, worker(*c, next, n), [&](std::exception_ptr e) {
      if (e && !err) err = e;
      if (++finished == in_flight) done.cancel();
    });
  }
  try {
    co_await done.async_wait(asio::use_awaitable);
  } catch (const boost::system::system_error&) {
    // cancelled: all workers finished
  }
  if (err) std::rethrow_exception(err);
  char mode[64];
  std::snprintf(mode, sizeof mode, "createRecord, %d in flight", in_flight);
  report(mode, n, seconds_since(t0));
}

asio::awaitable<void> batched(const Env& env, int n) {
  auto c = co_await fresh_client(co_await asio::this_coro::executor, env, "b");
  std::vector<WriteOp> ops;
  ops.reserve(static_cast<std::size_t>(n));
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) ops.push_back(WriteOp::create(kCollection, make_record(i)));
  auto results = co_await c->apply_writes(ops);
  if (results.size() != static_cast<std::size_t>(n)) throw std::runtime_error("applyWrites lost results");
  report("applyWrites, 200 per call", n, seconds_since(t0));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s ENV_JSON [N] [modes: s,c,b]\n", argv[0]);
    return 2;
  }
  const Env env = load_env(argv[1]);
  const int n = argc > 2 ? std::stoi(argv[2]) : 2000;
  const std::string modes = argc > 3 ? argv[3] : "s,c,b";
  asio::io_context io;
  std::exception_ptr err;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        if (modes.find('s') != std::string::npos) co_await sequential(env, n);
        if (modes.find('c') != std::string::npos) co_await concurrent(env, n, 8);
        if (modes.find('b') != std::string::npos) co_await batched(env, n);
      },
      [&](std::exception_ptr e) { err = e; });
  io.run();
  if (err) {
    try {
      std::rethrow_exception(err);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_xrpc_records: %s\n", e.what());
      return 1;
    }
  }
  return 0;
}
