// The firehose subscriber: its frame translation alone (from the captured
// frames of the official PDS, and tampered copies), then its run loop against
// a scripted loopback WebSocket server: replay honouring ?cursor=, drops,
// error frames, bad frames, timeouts, several hosts, cancellation.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <deque>
#include <fstream>
#include <map>
#include <set>

#include "../../src/atproto/detail/firehose_translate.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/event_queue.hpp"
#include "atdata/atproto/firehose.hpp"
#include "atdata/error.hpp"
#include "atproto/firehose_fixtures.hpp"
#include "net/mock_server.hpp"
#include "support/ws_server.hpp"

namespace atdata::atproto {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using detail::FirehoseTranslator;
using detail::FrameOutcome;
using test::WsServer;
using test::WsServerConnection;

const std::string kAlice = "did:plc:7tgzjy4e57zsigdlaf226lra";
const std::string kBob = "did:plc:3bpd2lng3mbuxhxpxiwisjpj";

struct Frames {
  std::vector<std::vector<std::byte>> seq;  // frame-000 … frame-023: seq 1 … 24
  std::vector<std::byte> outdated, future;
  Frames() {
    for (const auto& p : test::frame_files()) {
      const auto name = p.filename().string();
      if (name.rfind("frame-", 0) == 0) seq.push_back(test::read_bytes(p));
    }
    outdated = test::read_bytes(test::firehose_dir() / "info-outdatedcursor.bin");
    future = test::read_bytes(test::firehose_dir() / "error-futurecursor.bin");
  }
};
const Frames& frames() {
  static const Frames f;
  return f;
}

const std::map<std::string, PublicKey>& keys() {
  static const auto k = test::fixture_keys();
  return k;
}

FirehoseTranslator::KeyLookup fixture_lookup() {
  return [](std::string_view did) -> const PublicKey* {
    auto it = keys().find(std::string(did));
    return it == keys().end() ? nullptr : &it->second;
  };
}

FirehoseTranslator translator(std::vector<std::string> collections = {}, bool verify = true) {
  return FirehoseTranslator("ws://host", std::move(collections), verify, VerifierOptions(), 8u << 20);
}

std::vector<std::byte> error_frame(std::string_view error, std::string_view message) {
  auto out = dag_cbor_encode(DagCborValue::make_map({"op"}, {DagCborValue::make_int(-1)}));
  dag_cbor_encode(DagCborValue::make_map({"error", "message"},
                                         {DagCborValue::make_text(error), DagCborValue::make_text(message)}),
                  out);
  return out;
}

// ---- translation alone ----------------------------------------------------------

TEST(FirehoseTranslate, CapturedFramesBecomeEvents) {
  const auto t = translator();
  const auto types = test::index_types();
  std::size_t changes = 0;
  for (std::size_t i = 0; i < frames().seq.size(); ++i) {
    const FrameOutcome o = t.translate(frames().seq[i], fixture_lookup());
    ASSERT_EQ(o.kind, FrameOutcome::Kind::deliver) << i;
    ASSERT_EQ(o.seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(o.event.cursor, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(o.event.source, "ws://host");
    EXPECT_NE(o.event.kind, RepoEvent::Kind::rejected) << i << ": " << o.event.message;
    changes += o.event.changes.size();
  }
  EXPECT_EQ(changes, 19u);  // INDEX.tsv: the ops of every #commit

  // frame-011: one applyWrites commit with five ops, in order.
  const FrameOutcome multi = t.translate(frames().seq[11], fixture_lookup());
  ASSERT_EQ(multi.event.changes.size(), 5u);
  EXPECT_EQ(multi.event.did, kAlice);
  EXPECT_EQ(multi.event.changes[0].rkey, "batch-a");
  EXPECT_EQ(multi.event.changes[3].action, RepoOp::Action::update);
  EXPECT_EQ(multi.event.changes[4].action, RepoOp::Action::remove);
  EXPECT_TRUE(multi.event.changes[4].cid.empty());
  EXPECT_TRUE(multi.event.changes[4].record.empty());
  const auto& created = multi.event.changes[0];
  EXPECT_EQ(created.collection, "ac.foundation.dataset.record");
  EXPECT_TRUE(created.cid.starts_with("bafyrei")) << created.cid;
  EXPECT_EQ(created.record.at("$type").as_string(), "ac.foundation.dataset.record");
  // The record's CID is the hash of its canonical encoding.
  const auto bytes = dag_cbor_encode_json(boost::json::value(created.record));
  EXPECT_EQ(cid_v1_sha256(0x71, sha256(bytes)), created.cid);

  const FrameOutcome id = t.translate(frames().seq[19], fixture_lookup());
  EXPECT_EQ(id.event.kind, RepoEvent::Kind::identity);
  EXPECT_EQ(id.event.handle, "bobby.test");
  const FrameOutcome acct = t.translate(frames().seq[1], fixture_lookup());
  EXPECT_EQ(acct.event.kind, RepoEvent::Kind::account);
  EXPECT_TRUE(acct.event.active);
  EXPECT_EQ(t.translate(frames().seq[3], fixture_lookup()).event.kind, RepoEvent::Kind::sync);
  const FrameOutcome info = t.translate(frames().outdated, fixture_lookup());
  EXPECT_EQ(info.event.kind, RepoEvent::Kind::info);
  EXPECT_EQ(info.event.info_name, "OutdatedCursor");
}

TEST(FirehoseTranslate, FilteredCommitsNeedNoKeyAndCarryNoChanges) {
  const auto t = translator({"app.bsky.*"});
  const auto none = [](std::string_view) -> const PublicKey* { return nullptr; };
  const FrameOutcome o = t.translate(frames().seq[11], none);
  ASSERT_EQ(o.kind, FrameOutcome::Kind::deliver);
  EXPECT_EQ(o.event.kind, RepoEvent::Kind::commit);
  EXPECT_TRUE(o.event.changes.empty());
  EXPECT_EQ(o.event.cursor, 12);
  // Wanted collections without a key: the loop must fetch one first.
  const auto wanted = translator({"ac.foundation.dataset.*"});
  const FrameOutcome k = wanted.translate(frames().seq[11], none);
  EXPECT_EQ(k.kind, FrameOutcome::Kind::need_key);
  EXPECT_EQ(k.did, kAlice);
  // A frame resent after a reconnect is skipped before it is verified (no key asked for).
  EXPECT_EQ(wanted.translate(frames().seq[11], none, 12).kind, FrameOutcome::Kind::skip);
  EXPECT_EQ(wanted.translate(frames().seq[11], none, 11).kind, FrameOutcome::Kind::need_key);
  // Trusting the host: no key needed, same changes.
  const FrameOutcome trusted = translator({}, false).translate(frames().seq[11], none);
  EXPECT_EQ(trusted.event.changes.size(), 5u);
  EXPECT_TRUE(detail::collection_matches({"ac.foundation.dataset.*"}, "ac.foundation.dataset.record"));
  EXPECT_FALSE(detail::collection_matches({"ac.foundation.dataset.*"}, "ac.foundation.datasetx"));
  EXPECT_TRUE(detail::collection_matches({"a.b.c"}, "a.b.c"));
  EXPECT_FALSE(detail::collection_matches({"a.b.c"}, "a.b.cd"));
}

// Frames a hostile or broken host could send: each one is a rejected event
// (with the check that failed), never an applied change.
std::vector<std::byte> with_block_flipped(const std::vector<std::byte>& frame) {
  const EventFrame f = decode_event_frame(frame);
  const auto& c = std::get<CommitEvent>(f.event);
  CarReader reader(c.blocks);
  auto blocks = reader.blocks();
  auto& last = blocks.back();  // a record or tree node, not the header
  std::vector<std::byte> data(last.data.begin(), last.data.end());
  data[data.size() / 2] ^= std::byte{1};
  std::vector<CarBlock> copy = blocks;
  copy.back().data = data;
  const auto car = test::car_of(reader.roots().front(), copy);
  return test::with_field(frame, "blocks", DagCborValue::make_bytes(car));
}

std::vector<std::byte> with_tree_node_missing(const std::vector<std::byte>& frame) {
  const EventFrame f = decode_event_frame(frame);
  const auto& c = std::get<CommitEvent>(f.event);
  CarReader reader(c.blocks);
  auto blocks = reader.blocks();
  std::vector<CarBlock> kept;
  bool dropped = false;
  for (const auto& b : blocks) {
    const bool is_commit = std::equal(b.cid.begin(), b.cid.end(), c.commit.begin(), c.commit.end());
    const bool is_record = std::any_of(c.ops.begin(), c.ops.end(), [&](const RepoOp& op) {
      return std::equal(b.cid.begin(), b.cid.end(), op.cid.begin(), op.cid.end());
    });
    if (!dropped && !is_commit && !is_record) {
      dropped = true;  // the first tree node
      continue;
    }
    kept.push_back(b);
  }
  EXPECT_TRUE(dropped);
  const auto car = test::car_of(reader.roots().front(), kept);
  return test::with_field(frame, "blocks", DagCborValue::make_bytes(car));
}

TEST(FirehoseTranslate, BadFramesAreRejectedWithTheFailedCheck) {
  const auto t = translator();
  const auto wrong_key = [](std::string_view) -> const PublicKey* { return &keys().at(kBob); };
  const auto check_of = [&](const std::vector<std::byte>& f, const FirehoseTranslator::KeyLookup& k) {
    const FrameOutcome o = t.translate(f, k);
    EXPECT_EQ(o.kind, FrameOutcome::Kind::deliver);
    EXPECT_EQ(o.event.kind, RepoEvent::Kind::rejected);
    EXPECT_TRUE(o.event.changes.empty());
    EXPECT_FALSE(o.event.message.empty());
    return o.event.error_check;
  };
  EXPECT_EQ(check_of(frames().seq[4], wrong_key), "signature");
  EXPECT_EQ(check_of(with_block_flipped(frames().seq[7]), fixture_lookup()), "block_cid");
  const std::string tree = check_of(with_tree_node_missing(frames().seq[11]), fixture_lookup());
  EXPECT_TRUE(tree == "block_missing" || tree == "mst_proof" || tree == "mst") << tree;
  std::vector<std::byte> garbage(frames().seq[5].begin(), frames().seq[5].begin() + 40);
  EXPECT_EQ(check_of(garbage, fixture_lookup()), "decode");
  const FirehoseTranslator small("ws://host", {}, true, VerifierOptions(), 1000);
  const FrameOutcome big = small.translate(frames().seq[13], fixture_lookup());
  EXPECT_EQ(big.event.kind, RepoEvent::Kind::rejected);
  EXPECT_EQ(big.event.error_check, "size");
  // The seq of a rejected commit is known: the cursor moves past it.
  EXPECT_EQ(t.translate(frames().seq[4], wrong_key).seq, 5);

  const FrameOutcome fut = t.translate(frames().future, fixture_lookup());
  EXPECT_EQ(fut.kind, FrameOutcome::Kind::fatal);
  EXPECT_EQ(fut.error_name, "FutureCursor");
  const FrameOutcome slow =
      t.translate(error_frame("ConsumerTooSlow", "Stream consumer too slow"), fixture_lookup());
  EXPECT_EQ(slow.kind, FrameOutcome::Kind::reconnect);
  EXPECT_EQ(slow.event.info_name, "ConsumerTooSlow");
}

// A #commit whose blocks are `blocks` bytes of filler: far larger than any
// limit under test, and undecodable past its first bytes.
std::vector<std::byte> huge_commit(std::int64_t seq, std::size_t blocks) {
  auto out = dag_cbor_encode(
      DagCborValue::make_map({"op", "t"}, {DagCborValue::make_int(1), DagCborValue::make_text("#commit")}));
  const std::vector<std::byte> filler(blocks, std::byte{0x5a});
  // Keys in DAG-CBOR order (shortest first): seq and repo before blocks.
  dag_cbor_encode(DagCborValue::make_map({"ops", "rev", "seq", "repo", "blocks"},
                                         {DagCborValue::make_list({}), DagCborValue::make_text("3kabc"),
                                          DagCborValue::make_int(seq), DagCborValue::make_text(kBob),
                                          DagCborValue::make_bytes(filler)}),
                  out);
  return out;
}

TEST(FirehoseTranslate, PeekFindsTheSeqInAnyPrefixThatHoldsIt) {
  for (std::size_t i = 0; i < frames().seq.size(); ++i) {
    const auto& f = frames().seq[i];
    const auto whole = detail::peek_frame(f);
    ASSERT_EQ(whole.seq, static_cast<std::int64_t>(i + 1)) << "frame " << i;
    EXPECT_FALSE(whole.did.empty());
    EXPECT_FALSE(whole.type.empty());
    // Every prefix: either the right seq or none, never a wrong one.
    std::size_t shortest = f.size();
    for (std::size_t n = 0; n <= f.size(); ++n) {
      const auto p = detail::peek_frame(std::span(f).first(n));
      if (p.seq) {
        ASSERT_EQ(*p.seq, whole.seq) << "frame " << i << " prefix " << n;
        shortest = std::min(shortest, n);
      }
    }
    // The seq sits before the blocks, after the ops (~120 bytes each).
    EXPECT_LT(shortest, 1024u) << "frame " << i;
  }
  const auto big = huge_commit(77, 1u << 20);
  const auto p = detail::peek_frame(std::span(big).first(200));
  EXPECT_EQ(p.seq, 77);
  EXPECT_EQ(p.did, kBob);
  EXPECT_EQ(p.type, "#commit");
  EXPECT_FALSE(detail::peek_frame(error_frame("FutureCursor", "x")).seq);
  // Garbage and hostile heads: no seq, no crash, no read past the end.
  std::vector<std::byte> deep(5000, std::byte{0x81});  // nested one-element lists
  EXPECT_FALSE(detail::peek_frame(deep).seq);
  const std::vector<std::byte> long_text{std::byte{0xa1}, std::byte{0x7b}, std::byte{0xff}, std::byte{0xff},
                                         std::byte{0xff}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff},
                                         std::byte{0xff}, std::byte{0xff}};
  EXPECT_FALSE(detail::peek_frame(long_text).seq);

  const FirehoseTranslator t = translator();
  const FrameOutcome o = t.oversized(std::span(big).first(4096), big.size());
  EXPECT_EQ(o.kind, FrameOutcome::Kind::deliver);
  EXPECT_EQ(o.event.kind, RepoEvent::Kind::rejected);
  EXPECT_EQ(o.event.error_check, "size");
  EXPECT_EQ(o.seq, 77);
  EXPECT_EQ(o.event.cursor, 77);
  EXPECT_EQ(o.event.did, kBob);
  EXPECT_NE(o.event.message.find(std::to_string(big.size())), std::string::npos) << o.event.message;
  EXPECT_EQ(t.oversized(std::span(big).first(4096), big.size(), 77).kind, FrameOutcome::Kind::skip);
}

// Commits with no op in the wanted collections take a short path (no value
// tree): the same cursor-only event as the full decode gives.
TEST(FirehoseTranslate, UnwantedCommitsGiveTheSameCursorOnlyEvent) {
  const FirehoseTranslator other = translator({"app.bsky.*"});
  std::size_t commits = 0;
  for (const auto& f : frames().seq) {
    const EventFrame decoded = decode_event_frame(f);
    const auto* c = std::get_if<CommitEvent>(&decoded.event);
    if (!c) continue;
    ++commits;
    const FrameOutcome o = other.translate(f, fixture_lookup());
    EXPECT_EQ(o.kind, FrameOutcome::Kind::deliver);
    EXPECT_EQ(o.event.kind, RepoEvent::Kind::commit);
    EXPECT_EQ(o.seq, c->seq);
    EXPECT_EQ(o.event.cursor, c->seq);
    EXPECT_EQ(o.event.did, c->repo);
    EXPECT_EQ(o.event.rev, c->rev);
    EXPECT_EQ(o.event.time, c->time);
    EXPECT_TRUE(o.event.changes.empty());
    EXPECT_EQ(other.translate(f, fixture_lookup(), c->seq).kind, FrameOutcome::Kind::skip);
  }
  EXPECT_GE(commits, 15u);
  // Cut short anywhere: never a wrong event.
  const auto& f = frames().seq[11];
  for (std::size_t n = 0; n < f.size(); n += 7) {
    const FrameOutcome o = other.translate(std::span(f).first(n), fixture_lookup());
    EXPECT_EQ(o.event.kind, RepoEvent::Kind::rejected) << n;
  }
}

// ---- the run loop ------------------------------------------------------------------

std::int64_t cursor_of(const std::string& target) {
  const auto at = target.find("cursor=");
  return at == std::string::npos ? -1 : std::stoll(target.substr(at + 7));
}

// Replays frames with seq > cursor (all when there is none).
asio::awaitable<void> replay(WsServerConnection& c, std::size_t limit = SIZE_MAX) {
  const std::int64_t cursor = cursor_of(c.target());
  std::size_t sent = 0;
  for (std::size_t i = 0; i < frames().seq.size() && sent < limit; ++i) {
    if (static_cast<std::int64_t>(i + 1) <= cursor) continue;
    co_await c.send_binary(frames().seq[i]);
    ++sent;
  }
}

struct Rig {
  asio::io_context io;
  std::shared_ptr<RepoEventQueue> queue = std::make_shared<RepoEventQueue>(io.get_executor(), 8);
  std::vector<RepoEvent> got;
  std::vector<FirehoseStatus> statuses;

  FirehoseConfig config(const std::string& url) {
    FirehoseConfig c;
    c.host = url;
    c.cursor = 0;
    c.reconnect_initial = 5ms;
    c.reconnect_max = 20ms;
    c.websocket.read_timeout = 2000ms;
    c.on_status = [this](const FirehoseStatus& s) { statuses.push_back(s); };
    return c;
  }
  std::shared_ptr<IdentityResolver> unreachable_identity() {
    IdentityOptions o;
    o.plc_url = "http://127.0.0.1:1";
    return std::make_shared<IdentityResolver>(std::make_shared<net::HttpClient>(io.get_executor()), o);
  }
  std::unique_ptr<Firehose> firehose(FirehoseConfig c) {
    auto f = std::make_unique<Firehose>(io.get_executor(), std::move(c), queue, unreachable_identity());
    for (const auto& [did, k] : keys()) f->add_key(did, k);
    return f;
  }
  // Runs `f` until the consumer has `n` events with a cursor (or 5 s), then
  // cancels it; returns run()'s exception, if any.
  std::exception_ptr run(Firehose& f, std::size_t n, std::vector<Firehose*> more = {}) {
    std::exception_ptr error;
    std::size_t running = 1 + more.size();
    asio::co_spawn(io, f.run(), [&](std::exception_ptr e) {
      if (e) error = e;
      --running;
    });
    for (auto* m : more) asio::co_spawn(io, m->run(), [&](std::exception_ptr) { --running; });
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          while (auto ev = co_await queue->pop()) {
            got.push_back(std::move(*ev));
            std::size_t with_cursor = 0;
            for (const auto& e : got) with_cursor += e.cursor > 0;
            if (with_cursor >= n) break;
          }
          f.cancel();
          for (auto* m : more) m->cancel();
        },
        asio::detached);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (running > 0 && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
    EXPECT_EQ(running, 0u) << "run() did not end";
    return error;
  }
  std::vector<std::int64_t> seqs() const {
    std::vector<std::int64_t> out;
    for (const auto& e : got)
      if (e.cursor > 0) out.push_back(e.cursor);
    return out;
  }
};

std::vector<std::int64_t> iota(std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> v;
  for (auto i = from; i <= to; ++i) v.push_back(i);
  return v;
}

TEST(FirehoseRun, ReplaysFromTheCursorAndVerifies) {
  Rig r;
  WsServer server(r.io, [](WsServerConnection& c) -> asio::awaitable<void> {
    co_await replay(c);
    co_await c.wait_closed();
  });
  auto cfg = r.config(server.url());
  cfg.cursor = 10;
  auto f = r.firehose(cfg);
  EXPECT_FALSE(r.run(*f, 14));
  EXPECT_EQ(r.seqs(), iota(11, 24));
  ASSERT_FALSE(server.targets().empty());
  EXPECT_EQ(server.targets()[0], "/xrpc/com.atproto.sync.subscribeRepos?cursor=10");
  EXPECT_EQ(f->cursor(), 24);
  EXPECT_EQ(f->stats().rejected, 0u);
  EXPECT_GT(f->stats().verified, 0u);
  ASSERT_FALSE(r.statuses.empty());
  EXPECT_EQ(r.statuses[0].kind, FirehoseStatus::Kind::connected);
  EXPECT_NE(to_string(r.statuses[0]).find("connected"), std::string::npos);
}

TEST(FirehoseRun, DropsMidStreamDeliverEverySeqOnceInOrder) {
  Rig r;
  WsServer server(r.io, [](WsServerConnection& c) -> asio::awaitable<void> {
    // Connections 0-3 send five frames (replaying one the client has, as a
    // host may) and break; the fifth sends the rest.
    if (c.index() < 4) {
      const std::int64_t cursor = cursor_of(c.target());
      if (cursor > 0) co_await c.send_binary(frames().seq[cursor - 1]);
      co_await replay(c, 5);
      c.drop(c.index() % 2 == 0);
      co_return;
    }
    co_await replay(c);
    co_await c.wait_closed();
  });
  auto f = r.firehose(r.config(server.url()));
  EXPECT_FALSE(r.run(*f, 24));
  EXPECT_EQ(r.seqs(), iota(1, 24));
  EXPECT_GE(server.connections(), 5u);
  const auto targets = server.targets();
  EXPECT_EQ(cursor_of(targets[1]), 5);
  EXPECT_EQ(cursor_of(targets[2]), 10);
}

TEST(FirehoseRun, FutureCursorEndsRunWithStreamError) {
  Rig r;
  WsServer server(r.io, [](WsServerConnection& c) -> asio::awaitable<void> {
    co_await c.send_binary(frames().future);
    co_await c.close(1008, "FutureCursor");
  });
  auto cfg = r.config(server.url());
  cfg.cursor = 1000;
  auto f = r.firehose(cfg);
  const auto e = r.run(*f, 1);
  ASSERT_TRUE(e);
  try {
    std::rethrow_exception(e);
  } catch (const StreamError& s) {
    EXPECT_EQ(s.error_name(), "FutureCursor");
    EXPECT_EQ(s.source(), server.url());
  }
  EXPECT_EQ(server.connections(), 1u) << "a future cursor is not retried";
}

TEST(FirehoseRun, ConsumerTooSlowAndOutdatedCursorAreReportedThenTheStreamResumes) {
  Rig r;
  WsServer server(r.io, [](WsServerConnection& c) -> asio::awaitable<void> {
    if (c.index() == 0) {
      co_await c.send_binary(frames().outdated);
      co_await replay(c, 6);
      co_await c.send_binary(error_frame("ConsumerTooSlow", "Stream consumer too slow"));
      co_await c.close(1008, "ConsumerTooSlow");
      co_return;
    }
    co_await replay(c);
    co_await c.wait_closed();
  });
  auto f = r.firehose(r.config(server.url()));
  EXPECT_FALSE(r.run(*f, 24));
  EXPECT_EQ(r.seqs(), iota(1, 24));
  std::vector<std::string> infos;
  for (const auto& e : r.got)
    if (e.kind == RepoEvent::Kind::info) infos.push_back(e.info_name);
  EXPECT_EQ(infos, (std::vector<std::string>{"OutdatedCursor", "ConsumerTooSlow"}));
  EXPECT_EQ(cursor_of(server.targets().at(1)), 6);
}

TEST(FirehoseRun, BadFramesAreReportedNotAppliedAndTheStreamGoesOn) {
  Rig r;
  std::vector<std::vector<std::byte>> script;
  script.push_back(frames().seq[4]);                           // seq 5, good
  script.push_back(with_block_flipped(frames().seq[5]));       // seq 6: bad block CID
  script.push_back(with_tree_node_missing(frames().seq[11]));  // seq 12: tree proof missing
  script.push_back(
      std::vector<std::byte>(frames().seq[6].begin(), frames().seq[6].begin() + 30));  // malformed
  script.push_back(std::vector<std::byte>(3000, std::byte{0xa2}));  // oversized (limit below)
  script.push_back(frames().seq[20]);  // seq 21: bob, signed by alice's key below
  script.push_back(frames().seq[23]);  // seq 24 (alice), good
  WsServer server(r.io, [&](WsServerConnection& c) -> asio::awaitable<void> {
    for (const auto& f : script) co_await c.send_binary(f);
    co_await c.wait_closed();
  });
  auto cfg = r.config(server.url());
  cfg.max_frame_bytes = 2500;  // frames 5-23 used here are smaller
  auto f = r.firehose(cfg);
  f->add_key(kBob, keys().at(kAlice));  // a key that does not verify bob's commits
  r.run(*f, 5);
  ASSERT_GE(r.got.size(), 7u);
  std::vector<std::string> checks;
  for (const auto& e : r.got) checks.push_back(e.kind == RepoEvent::Kind::rejected ? e.error_check : "ok");
  ASSERT_EQ(checks.size(), 7u);
  EXPECT_EQ(checks[0], "ok");
  EXPECT_EQ(checks[1], "block_cid");
  EXPECT_NE(checks[2], "ok");
  EXPECT_EQ(checks[3], "decode");
  EXPECT_EQ(checks[4], "size");
  EXPECT_EQ(checks[5], "signature");  // a pinned key is not replaced
  EXPECT_EQ(checks[6], "ok");
  EXPECT_EQ(r.got[6].cursor, 24);
  for (std::size_t i = 1; i < 6; ++i) EXPECT_TRUE(r.got[i].changes.empty());
  EXPECT_EQ(server.connections(), 1u) << "bad frames must not cost the connection";
}

// A frame far over max_frame_bytes is read only up to the limit, reported
// with its seq, and skipped: the connection stays up, and a reconnect after
// it resumes past it instead of being sent it again and again.
TEST(FirehoseRun, OversizedFrameIsReportedBySeqAndNeverResent) {
  Rig r;
  const auto big = huge_commit(13, 4u << 20);
  WsServer server(r.io, [&](WsServerConnection& c) -> asio::awaitable<void> {
    const std::int64_t cursor = cursor_of(c.target());
    for (std::size_t i = 0; i < frames().seq.size(); ++i) {
      const auto seq = static_cast<std::int64_t>(i + 1);
      if (seq <= cursor) continue;
      co_await c.send_binary(seq == 13 ? big : frames().seq[i]);
      if (seq == 13 && c.index() == 0) {
        c.drop(false);  // a FIN right after the big one: the resume must be past it
        co_return;
      }
    }
    co_await c.wait_closed();
  });
  auto cfg = r.config(server.url());
  cfg.max_frame_bytes = 256 * 1024;  // the captured frames are below 150 KB
  auto f = r.firehose(cfg);
  EXPECT_FALSE(r.run(*f, 24));
  EXPECT_EQ(r.seqs(), iota(1, 24));
  ASSERT_GE(r.got.size(), 13u);
  const RepoEvent& e = r.got[12];
  EXPECT_EQ(e.kind, RepoEvent::Kind::rejected);
  EXPECT_EQ(e.error_check, "size");
  EXPECT_EQ(e.did, kBob);
  EXPECT_EQ(f->stats().rejected, 1u);
  ASSERT_GE(server.targets().size(), 2u);
  EXPECT_EQ(cursor_of(server.targets().at(1)), 13);
  EXPECT_GE(f->stats().bytes, big.size());
}

// The DID document of `did` from the fixtures; with `key_of` set, carrying
// that account's signing key instead of its own (a key that rotated since).
std::string did_document(const std::string& did, const std::string& key_of = {}) {
  std::ifstream f(test::firehose_dir() / "dids.json");
  const auto dids = boost::json::parse(std::string((std::istreambuf_iterator<char>(f)), {}));
  boost::json::object doc = dids.at(did).at("didDoc").as_object();
  if (!key_of.empty()) {
    doc["verificationMethod"] = dids.at(key_of).at("didDoc").at("verificationMethod");
    for (auto& vm : doc["verificationMethod"].as_array()) vm.as_object()["controller"] = did;
  }
  const std::string body = boost::json::serialize(doc);
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::vector<std::byte> renumbered(const std::vector<std::byte>& frame, std::int64_t seq) {
  return test::with_field(frame, "seq", DagCborValue::make_int(seq));
}

// Keys from a (scripted) PLC directory. A key that fails right after it was
// fetched is not fetched again (the commit is rejected); a cached key that
// fails is refreshed once (it may have rotated); an #identity event drops it.
struct PlcRig : Rig {
  test::ScriptedServer plc;
  std::vector<std::vector<std::byte>> script;
  std::unique_ptr<WsServer> server;
  std::unique_ptr<Firehose> f;
  PlcRig(std::deque<std::string> documents, std::vector<std::vector<std::byte>> frames_to_send)
      : plc(io, std::move(documents)), script(std::move(frames_to_send)) {
    server = std::make_unique<WsServer>(io, [this](WsServerConnection& c) -> asio::awaitable<void> {
      for (const auto& frame : script) co_await c.send_binary(frame);
      co_await c.wait_closed();
    });
    IdentityOptions o;
    o.plc_url = plc.base();
    auto identity =
        std::make_shared<IdentityResolver>(std::make_shared<net::HttpClient>(io.get_executor()), o);
    f = std::make_unique<Firehose>(io.get_executor(), config(server->url()), queue, identity);
  }
};

TEST(FirehoseRun, KeysComeFromThePlcAreRefreshedOnceAndDroppedOnIdentity) {
  PlcRig r({did_document(kBob, kAlice), did_document(kBob), did_document(kBob)},
           {frames().seq[18],                    // seq 19 #sync: fetch 1 (stale), fails, not fetched again
            frames().seq[20],                    // seq 21: the cached key fails, fetch 2 (fresh) verifies
            frames().seq[21],                    // seq 22: cached
            renumbered(frames().seq[19], 23),    // #identity bob: the key is dropped
            renumbered(frames().seq[22], 24)});  // fetch 3
  EXPECT_FALSE(r.run(*r.f, 5));
  const std::vector<std::int64_t> want{19, 21, 22, 23, 24};
  EXPECT_EQ(r.seqs(), want);
  ASSERT_EQ(r.got.size(), 5u);
  EXPECT_EQ(r.got[0].kind, RepoEvent::Kind::rejected);
  EXPECT_EQ(r.got[0].error_check, "signature");
  for (std::size_t i = 1; i < 5; ++i)
    EXPECT_NE(r.got[i].kind, RepoEvent::Kind::rejected) << r.got[i].cursor << ": " << r.got[i].message;
  EXPECT_EQ(r.got[3].kind, RepoEvent::Kind::identity);
  EXPECT_EQ(r.got[4].changes.size(), 1u);
  ASSERT_EQ(r.plc.seen.size(), 3u);
  for (const auto& req : r.plc.seen) EXPECT_NE(req.head.find(kBob), std::string::npos) << req.head;
  EXPECT_EQ(r.f->stats().key_lookups, 3u);
  EXPECT_EQ(r.f->stats().verified, 3u);
}

// A key that still does not verify after the one refresh: the commit is
// rejected (check "signature") and the directory is not asked again.
TEST(FirehoseRun, AKeyThatStaysWrongRejectsTheCommitAfterOneRefresh) {
  PlcRig r({did_document(kBob, kAlice), did_document(kBob, kAlice), did_document(kBob)},
           {frames().seq[18], frames().seq[20]});
  EXPECT_FALSE(r.run(*r.f, 2));
  ASSERT_EQ(r.got.size(), 2u);
  for (const auto& e : r.got) {
    EXPECT_EQ(e.kind, RepoEvent::Kind::rejected);
    EXPECT_EQ(e.error_check, "signature");
  }
  EXPECT_EQ(r.got[1].cursor, 21);
  EXPECT_EQ(r.plc.seen.size(), 2u);
}

TEST(FirehoseRun, SilentHostHitsTheReadTimeoutAndIsReconnected) {
  Rig r;
  WsServer server(r.io, [](WsServerConnection& c) -> asio::awaitable<void> {
    if (c.index() == 0) {
      co_await c.wait_closed();  // says nothing
      co_return;
    }
    co_await replay(c);
    co_await c.wait_closed();
  });
  auto cfg = r.config(server.url());
  cfg.websocket.read_timeout = 150ms;
  cfg.websocket.ping_interval = 0ms;
  auto f = r.firehose(cfg);
  EXPECT_FALSE(r.run(*f, 24));
  EXPECT_EQ(r.seqs(), iota(1, 24));
  bool timed_out = false;
  for (const auto& s : r.statuses)
    timed_out = timed_out || (s.kind == FirehoseStatus::Kind::disconnected &&
                              s.message.find("timeout") != std::string::npos);
  EXPECT_TRUE(timed_out);
}

TEST(FirehoseRun, TwoHostsIntoOneQueue) {
  Rig r;
  WsServer a(r.io, [](WsServerConnection& c) -> asio::awaitable<void> {
    co_await replay(c, 12);
    co_await c.wait_closed();
  });
  WsServer b(r.io, [](WsServerConnection& c) -> asio::awaitable<void> {
    co_await replay(c);
    co_await c.wait_closed();
  });
  auto fa = r.firehose(r.config(a.url()));
  auto fb = r.firehose(r.config(b.url()));
  EXPECT_FALSE(r.run(*fa, 36, {fb.get()}));
  std::map<std::string, std::vector<std::int64_t>> by_source;
  for (const auto& e : r.got) by_source[e.source].push_back(e.cursor);
  EXPECT_EQ(by_source[a.url()], iota(1, 12));
  EXPECT_EQ(by_source[b.url()], iota(1, 24));
}

TEST(FirehoseRun, CancelEndsRunPromptlyWhileWaitingToReconnect) {
  Rig r;
  WsServer server(r.io, [](WsServerConnection& c) -> asio::awaitable<void> {
    c.drop();
    co_return;
  });
  auto cfg = r.config(server.url());
  cfg.reconnect_initial = 10'000ms;
  cfg.reconnect_max = 10'000ms;
  auto f = r.firehose(cfg);
  bool done = false;
  asio::co_spawn(r.io, f->run(), [&](std::exception_ptr) { done = true; });
  const auto t0 = std::chrono::steady_clock::now();
  while (server.connections() == 0 && std::chrono::steady_clock::now() - t0 < 2s) r.io.run_for(5ms);
  r.io.run_for(30ms);
  f->cancel();
  while (!done && std::chrono::steady_clock::now() - t0 < 3s) r.io.run_for(5ms);
  EXPECT_TRUE(done);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(FirehoseConfigTest, BadSettingsAreInvalidArgument) {
  asio::io_context io;
  auto q = std::make_shared<RepoEventQueue>(io.get_executor(), 1);
  FirehoseConfig c;
  EXPECT_THROW(Firehose(io.get_executor(), c, q), InvalidArgument);  // no host
  c.host = "ftp://x";
  EXPECT_THROW(Firehose(io.get_executor(), c, q), InvalidArgument);
  c.host = "ws://127.0.0.1:1";
  c.reconnect_initial = 0ms;
  EXPECT_THROW(Firehose(io.get_executor(), c, q), InvalidArgument);
  c.reconnect_initial = 10ms;
  EXPECT_THROW(Firehose(io.get_executor(), c, nullptr), InvalidArgument);
}

}  // namespace
}  // namespace atdata::atproto
