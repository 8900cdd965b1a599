// Jetstream: event decoding, zstd (with a dictionary trained here on
// generated events), backoff, and the run loop against a replay server.
#include <gtest/gtest.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "../../src/atproto/detail/backoff.hpp"  // private, header-only
#include "atdata/atproto/event_queue.hpp"
#include "atdata/atproto/jetstream.hpp"
#include "atdata/error.hpp"
#include "support/net_run.hpp"
#include "support/ws_server.hpp"
#include "support/zstd_dict.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using namespace atdata;
using namespace atdata::atproto;
using namespace atdata::test;
using namespace std::chrono_literals;

namespace {

// ---- generated events ---------------------------------------------------------

std::string make_event(std::int64_t time_us, std::mt19937& rng) {
  static const char* kWords[] = {"atproto",   "dataset", "shard",  "lexicon", "record", "firehose",
                                 "jetstream", "sample",  "schema", "blob",    "hello",  "world"};
  static const char* kCollections[] = {"app.bsky.feed.post", "app.bsky.feed.like",
                                       "ac.foundation.dataset.record", "app.bsky.graph.follow"};
  std::uniform_int_distribution<int> pick(0, 1000);
  const std::string did = "did:plc:" + std::string(24, static_cast<char>('a' + pick(rng) % 26));
  json::object ev;
  ev["did"] = did;
  ev["time_us"] = time_us;
  const int k = pick(rng) % 20;
  if (k == 0) {
    ev["kind"] = "identity";
    ev["identity"] = json::object{{"did", did},
                                  {"handle", "user" + std::to_string(pick(rng)) + ".test"},
                                  {"seq", pick(rng)},
                                  {"time", "2026-05-25T14:23:29.950Z"}};
  } else if (k == 1) {
    ev["kind"] = "account";
    ev["account"] = json::object{{"active", false},
                                 {"did", did},
                                 {"seq", pick(rng)},
                                 {"status", "deactivated"},
                                 {"time", "2026-05-25T14:23:29.950Z"}};
  } else {
    ev["kind"] = "commit";
    json::object c;
    c["rev"] = "3mmoojp7vgo" + std::to_string(pick(rng));
    const int op = pick(rng) % 6;
    c["operation"] = op == 0 ? "delete" : op == 1 ? "update" : "create";
    const char* col = kCollections[pick(rng) % 4];
    c["collection"] = col;
    c["rkey"] = "3mmoo" + std::to_string(pick(rng));
    if (op != 0) {
      std::string text;
      for (int i = 0, n = 3 + pick(rng) % 12; i < n; ++i) text += std::string(kWords[pick(rng) % 12]) + " ";
      c["record"] = json::object{{"$type", col}, {"createdAt", "2026-05-25T14:23:28.778Z"}, {"text", text}};
      c["cid"] = "bafyreid" + std::to_string(pick(rng)) + "qpc7si3dbimffi64lz3xsx2qt45ip7rpna2qp";
    }
    ev["commit"] = std::move(c);
  }
  return json::serialize(ev);
}

std::vector<std::string> make_events(std::size_t n, std::int64_t first_us = 1'000'000,
                                     std::int64_t step = 1000) {
  std::mt19937 rng(42);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(make_event(first_us + static_cast<std::int64_t>(i) * step, rng));
  return out;
}

using test::compress;
using test::train_dictionary;

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

std::string field_of(std::string_view json) {
  try {
    decode_jetstream_event(json, "test");
  } catch (const DecodeError& e) {
    return e.field().empty() ? std::string("<none>: ") + e.what() : e.field();
  }
  return "<no error>";
}

// ---- decoding -------------------------------------------------------------------

TEST(JetstreamDecode, CommitCreate) {
  const std::string j =
      R"({"did":"did:plc:abc","time_us":1779719009132431,"kind":"commit","commit":{"rev":"3mmoojp7vgo2g",)"
      R"("operation":"create","collection":"app.bsky.feed.like","rkey":"3mmoojp7etg2g",)"
      R"("record":{"$type":"app.bsky.feed.like","subject":{"uri":"at://x"}},"cid":"bafyreidqpc"}})";
  RepoEvent ev = decode_jetstream_event(j, "wss://js.example/subscribe");
  EXPECT_EQ(ev.kind, RepoEvent::Kind::commit);
  EXPECT_EQ(ev.source, "wss://js.example/subscribe");
  EXPECT_EQ(ev.cursor, 1779719009132431);
  EXPECT_EQ(ev.did, "did:plc:abc");
  EXPECT_EQ(ev.rev, "3mmoojp7vgo2g");
  EXPECT_EQ(ev.time, "2026-05-25T14:23:29.132431Z");
  ASSERT_EQ(ev.changes.size(), 1u);
  const RecordChange& c = ev.changes[0];
  EXPECT_EQ(c.action, RepoOp::Action::create);
  EXPECT_EQ(c.collection, "app.bsky.feed.like");
  EXPECT_EQ(c.rkey, "3mmoojp7etg2g");
  EXPECT_EQ(c.cid, "bafyreidqpc");
  EXPECT_EQ(c.record.at("$type").as_string(), "app.bsky.feed.like");
}

TEST(JetstreamDecode, CommitUpdateAndDelete) {
  RepoEvent u = decode_jetstream_event(
      R"({"did":"did:plc:a","time_us":5,"kind":"commit","commit":{"rev":"r","operation":"update",)"
      R"("collection":"c.d.e","rkey":"k","record":{},"cid":"bafy"}})",
      "s");
  ASSERT_EQ(u.changes.size(), 1u);
  EXPECT_EQ(u.changes[0].action, RepoOp::Action::update);
  RepoEvent d = decode_jetstream_event(
      R"({"did":"did:plc:a","time_us":6,"kind":"commit","commit":{"rev":"r","operation":"delete",)"
      R"("collection":"c.d.e","rkey":"k"}})",
      "s");
  ASSERT_EQ(d.changes.size(), 1u);
  EXPECT_EQ(d.changes[0].action, RepoOp::Action::remove);
  EXPECT_TRUE(d.changes[0].cid.empty());
  EXPECT_TRUE(d.changes[0].record.empty());
}

TEST(JetstreamDecode, IdentityAndAccount) {
  RepoEvent i = decode_jetstream_event(
      R"({"did":"did:plc:g4","time_us":1779719010267528,"kind":"identity","identity":{"did":"did:plc:g4",)"
      R"("handle":"alice.test","seq":30340180350,"time":"2026-05-25T14:23:29.950Z"}})",
      "s");
  EXPECT_EQ(i.kind, RepoEvent::Kind::identity);
  EXPECT_EQ(i.handle.value_or(""), "alice.test");
  EXPECT_EQ(i.time, "2026-05-25T14:23:29.950Z");
  EXPECT_EQ(i.cursor, 1779719010267528);
  RepoEvent noh = decode_jetstream_event(
      R"({"did":"did:plc:g4","time_us":7,"kind":"identity","identity":{"did":"did:plc:g4","seq":1}})", "s");
  EXPECT_FALSE(noh.handle.has_value());
  RepoEvent a = decode_jetstream_event(
      R"({"did":"did:plc:g4","time_us":8,"kind":"account","account":{"active":false,"did":"did:plc:g4",)"
      R"("seq":2,"status":"takendown","time":"2026-05-25T14:23:29.950Z"}})",
      "s");
  EXPECT_EQ(a.kind, RepoEvent::Kind::account);
  EXPECT_FALSE(a.active);
  EXPECT_EQ(a.status.value_or(""), "takendown");
}

TEST(JetstreamDecode, MalformedNamesTheField) {
  EXPECT_EQ(field_of(R"({"time_us":1,"kind":"commit"})"), "did");
  EXPECT_EQ(field_of(R"({"did":"did:plc:a","time_us":"1","kind":"commit"})"), "time_us");
  EXPECT_EQ(field_of(R"({"did":"did:plc:a","time_us":1.5,"kind":"commit"})"), "time_us");
  EXPECT_EQ(field_of(R"({"did":"did:plc:a","time_us":1})"), "kind");
  EXPECT_EQ(field_of(R"({"did":"did:plc:a","time_us":1,"kind":"labels"})"), "kind");
  EXPECT_EQ(field_of(R"({"did":"did:plc:a","time_us":1,"kind":"commit"})"), "commit");
  EXPECT_EQ(field_of(R"({"did":"did:plc:a","time_us":1,"kind":"commit","commit":[]})"), "commit");
  EXPECT_EQ(
      field_of(R"({"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"rev":"r","operation":"create",)"
               R"("collection":"c","rkey":"k","cid":"b"}})"),
      "commit.record");
  EXPECT_EQ(
      field_of(R"({"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"rev":"r","operation":"move",)"
               R"("collection":"c","rkey":"k"}})"),
      "commit.operation");
  EXPECT_EQ(
      field_of(R"({"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"rev":"r","operation":"delete",)"
               R"("collection":"c"}})"),
      "commit.rkey");
  EXPECT_EQ(field_of(R"({"did":"did:plc:a","time_us":1,"kind":"account","account":{"active":"yes"}})"),
            "account.active");
  EXPECT_EQ(field_of(R"({"did":"did:plc:a","time_us":1,"kind":"identity","identity":{"handle":3}})"),
            "identity.handle");
  EXPECT_EQ(field_of(R"({"did":"bob","time_us":1,"kind":"identity","identity":{}})"), "did");
  EXPECT_THROW(decode_jetstream_event("not json", "s"), DecodeError);
  EXPECT_THROW(decode_jetstream_event("[1,2]", "s"), DecodeError);
  EXPECT_THROW(decode_jetstream_event("", "s"), DecodeError);
  EXPECT_THROW(decode_jetstream_event(R"({"did":"did:plc:a")", "s"), DecodeError);
}

