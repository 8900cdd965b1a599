// Live discovery end to end (docs/benchmarks.md, "Live discovery"), driven by
// bench/discovery.sh:
//
//   bench_discovery record WS_URL OUT          subscribeRepos?cursor=0 of a host, frames to OUT
//                                              (u32 little-endian length + frame), until 2 s idle
//   bench_discovery replay FRAMES DIDS.json N [--db FILE] [--no-verify] [--only-datasets]
//       a loopback WebSocket server (its own thread, the other core) sends N
//       frames, FRAMES cycled with fresh sequence numbers, at full speed; the
//       subscriber (Firehose: WebSocket read, decode, verify with the keys of
//       DIDS.json) and the catalogue writer (SQLite, one transaction per
//       batch) share this thread. Prints events/s and resident memory.
//   bench_discovery latency N                  against the PDS of ATDATA_PDS_URL (logged in from
//                                              ATDATA_HANDLE/PASSWORD): createRecord returned →
//                                              the catalogue has the record; median and p99
//
// One JSON line per result.

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "atdata/atmosphere/catalogue.hpp"
#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/discovery.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/event_frame.hpp"
#include "atdata/atproto/event_queue.hpp"
#include "atdata/atproto/firehose.hpp"
#include "atdata/io/blocking.hpp"
#include "atdata/net/websocket.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace atdata;