// ---- decompression --------------------------------------------------------------

TEST(JetstreamDecompressor, TrainedDictionaryRoundTrip) {
  const auto events = make_events(600);
  const auto dict = train_dictionary(events);
  JetstreamDecompressor d(dict);
  EXPECT_TRUE(d.has_dictionary());
  std::size_t raw = 0, packed = 0;
  for (const auto& e : events) {
    const std::string z = compress(e, &dict);
    raw += e.size();
    packed += z.size();
    EXPECT_EQ(d.decompress(bytes_of(z), 1 << 20), e);
  }
  EXPECT_LT(packed * 2, raw);  // the dictionary earns its keep on small events
  // Without the dictionary the frames cannot be read.
  JetstreamDecompressor plain;
  EXPECT_THROW(plain.decompress(bytes_of(compress(events[0], &dict)), 1 << 20), DecodeError);
}

TEST(JetstreamDecompressor, PlainFramesWithoutDictionary) {
  JetstreamDecompressor d;
  EXPECT_FALSE(d.has_dictionary());
  const std::string text = make_events(1)[0];
  EXPECT_EQ(d.decompress(bytes_of(compress(text, nullptr)), 1 << 20), text);
  // Empty content is a valid frame.
  EXPECT_EQ(d.decompress(bytes_of(compress("", nullptr)), 10), "");
}