namespace {

// The subscriber's thread on core 0, the replay server's on core 1: "one
// core" for everything the library does.
void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

long rss_kb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::vector<std::vector<std::byte>> read_frames(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::vector<std::vector<std::byte>> out;
  for (;;) {
    std::uint32_t n = 0;
    if (!f.read(reinterpret_cast<char*>(&n), 4)) break;
    std::vector<std::byte> b(n);
    f.read(reinterpret_cast<char*>(b.data()), n);
    out.push_back(std::move(b));
  }
  return out;
}

// ---- record -----------------------------------------------------------------

int record(const std::string& url, const std::string& out_path) {
  asio::io_context io;
  std::ofstream out(out_path, std::ios::binary);
  std::size_t n = 0;
  run_blocking(io, [&]() -> asio::awaitable<void> {
    net::WebSocketOptions o;
    o.read_timeout = std::chrono::milliseconds(2000);
    auto ws = co_await net::WebSocket::connect(io.get_executor(),
                                               url + "/xrpc/com.atproto.sync.subscribeRepos?cursor=0", o);
    try {
      for (;;) {
        auto m = co_await ws.read();
        if (m.closed) break;
        const auto len = static_cast<std::uint32_t>(m.data.size());
        out.write(reinterpret_cast<const char*>(&len), 4);
        out.write(reinterpret_cast<const char*>(m.data.data()), len);
        ++n;
      }
    } catch (const NetworkError&) {
      // The read timeout: the history has been sent.
    }
  }());
  std::cerr << "recorded " << n << " frames into " << out_path << "\n";
  return n ? 0 : 1;
}

// ---- replay -------------------------------------------------------------------

// A frame re-encoded so its seq is a 4-byte integer at a known offset: the
// server writes any seq >= 65536 there without re-encoding.
struct SeqFrame {
  std::vector<std::byte> bytes;
  std::size_t seq_at = 0;
};

SeqFrame with_seq_slot(const std::vector<std::byte>& frame) {
  const auto f = atproto::decode_event_frame(frame);
  json::value body = atproto::dag_cbor_to_json(f.body);
  body.as_object()["seq"] = 65536;
  const auto head = std::span(frame).first(f.body_offset);
  const auto enc = atproto::dag_cbor_encode_json(body);
  SeqFrame s;
  s.bytes.assign(head.begin(), head.end());
  s.bytes.insert(s.bytes.end(), enc.begin(), enc.end());
  static const unsigned char key[] = {0x63, 's', 'e', 'q', 0x1a};
  auto it = std::search(s.bytes.begin() + static_cast<std::ptrdiff_t>(f.body_offset), s.bytes.end(),
                        reinterpret_cast<const std::byte*>(key), reinterpret_cast<const std::byte*>(key) + 5);
  if (it == s.bytes.end()) throw std::runtime_error("no seq slot");
  s.seq_at = static_cast<std::size_t>(it - s.bytes.begin()) + 5;
  return s;
}

void put_seq(SeqFrame& f, std::uint32_t seq) {
  const std::byte b[4] = {std::byte(seq >> 24), std::byte(seq >> 16), std::byte(seq >> 8), std::byte(seq)};
  std::memcpy(f.bytes.data() + f.seq_at, b, 4);
}

// One connection; sends frames seq > cursor up to `total` events.
void serve(tcp::acceptor& acc, std::vector<SeqFrame> frames, std::uint64_t total) {
  tcp::socket sock = acc.accept();
  beast::websocket::stream<beast::tcp_stream> ws(std::move(sock));
  ws.binary(true);
  beast::http::request<beast::http::empty_body> req;
  beast::flat_buffer buf;
  beast::http::read(ws.next_layer(), buf, req);
  ws.accept(req);
  const std::uint64_t base = 65536;
  for (std::uint64_t i = 0; i < total; ++i) {
    SeqFrame& f = frames[i % frames.size()];
    put_seq(f, static_cast<std::uint32_t>(base + i));
    ws.write(asio::buffer(f.bytes.data(), f.bytes.size()));
  }
  // Keep the connection open until the client leaves.
  beast::flat_buffer sink;
  boost::system::error_code ec;
  ws.read(sink, ec);
}

int replay(const std::string& frames_path, const std::string& dids_path, std::uint64_t total,
           const std::string& db, bool verify, bool only_datasets) {
  std::vector<SeqFrame> frames;
  std::size_t frame_bytes = 0, dataset_frames = 0;
  for (const auto& f : read_frames(frames_path)) {
    const auto ev = atproto::decode_event_frame(f);
    const auto* commit = std::get_if<atproto::CommitEvent>(&ev.event);
    if (!commit) continue;
    const bool dataset = std::any_of(commit->ops.begin(), commit->ops.end(), [](const auto& op) {
      return op.collection().starts_with("ac.foundation.dataset.");
    });
    if (only_datasets && !dataset) continue;
    dataset_frames += dataset;
    frames.push_back(with_seq_slot(f));
    frame_bytes += frames.back().bytes.size();
  }
  if (frames.empty()) throw std::runtime_error("no #commit frames in " + frames_path);

  asio::io_context server_io;
  tcp::acceptor acc(server_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto port = acc.local_endpoint().port();
  std::thread server([&] {
    pin_to(1);
    serve(acc, frames, total);
  });
  pin_to(0);

  atmosphere::CatalogueOptions co;
  co.path = db;
  atmosphere::Catalogue catalogue(co);
  asio::io_context io;
  auto queue = std::make_shared<atproto::RepoEventQueue>(io.get_executor(), 4096);
  atproto::FirehoseConfig fc;
  fc.host = "ws://127.0.0.1:" + std::to_string(port);
  fc.cursor = 0;
  fc.collections = {"ac.foundation.dataset.*", "science.alt.dataset.*"};
  fc.verify = verify;
  atproto::Firehose firehose(io.get_executor(), fc, queue);
  std::ifstream df(dids_path);
  const json::value dids = json::parse(std::string((std::istreambuf_iterator<char>(df)), {}));
  for (const auto& [did, v] : dids.as_object()) {
    const json::value& doc =
        v.is_object() && v.as_object().contains("didDoc") ? v.as_object().at("didDoc") : v;
    firehose.add_key(std::string(did), atproto::PublicKey::from_did_document(doc));
  }

  const std::int64_t last = 65536 + static_cast<std::int64_t>(total) - 1;
  std::uint64_t events = 0, rejected = 0, changes = 0;
  long rss_first = 0, rss_max = 0;
  double mean_batch = 0;
  const auto t0 = Clock::now();
  bool fh_done = false;
  asio::co_spawn(io, firehose.run(), [&](std::exception_ptr) { fh_done = true; });
  run_blocking(io, [&]() -> asio::awaitable<void> {
    std::vector<atproto::RepoEvent> batch;
    batch.reserve(1024);
    atmosphere::DiscoveryConfig defaults;  // the batching Discovery uses
    std::uint64_t transactions = 0;
    while (co_await queue->pop_batch(batch, defaults.batch_max, defaults.batch_linger)) {
      ++transactions;
      for (const auto& e : batch) {
        rejected += e.kind == atproto::RepoEvent::Kind::rejected;
        changes += e.changes.size();
      }
      events += batch.size();
      catalogue.apply(batch);
      const bool done = batch.back().cursor >= last;
      batch.clear();
      if (events >= 100'000 && rss_first == 0) rss_first = rss_kb();
      if (transactions % 64 == 0) rss_max = std::max(rss_max, rss_kb());
      if (done) break;
    }
    firehose.cancel();
    queue->close();
    mean_batch = static_cast<double>(events) / static_cast<double>(std::max<std::uint64_t>(transactions, 1));
  }());
  const double secs = seconds_since(t0);
  io.restart();
  while (!fh_done && io.run_one() != 0) {
  }
  server.join();

  json::object r;
  r["bench"] = "discovery_replay";
  r["verify"] = verify;
  r["db"] = db.empty() ? "memory" : "file";
  r["events"] = events;
  r["distinct_frames"] = frames.size();
  r["dataset_share"] = static_cast<double>(dataset_frames) / static_cast<double>(frames.size());
  r["mean_frame_bytes"] = frame_bytes / frames.size();
  r["record_changes"] = changes;
  r["rejected"] = rejected;
  r["seconds"] = secs;
  r["events_per_s"] = static_cast<double>(events) / secs;
  r["stored_cursor"] = catalogue.cursor(fc.host).value_or(-1);
  r["rss_kb_after_100k"] = rss_first;
  r["rss_kb_max"] = std::max(rss_max, rss_kb());
  r["events_per_transaction"] = mean_batch;
  std::cout << json::serialize(r) << std::endl;
  return rejected == 0 && catalogue.cursor(fc.host) == last ? 0 : 1;
}

// ---- latency ----------------------------------------------------------------------

int latency(std::size_t n) {
  asio::io_context io;
  auto client = run_blocking(io, atproto::AtmosphereClient::from_env(io.get_executor()));
  atmosphere::Catalogue catalogue = atmosphere::Catalogue::in_memory();
  atmosphere::DiscoveryConfig cfg;
  cfg.hosts.push_back(client->service_url());
  cfg.notification_capacity = 4096;
  cfg.backfill = false;
  atmosphere::Discovery discovery(*client, catalogue, cfg);
  bool finished = false;
  asio::co_spawn(io, discovery.run(), [&](std::exception_ptr) { finished = true; });
  std::vector<double> ms;
  run_blocking(io, [&]() -> asio::awaitable<void> {
    asio::steady_timer t(io, std::chrono::milliseconds(500));  // subscribed
    co_await t.async_wait(asio::use_awaitable);
    for (std::size_t i = 0; i < n; ++i) {
      atmosphere::DatasetRecord rec;
      rec.name = "latency-" + std::to_string(i);
      rec.schema_ref = "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k";
      rec.storage = atmosphere::StorageLocation::external({"https://example.com/latency.tar"});
      auto ref =
          co_await client->create_record(std::string(atmosphere::nsid::kDatasetRecord), rec.to_record());
      const auto t0 = Clock::now();
      for (;;) {
        auto d = co_await discovery.next();
        if (!d) co_return;
        if (d->uri.str() == ref.uri) break;
      }
      ms.push_back(seconds_since(t0) * 1000);
    }
    discovery.cancel();
  }());
  // run() must end before the objects it works on go away.
  io.restart();
  while (!finished && io.run_one() != 0) {
  }
  if (ms.empty()) throw std::runtime_error("no write was seen in the catalogue");
  std::sort(ms.begin(), ms.end());
  json::object r;
  r["bench"] = "discovery_latency";
  r["writes"] = ms.size();
  r["median_ms"] = ms[ms.size() / 2];
  r["p99_ms"] = ms[std::min(ms.size() - 1, ms.size() * 99 / 100)];
  r["max_ms"] = ms.back();
  std::cout << json::serialize(r) << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() >= 3 && a[0] == "record") return record(a[1], a[2]);
    if (a.size() >= 4 && a[0] == "replay") {
      std::string db;
      bool verify = true, only = false;
      for (std::size_t i = 4; i < a.size(); ++i) {
        if (a[i] == "--db" && i + 1 < a.size()) db = a[++i];
        if (a[i] == "--no-verify") verify = false;
        if (a[i] == "--only-datasets") only = true;
      }
      return replay(a[1], a[2], std::stoull(a[3]), db, verify, only);
    }
    if (a.size() >= 2 && a[0] == "latency") return latency(std::stoul(a[1]));
    std::cerr << "usage: bench_discovery record WS_URL OUT | replay FRAMES DIDS.json N [--db FILE] "
                 "[--no-verify] [--only-datasets]"
                 " | latency N\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bench_discovery: " << e.what() << "\n";
    return 1;
  }
}