TEST(JetstreamDecompressor, OversizeCorruptTruncated) {
  JetstreamDecompressor d;
  const std::string big(1 << 20, 'x');  // compresses to a few hundred bytes
  const std::string z = compress(big, nullptr);
  try {
    d.decompress(bytes_of(z), 64 * 1024);
    ADD_FAILURE() << "no error";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds 65536 bytes"), std::string::npos) << e.what();
  }
  EXPECT_EQ(d.decompress(bytes_of(z), big.size()).size(), big.size());  // exactly at the limit
  EXPECT_THROW(d.decompress(bytes_of("{\"did\":1}"), 1 << 20), DecodeError);
  EXPECT_THROW(d.decompress(bytes_of(std::string_view(z).substr(0, z.size() / 2)), 2 << 20), DecodeError);
  EXPECT_THROW(d.decompress({}, 10), DecodeError);
  // Still usable after errors.
  EXPECT_EQ(d.decompress(bytes_of(compress("ok", nullptr)), 10), "ok");
  EXPECT_THROW(JetstreamDecompressor::from_file("/nonexistent/zdict"), InvalidArgument);
}

// The real Jetstream v1 dictionary and events, when the reference data is
// present next to the repository (never copied into it).
TEST(JetstreamReference, GoldenEventsWithRealDictionary) {
  const std::filesystem::path dir =
      std::filesystem::path(ATDATA_TEST_DATA_DIR) / ".." / ".." / ".." / "shared" / "reference" / "jetstream";
  if (!std::filesystem::exists(dir / "golden_v1.jsonl") ||
      !std::filesystem::exists(dir / "legacy_subscribe.zdict"))
    GTEST_SKIP() << "no Jetstream reference data at " << dir;
  JetstreamDecompressor d = JetstreamDecompressor::from_file((dir / "legacy_subscribe.zdict").string());
  std::ifstream dict_in(dir / "legacy_subscribe.zdict", std::ios::binary);
  std::string dict_text((std::istreambuf_iterator<char>(dict_in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> dict(dict_text.size());
  std::memcpy(dict.data(), dict_text.data(), dict.size());
  std::ifstream in(dir / "golden_v1.jsonl");
  std::string line;
  std::size_t n = 0, commits = 0, identities = 0, accounts = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++n;
    RepoEvent ev = decode_jetstream_event(line, "golden");
    EXPECT_GT(ev.cursor, 0);
    EXPECT_EQ(ev.did.rfind("did:", 0), 0u);
    commits += ev.kind == RepoEvent::Kind::commit;
    identities += ev.kind == RepoEvent::Kind::identity;
    accounts += ev.kind == RepoEvent::Kind::account;
    const std::string back = d.decompress(bytes_of(compress(line, &dict)), 1 << 20);
    EXPECT_EQ(back, line);
  }
  EXPECT_EQ(n, 10u);
  EXPECT_GE(commits, 1u);
  EXPECT_GE(identities, 1u);
  EXPECT_GE(accounts, 1u);
}

// ---- backoff ----------------------------------------------------------------------

TEST(Backoff, CappedExponentialWithHalfJitter) {
  using atdata::atproto::detail::backoff_delay;
  EXPECT_EQ(backoff_delay(250ms, 30s, 0, 1.0), 250ms);
  EXPECT_EQ(backoff_delay(250ms, 30s, 0, 0.0), 125ms);
  EXPECT_EQ(backoff_delay(250ms, 30s, 3, 1.0), 2000ms);
  EXPECT_EQ(backoff_delay(250ms, 30s, 20, 1.0), 30s);
  EXPECT_EQ(backoff_delay(250ms, 30s, 200, 0.0), 15s);
  EXPECT_EQ(backoff_delay(250ms, 30s, 2, 0.5), 750ms);
  atdata::atproto::detail::Backoff b(100ms, 1s);
  for (int i = 0; i < 10; ++i) {
    const auto d = b.next();
    EXPECT_GE(d, 50ms);
    EXPECT_LE(d, 1s);
  }
  b.reset();
  EXPECT_LE(b.next(), 100ms);
}

TEST(JetstreamConfigTest, SubscribeUrlAndValidation) {
  asio::io_context ioc;
  auto q = std::make_shared<RepoEventQueue>(ioc.get_executor(), 4);
  JetstreamConfig c;
  c.url = "ws://127.0.0.1:1/subscribe";
  c.wanted_collections = {"app.bsky.feed.post", "ac.foundation.*"};
  c.wanted_dids = {"did:plc:abc"};
  c.compress = true;
  c.rewind = 2000us;
  Jetstream js(ioc.get_executor(), c, q);
  EXPECT_EQ(
      js.subscribe_url(std::nullopt),
      "ws://127.0.0.1:1/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=ac.foundation.*"
      "&wantedDids=did:plc:abc&compress=true");
  EXPECT_EQ(
      js.subscribe_url(10'000),
      "ws://127.0.0.1:1/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=ac.foundation.*"
      "&wantedDids=did:plc:abc&cursor=8000&compress=true");
  EXPECT_FALSE(js.cursor().has_value());
  JetstreamConfig bad = c;
  bad.url = "ftp://x/";
  EXPECT_THROW(Jetstream(ioc.get_executor(), bad, q), InvalidArgument);
  bad = c;
  bad.reconnect_max = 1ms;
  EXPECT_THROW(Jetstream(ioc.get_executor(), bad, q), InvalidArgument);
  EXPECT_THROW(Jetstream(ioc.get_executor(), c, nullptr), InvalidArgument);
}

// ---- run loop against a replay server ---------------------------------------------

std::optional<std::int64_t> query_int(const std::string& target, std::string_view key) {
  const std::string k = std::string(key) + "=";
  auto p = target.find(k);
  if (p == std::string::npos) return std::nullopt;
  std::int64_t v = 0;
  const char* b = target.data() + p + k.size();
  std::from_chars(b, target.data() + target.size(), v);
  return v;
}

std::int64_t time_us_of(const std::string& e) {
  return json::parse(e).at("time_us").as_int64();
}

// Replays `events` from ?cursor= (inclusive, like a real server: events
// at or after it), compressed when ?compress=true. `drop_after[i]`: the i-th
// connection is dropped after that many messages.
struct Replay {
  std::vector<std::string> events;
  std::vector<std::byte> dict;
  std::vector<std::size_t> drop_after;
  std::vector<std::string> inject;  // sent first on the first connection (bad messages)

  asio::awaitable<void> serve(WsServerConnection& c) {
    const std::string target = c.target();
    const auto cursor = query_int(target, "cursor");
    const bool z = target.find("compress=true") != std::string::npos;
    std::size_t sent = 0;
    const std::size_t limit = c.index() < drop_after.size() ? drop_after[c.index()] : SIZE_MAX;
    if (c.index() == 0)
      for (const auto& m : inject) co_await c.send_text(m);
    for (const auto& e : events) {
      if (cursor && time_us_of(e) < *cursor) continue;
      if (sent == limit) {
        // A FIN after messages (they all arrive), a reset when none was sent.
        c.drop(sent == 0);
        co_return;
      }
      if (z) {
        co_await c.send_binary(compress(e, &dict));
      } else {
        co_await c.send_text(e);
      }
      ++sent;
    }
    co_await c.wait_closed();
  }
};

bool same_event(const RepoEvent& a, const RepoEvent& b) {
  if (a.kind != b.kind || a.cursor != b.cursor || a.did != b.did || a.rev != b.rev || a.time != b.time ||
      a.handle != b.handle || a.active != b.active || a.status != b.status ||
      a.changes.size() != b.changes.size())
    return false;
  for (std::size_t i = 0; i < a.changes.size(); ++i) {
    const auto &x = a.changes[i], &y = b.changes[i];
    if (x.action != y.action || x.collection != y.collection || x.rkey != y.rkey || x.cid != y.cid ||
        x.record != y.record)
      return false;
  }
  return true;
}

class JetstreamRun : public ::testing::Test {
 protected:
  asio::io_context ioc;
  std::shared_ptr<RepoEventQueue> queue = std::make_shared<RepoEventQueue>(ioc.get_executor(), 4);

  JetstreamConfig config(const std::string& url) {
    JetstreamConfig c;
    c.url = url;
    c.reconnect_initial = 5ms;
    c.reconnect_max = 20ms;
    c.rewind = 2500us;
    c.websocket.connect_timeout = 2000ms;
    c.websocket.read_timeout = 3000ms;
    c.websocket.ping_interval = 0ms;
    return c;
  }

  // Runs the client until `n` events were popped, then cancels it.
  std::vector<RepoEvent> collect(Jetstream& js, std::size_t n) {
    using namespace asio::experimental::awaitable_operators;
    std::vector<RepoEvent> got;
    run_io(ioc, [&]() -> asio::awaitable<void> {
      auto consume = [&]() -> asio::awaitable<void> {
        while (got.size() < n) {
          std::optional<RepoEvent> ev = co_await queue->pop();
          if (!ev) break;
          got.push_back(std::move(*ev));
        }
        js.cancel();
      };
      co_await (js.run() && consume());
    }());
    return got;
  }
};

TEST_F(JetstreamRun, CompressedAndPlainReplayGiveSameEvents) {
  Replay r;
  r.events = make_events(40);
  r.dict = train_dictionary(make_events(400, 5'000'000));
  WsServer srv(ioc, [&](WsServerConnection& c) { return r.serve(c); });
  JetstreamConfig plain = config(srv.url("/subscribe"));
  plain.wanted_collections = {"app.bsky.feed.post", "app.bsky.*"};
  Jetstream a(ioc.get_executor(), plain, queue);
  std::vector<RepoEvent> ea = collect(a, r.events.size());
  JetstreamConfig packed = plain;
  packed.compress = true;
  packed.dictionary = r.dict;
  Jetstream b(ioc.get_executor(), packed, queue);
  std::vector<RepoEvent> eb = collect(b, r.events.size());
  ASSERT_EQ(ea.size(), r.events.size());
  ASSERT_EQ(eb.size(), r.events.size());
  for (std::size_t i = 0; i < ea.size(); ++i) {
    EXPECT_TRUE(same_event(ea[i], eb[i])) << i;
    EXPECT_TRUE(same_event(ea[i], decode_jetstream_event(r.events[i], "x"))) << i;
  }
  EXPECT_EQ(a.stats().events, r.events.size());
  EXPECT_EQ(b.stats().events, r.events.size());
  EXPECT_EQ(a.cursor(), time_us_of(r.events.back()));
  const auto targets = srv.targets();
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_EQ(targets[0], "/subscribe?wantedCollections=app.bsky.feed.post&wantedCollections=app.bsky.*");
  EXPECT_NE(targets[1].find("compress=true"), std::string::npos);
  EXPECT_GT(b.stats().bytes * 2, 0u);
  EXPECT_LT(b.stats().bytes, a.stats().bytes);
}

TEST_F(JetstreamRun, DropsMidReplayDeliverEachEventOnceInOrder) {
  Replay r;
  r.events = make_events(30);
  r.drop_after = {7, 5, 0, 9};  // the third connection fails before any event
  WsServer srv(ioc, [&](WsServerConnection& c) { return r.serve(c); });
  JetstreamConfig c = config(srv.url("/subscribe"));
  c.cursor = time_us_of(r.events[2]);  // resume after the third event
  Jetstream js(ioc.get_executor(), c, queue);
  std::vector<RepoEvent> got = collect(js, r.events.size() - 3);
  ASSERT_EQ(got.size(), r.events.size() - 3);
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].cursor, time_us_of(r.events[i + 3])) << i;
  const JetstreamStats st = js.stats();
  EXPECT_EQ(st.events, got.size());
  EXPECT_GE(st.reconnects, 4u);
  EXPECT_GT(st.duplicates, 0u);  // the rewind overlap, dropped
  const auto targets = srv.targets();
  ASSERT_GE(targets.size(), 5u);
  // First: cursor minus rewind; later ones: the last delivered minus rewind.
  EXPECT_EQ(query_int(targets[0], "cursor"), time_us_of(r.events[2]) - 2500);
  // conn 0 sends events 0..6 (0..2 are duplicates), conn 1 4..8, conn 2
  // none, conn 3 6..14, conn 4 12..29.
  EXPECT_EQ(query_int(targets[1], "cursor"), time_us_of(r.events[6]) - 2500);
  EXPECT_EQ(query_int(targets[2], "cursor"), time_us_of(r.events[8]) - 2500);
  EXPECT_EQ(query_int(targets[3], "cursor"), time_us_of(r.events[8]) - 2500);
  EXPECT_EQ(query_int(targets[4], "cursor"), time_us_of(r.events[14]) - 2500);
  EXPECT_EQ(st.duplicates, 12u);
  EXPECT_EQ(js.cursor(), time_us_of(r.events.back()));
}

TEST_F(JetstreamRun, BadMessageIsRejectedAndLoopContinues) {
  Replay r;
  r.events = make_events(5);
  r.inject = {"not json", R"({"did":"did:plc:a","time_us":1,"kind":"bogus"})"};
  WsServer srv(ioc, [&](WsServerConnection& c) { return r.serve(c); });
  Jetstream js(ioc.get_executor(), config(srv.url("/subscribe")), queue);
  std::vector<RepoEvent> got = collect(js, 7);
  ASSERT_EQ(got.size(), 7u);
  EXPECT_EQ(got[0].kind, RepoEvent::Kind::rejected);
  EXPECT_EQ(got[0].error_check, "decode");
  EXPECT_NE(got[0].message.find("invalid JSON"), std::string::npos) << got[0].message;
  EXPECT_EQ(got[1].kind, RepoEvent::Kind::rejected);
  EXPECT_NE(got[1].message.find("kind"), std::string::npos) << got[1].message;
  for (std::size_t i = 2; i < 7; ++i) EXPECT_EQ(got[i].cursor, time_us_of(r.events[i - 2]));
  EXPECT_EQ(js.stats().rejected, 2u);
  EXPECT_EQ(js.stats().events, 5u);
  EXPECT_EQ(srv.connections(), 1u);
}

TEST(JetstreamOptions, OptionsUpdateMessage) {
  const std::string m = make_jetstream_options_update({"app.bsky.feed.post", "ac.*"}, {"did:plc:a"}, 1000);
  const json::value v = json::parse(m);
  EXPECT_EQ(v.at("type").as_string(), "options_update");
  const json::object& p = v.at("payload").as_object();
  ASSERT_EQ(p.at("wantedCollections").as_array().size(), 2u);
  EXPECT_EQ(p.at("wantedCollections").as_array()[1].as_string(), "ac.*");
  EXPECT_EQ(p.at("wantedDids").as_array()[0].as_string(), "did:plc:a");
  EXPECT_EQ(p.at("maxMessageSizeBytes").as_int64(), 1000);
  EXPECT_FALSE(json::parse(make_jetstream_options_update({}, {}))
                   .at("payload")
                   .as_object()
                   .contains("maxMessageSizeBytes"));
}

TEST_F(JetstreamRun, UpdateFiltersSendsOptionsAndAppliesOnReconnect) {
  const auto events = make_events(2);
  std::optional<std::string> update;
  WsServer srv(ioc, [&](WsServerConnection& c) -> asio::awaitable<void> {
    co_await c.send_text(events[c.index() == 0 ? 0 : 1]);
    if (c.index() == 0) {
      update = co_await c.read_text();
      c.drop(false);
      co_return;
    }
    co_await c.wait_closed();
  });
  JetstreamConfig cfg = config(srv.url("/subscribe"));
  cfg.wanted_collections = {"app.bsky.feed.post"};
  Jetstream js(ioc.get_executor(), cfg, queue);
  std::vector<RepoEvent> got;
  run_io(ioc, [&]() -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    auto consume = [&]() -> asio::awaitable<void> {
      std::optional<RepoEvent> first = co_await queue->pop();
      if (first) got.push_back(std::move(*first));
      std::vector<std::string> cols{"ac.foundation.*"};
      std::vector<std::string> dids{"did:plc:x"};
      co_await js.update_filters(cols, dids);
      std::optional<RepoEvent> second = co_await queue->pop();
      if (second) got.push_back(std::move(*second));
      js.cancel();
    };
    co_await (js.run() && consume());
  }());
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(*update, make_jetstream_options_update({"ac.foundation.*"}, {"did:plc:x"}));
  const auto targets = srv.targets();
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_NE(targets[0].find("wantedCollections=app.bsky.feed.post"), std::string::npos) << targets[0];
  EXPECT_NE(targets[1].find("wantedCollections=ac.foundation.*&wantedDids=did:plc:x&cursor="),
            std::string::npos)
      << targets[1];
}

TEST_F(JetstreamRun, CancelEndsRunWhileReadingAndWhileBackingOff) {
  using namespace asio::experimental::awaitable_operators;
  WsServer srv(ioc, [](WsServerConnection& c) -> asio::awaitable<void> { co_await c.wait_closed(); });
  {
    Jetstream js(ioc.get_executor(), config(srv.url("/subscribe")), queue);
    run_io(ioc, [&]() -> asio::awaitable<void> {
      auto stop = [&]() -> asio::awaitable<void> {
        // Until the server has the connection: run() is then in read().
        while (srv.connections() == 0) co_await asio::post(ioc, asio::use_awaitable);
        for (int i = 0; i < 3; ++i) co_await asio::post(ioc, asio::use_awaitable);
        js.cancel();
      };
      co_await (js.run() && stop());
    }());
    EXPECT_EQ(js.stats().reconnects, 0u);
  }
  WsServer refusing(ioc, [](WsServerConnection&) -> asio::awaitable<void> { co_return; });
  refusing.reject_with(503, "busy");
  JetstreamConfig c = config(refusing.url("/subscribe"));
  c.reconnect_initial = 10s;  // cancel must cut the wait short
  c.reconnect_max = 10s;
  Jetstream js(ioc.get_executor(), c, queue);
  const auto t0 = std::chrono::steady_clock::now();
  run_io(ioc, [&]() -> asio::awaitable<void> {
    auto stop = [&]() -> asio::awaitable<void> {
      while (js.stats().reconnects == 0) co_await asio::post(ioc, asio::use_awaitable);
      js.cancel();
    };
    co_await (js.run() && stop());
  }());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_NE(js.last_error().find("HTTP 503"), std::string::npos) << js.last_error();
}

}  // namespace
