// Firehose / Jetstream parity: the same repository events are replayed once
// as the firehose sends them (verified), and once re-encoded the way a
// Jetstream server sends them (JSON, plain and zstd with a dictionary). The
// catalogue built from each stream must be the same: what live discovery
// finds must not depend on which stream it watches.
//
// The events are the captured frames of the official PDS (tests/data/
// firehose: #identity, #account, #sync, #commit with creates, updates,
// deletes, a five-op applyWrites, blobs) followed by commits of a third
// account made and signed here. The captured records are not valid atdata
// records (the catalogue reports them as invalid and stores none), so the
// stored entries (schemas, datasets, a lens) all come from that account.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "atdata/atmosphere/catalogue.hpp"
#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/datetime.hpp"
#include "atdata/atmosphere/lens_record.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/atmosphere/schema_record.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/event_frame.hpp"
#include "atdata/atproto/event_queue.hpp"
#include "atdata/atproto/firehose.hpp"
#include "atdata/atproto/identity.hpp"
#include "atdata/atproto/jetstream.hpp"
#include "atdata/atproto/mst.hpp"
#include "atdata/atproto/signing_key.hpp"
#include "atdata/error.hpp"
#include "atdata/net/http_client.hpp"
#include "atproto/crypto_test_util.hpp"
#include "atproto/firehose_fixtures.hpp"
#include "support/ws_server.hpp"
#include "support/zstd_dict.hpp"

namespace atdata::atmosphere {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using atproto::RepoEvent;
using atproto::RepoEventQueue;
using test::WsServer;
using test::WsServerConnection;
using namespace std::chrono_literals;

const std::string kAlice = "did:plc:7tgzjy4e57zsigdlaf226lra";
const std::string kBob = "did:plc:3bpd2lng3mbuxhxpxiwisjpj";
constexpr std::size_t kCaptured = 24;     // frame-000 … frame-023: seq 1 … 24
constexpr std::size_t kCapturedOps = 19;  // INDEX.tsv: the ops of every #commit

// The captured frames, seq 1 … 24.
std::vector<std::vector<std::byte>> load_frames() {
  std::vector<std::vector<std::byte>> out;
  for (const auto& p : test::frame_files())
    if (p.filename().string().rfind("frame-", 0) == 0) out.push_back(test::read_bytes(p));
  return out;
}

// ---- a signed repository of atdata records ------------------------------------------

const std::string kCarol = "did:plc:carolparitytestrepoaaaaa";

// A TID (base32-sortable, 13 characters) for microsecond timestamp `us`.
std::string tid(std::uint64_t us) {
  static constexpr std::string_view kAlphabet = "234567abcdefghijklmnopqrstuvwxyz";
  const std::uint64_t v = (us << 10) & ~(1ULL << 63);
  std::string out;
  for (int i = 0; i < 13; ++i) out += kAlphabet[(v >> (60 - 5 * i)) & 0x1f];
  return out;
}

// Makes #commit frames for one account the way a PDS does: the whole tree's
// nodes, the new records and the signed commit in the CAR, ops with their
// previous CIDs, prevData. The firehose verifies them with key().
class SignedRepo {
 public:
  struct Write {
    atproto::RepoOp::Action action = atproto::RepoOp::Action::create;
    std::string path;  // collection/rkey
    json::object record;
  };

  explicit SignedRepo(std::string did) : did_(std::move(did)), signer_(atproto::Curve::secp256k1, kScalar) {}
  atproto::PublicKey key() const { return atproto::PublicKey::from_point(signer_.curve(), signer_.point()); }

  std::vector<std::byte> commit(std::int64_t seq, const std::vector<Write>& writes) {
    using atproto::DagCborValue;
    const auto prev_root = root();
    // DagCborValue holds views: what it points to must stay put until encoded.
    std::deque<std::vector<std::byte>> records;  // block data; CIDs in cids
    std::deque<atproto::BinaryCid> cids;
    std::deque<std::vector<std::byte>> prevs;
    std::vector<DagCborValue> ops;
    for (const Write& w : writes) {
      const auto before = tree_.find(w.path);
      if (before != tree_.end()) prevs.push_back(before->second);
      const DagCborValue prev =
          before == tree_.end() ? DagCborValue::make_null() : DagCborValue::make_link(prevs.back());
      if (w.action == atproto::RepoOp::Action::remove) {
        ops.push_back(
            DagCborValue::make_map({"action", "path", "cid", "prev"},
                                   {DagCborValue::make_text("delete"), DagCborValue::make_text(w.path),
                                    DagCborValue::make_null(), prev}));
        tree_.erase(w.path);
        continue;
      }
      records.push_back(atproto::dag_cbor_encode_json(json::value(w.record)));
      cids.push_back(atproto::binary_cid_v1_sha256(atproto::kCodecDagCbor, atproto::sha256(records.back())));
      ops.push_back(DagCborValue::make_map(
          {"action", "path", "cid", "prev"},
          {DagCborValue::make_text(atproto::to_string(w.action)), DagCborValue::make_text(w.path),
           DagCborValue::make_link(cids.back()), prev}));
      tree_[w.path].assign(cids.back().begin(), cids.back().end());
    }
    std::vector<atproto::MstEntryView> entries;
    for (const auto& [path, cid] : tree_) entries.push_back({path, cid});
    const atproto::MstBuild mst = atproto::mst_build(entries);

    const std::optional<std::string> since = rev_;
    rev_ = tid(1'779'000'000'000'000ULL + static_cast<std::uint64_t>(seq) * 1000);
    const auto unsigned_commit = atproto::dag_cbor_encode(DagCborValue::make_map(
        {"did", "version", "data", "rev", "prev"},
        {DagCborValue::make_text(did_), DagCborValue::make_int(atproto::kCommitVersion),
         DagCborValue::make_link(mst.root), DagCborValue::make_text(*rev_), DagCborValue::make_null()}));
    const auto sig = signer_.sign(unsigned_commit);
    auto signed_map = atproto::dag_cbor_decode(unsigned_commit);
    std::vector<std::string_view> keys(signed_map.keys().begin(), signed_map.keys().end());
    std::vector<DagCborValue> values(signed_map.items().begin(), signed_map.items().end());
    keys.emplace_back("sig");
    values.push_back(DagCborValue::make_bytes(sig));
    const auto commit_block = atproto::dag_cbor_encode(DagCborValue::make_map(keys, values));
    const auto commit_cid =
        atproto::binary_cid_v1_sha256(atproto::kCodecDagCbor, atproto::sha256(commit_block));

    std::vector<atproto::CarBlock> blocks;
    blocks.push_back({commit_cid, commit_block});
    for (const auto& node : mst.blocks) blocks.push_back({node.cid, node.data});
    for (std::size_t i = 0; i < records.size(); ++i) blocks.push_back({cids[i], records[i]});
    const auto car = test::car_of(commit_cid, blocks);

    auto frame = atproto::dag_cbor_encode(
        DagCborValue::make_map({"op", "t"}, {DagCborValue::make_int(1), DagCborValue::make_text("#commit")}));
    const std::string time = "2026-05-25T15:00:" + std::to_string(10 + seq % 50) + ".000Z";
    atproto::dag_cbor_encode(
        DagCborValue::make_map(
            {"seq", "repo", "rev", "since", "commit", "blocks", "ops", "blobs", "time", "tooBig", "rebase",
             "prevData"},
            {DagCborValue::make_int(seq), DagCborValue::make_text(did_), DagCborValue::make_text(*rev_),
             since ? DagCborValue::make_text(*since) : DagCborValue::make_null(),
             DagCborValue::make_link(commit_cid), DagCborValue::make_bytes(car), DagCborValue::make_list(ops),
             DagCborValue::make_list({}), DagCborValue::make_text(time), DagCborValue::make_bool(false),
             DagCborValue::make_bool(false), DagCborValue::make_link(prev_root)}),
        frame);
    return frame;
  }

 private:
  static constexpr std::uint8_t kScalar[32] = {
      0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x08, 0x19, 0x2a, 0x3b, 0x4c, 0x5d, 0x6e, 0x7f, 0x01,
      0x12, 0x23, 0x34, 0x45, 0x56, 0x67, 0x78, 0x09, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x02};
  std::vector<std::byte> root() const {
    std::vector<atproto::MstEntryView> entries;
    for (const auto& [path, cid] : tree_) entries.push_back({path, cid});
    return atproto::mst_root_of(entries);
  }

  std::string did_;
  test::TestSigner signer_;
  std::map<std::string, std::vector<std::byte>> tree_;
  std::optional<std::string> rev_;
};

const Timestamp kCreated = parse_datetime("2026-05-25T15:00:00.000Z");

std::string schema_uri(const std::string& rkey) {
  return "at://" + kCarol + "/" + std::string(nsid::kSampleSchema) + "/" + rkey;
}

json::object schema(const std::string& name, const std::string& version, const std::string& description) {
  SchemaRecord s;
  s.name = name;
  s.version = version;
  s.description = description;
  s.fields = {{"image", SchemaFieldType::of(Primitive::bytes)},
              {"label", SchemaFieldType::of(Primitive::int_)}};
  s.created_at = kCreated;
  return s.to_record();
}

json::object dataset(const std::string& name, const std::string& schema_rkey, const std::string& description,
                     std::vector<std::string> tags) {
  DatasetRecord ds;
  ds.name = name;
  ds.schema_ref = schema_uri(schema_rkey);
  ds.description = description;
  ds.tags = std::move(tags);
  ds.storage = StorageLocation::external({"https://data.example/" + name + "-000000.tar"});
  ds.created_at = kCreated;
  return ds.to_record();
}

json::object lens(const std::string& name, const std::string& source, const std::string& target) {
  LensRecord l;
  l.name = name;
  l.source_schema = schema_uri(source);
  l.target_schema = schema_uri(target);
  l.description = "maps digit samples to letter samples";
  l.getter_code = CodeReference{"https://github.com/org/lenses", "abc123", "lenses:get"};
  l.putter_code = CodeReference{"https://github.com/org/lenses", "abc123", "lenses:put"};
  l.created_at = kCreated;
  return l.to_record();
}

// Commits of kCarol, from seq `first` on: schemas, datasets and a lens
// created, updated and deleted, one commit with several ops, and a record of
// a collection the catalogue ignores.
std::vector<std::vector<std::byte>> carol_frames(SignedRepo& repo, std::int64_t first) {
  using A = atproto::RepoOp::Action;
  const std::string S = std::string(nsid::kSampleSchema) + "/";
  const std::string D = std::string(nsid::kDatasetRecord) + "/";
  const std::string L = std::string(nsid::kLens) + "/";
  std::vector<std::vector<SignedRepo::Write>> commits = {
      {{A::create, S + "digits", schema("digits", "1.0.0", "grey 28x28 images of digits")},
       {A::create, S + "letters", schema("letters", "1.0.0", "grey 28x28 images of letters")}},
      {{A::create, D + "mnist",
        dataset("mnist-digits", "digits", "Handwritten digits", {"vision", "digits"})}},
      {{A::create, D + "emnist", dataset("emnist-letters", "letters", "Handwritten letters", {"vision"})}},
      {{A::create, L + "d2l", lens("digits-to-letters", "digits", "letters")},
       {A::create, "app.bsky.feed.post/3n33qs2aaaa2s",
        json::object{
            {"$type", "app.bsky.feed.post"}, {"text", "mnist"}, {"createdAt", "2026-05-25T15:00:00Z"}}}},
      {{A::update, D + "mnist",
        dataset("mnist-digits", "digits", "Handwritten digits, the classic benchmark",
                {"vision", "digits", "benchmark"})}},
      {{A::create, D + "scratch", dataset("scratch-digits", "digits", "to be deleted", {"tmp"})}},
      {{A::remove, D + "scratch", {}},
       {A::update, S + "letters", schema("letters", "1.1.0", "grey 28x28 images of letters, upper case too")},
       {A::create, D + "kmnist",
        dataset("kmnist", "digits", "Kuzushiji cursive digits", {"vision", "japanese"})}},
  };
  std::vector<std::vector<std::byte>> out;
  for (const auto& writes : commits)
    out.push_back(repo.commit(first + static_cast<std::int64_t>(out.size()), writes));
  return out;
}

// ---- the same events as Jetstream sends them ------------------------------------

// Built from the frames themselves (not from what the firehose subscriber
// made of them), so a decoding mistake in either path shows as a difference.
// Jetstream sends one event per op, with its own time_us; it does not forward
// #sync, nor commits without ops.
std::vector<std::string> jetstream_events(const std::vector<std::vector<std::byte>>& frames) {
  std::vector<std::string> out;
  std::int64_t time_us = 1'770'000'000'000'000;
  const auto base = [&](std::string_view did, std::string_view kind) {
    json::object ev;
    ev["did"] = did;
    ev["time_us"] = time_us += 1000;
    ev["kind"] = kind;
    return ev;
  };
  for (const auto& bytes : frames) {
    const atproto::EventFrame f = atproto::decode_event_frame(bytes);
    if (const auto* c = std::get_if<atproto::CommitEvent>(&f.event)) {
      atproto::CarReader car(c->blocks);
      const std::vector<atproto::CarBlock> blocks = car.blocks();
      for (const atproto::RepoOp& op : c->ops) {
        json::object commit;
        commit["rev"] = c->rev;
        commit["operation"] = atproto::to_string(op.action);
        commit["collection"] = op.collection();
        commit["rkey"] = op.rkey();
        if (op.action != atproto::RepoOp::Action::remove) {
          const auto block = std::find_if(blocks.begin(), blocks.end(), [&](const atproto::CarBlock& b) {
            return std::equal(b.cid.begin(), b.cid.end(), op.cid.begin(), op.cid.end());
          });
          if (block == blocks.end()) throw std::runtime_error("record block missing in the frame");
          commit["record"] = atproto::dag_cbor_to_json(atproto::dag_cbor_decode(block->data));
          commit["cid"] = atproto::format_binary_cid(op.cid);
        }
        json::object ev = base(c->repo, "commit");
        ev["commit"] = std::move(commit);
        out.push_back(json::serialize(ev));
      }
    } else if (const auto* i = std::get_if<atproto::IdentityEvent>(&f.event)) {
      json::object id{{"did", i->did}, {"seq", i->seq}, {"time", i->time}};
      if (i->handle) id["handle"] = *i->handle;
      json::object ev = base(i->did, "identity");
      ev["identity"] = std::move(id);
      out.push_back(json::serialize(ev));
    } else if (const auto* a = std::get_if<atproto::AccountEvent>(&f.event)) {
      json::object acct{{"active", a->active}, {"did", a->did}, {"seq", a->seq}, {"time", a->time}};
      if (a->status) acct["status"] = *a->status;
      json::object ev = base(a->did, "account");
      ev["account"] = std::move(acct);
      out.push_back(json::serialize(ev));
    }
  }
  return out;
}

using test::compress;
using test::train_dictionary;

std::optional<std::int64_t> query_int(const std::string& target, std::string_view key) {
  const std::string k = std::string(key) + "=";
  const auto p = target.find(k);
  if (p == std::string::npos) return std::nullopt;
  std::int64_t v = 0;
  std::from_chars(target.data() + p + k.size(), target.data() + target.size(), v);
  return v;
}

// A Jetstream replay server: events at or after ?cursor= (time_us), as zstd
// frames made with `dict` when ?compress=true, else as text messages.
struct JetstreamReplay {
  std::vector<std::string> events;
  std::vector<std::byte> dict;

  asio::awaitable<void> serve(WsServerConnection& c) {
    const std::string target = c.target();
    const auto cursor = query_int(target, "cursor");
    const bool z = target.find("compress=true") != std::string::npos;
    for (const auto& e : events) {
      if (cursor && json::parse(e).at("time_us").as_int64() < *cursor) continue;
      if (z) {
        const std::string packed = compress(e, dict);
        co_await c.send_binary(packed);
      } else {
        co_await c.send_text(e);
      }
    }
    co_await c.wait_closed();
  }
};

// Replays frames with seq > ?cursor= (all when there is none).
asio::awaitable<void> serve_firehose(WsServerConnection& c,
                                     const std::vector<std::vector<std::byte>>& frames) {
  const auto cursor = query_int(c.target(), "cursor").value_or(0);
  for (std::size_t i = 0; i < frames.size(); ++i)
    if (static_cast<std::int64_t>(i + 1) > cursor) co_await c.send_binary(frames[i]);
  co_await c.wait_closed();
}

// ---- running a subscriber --------------------------------------------------------

struct Collected {
  std::vector<RepoEvent> events;
  bool consumer_done = false;
  bool run_done = false;
  std::exception_ptr run_error;
};

asio::awaitable<void> consume(std::shared_ptr<RepoEventQueue> queue, std::shared_ptr<Collected> out,
                              std::size_t n, std::function<void()> stop) {
  while (out->events.size() < n) {
    std::optional<RepoEvent> ev = co_await queue->pop();
    if (!ev) break;
    out->events.push_back(std::move(*ev));
  }
  stop();
  out->consumer_done = true;
}

// Runs `run` until `n` events were popped (or 5 s), then cancels it.
std::vector<RepoEvent> collect(asio::io_context& io, const std::shared_ptr<RepoEventQueue>& queue,
                               std::function<asio::awaitable<void>()> run, std::function<void()> cancel,
                               std::size_t n) {
  auto out = std::make_shared<Collected>();
  asio::co_spawn(io, run(), [out](std::exception_ptr e) {
    out->run_error = e;
    out->run_done = true;
  });
  asio::co_spawn(io, consume(queue, out, n, cancel), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!(out->run_done && out->consumer_done) && std::chrono::steady_clock::now() < deadline)
    io.run_for(10ms);
  if (!(out->run_done && out->consumer_done)) {
    ADD_FAILURE() << "stream did not deliver " << n << " events in 5 s (got " << out->events.size() << ")";
    cancel();
    queue->close();
    io.run_for(500ms);
  }
  EXPECT_FALSE(out->run_error) << "run() ended with an exception";
  return std::move(out->events);
}

net::WebSocketOptions quick_websocket() {
  net::WebSocketOptions w;
  w.connect_timeout = 2000ms;
  w.read_timeout = 3000ms;
  w.ping_interval = 0ms;
  return w;
}

// ---- comparing catalogues ----------------------------------------------------------

// Everything of an entry that comes from the record; `time` and `indexed_at`
// are the stream's and the local clock's, not the record's.
using EntryKey = std::tuple<std::string, std::string, std::string, std::string, std::string, RecordKind,
                            std::string, std::string, std::vector<std::string>, std::string, std::string,
                            std::string, std::string, std::string>;
EntryKey key_of(const CatalogueEntry& e) {
  return {e.uri.str(),
          e.did,
          e.collection,
          e.rkey,
          e.cid,
          e.kind,
          e.name,
          e.description,
          e.tags,
          e.schema_ref,
          e.schema_version,
          e.lens_source,
          e.lens_target,
          json::serialize(e.record)};
}

std::vector<std::string> uris(const std::vector<CatalogueEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.uri.str());
  // Order is by stream time, which the streams set differently.
  std::sort(out.begin(), out.end());
  return out;
}

using DiscoveredKey =
    std::tuple<Discovered::Change, RecordKind, std::string, std::string, std::string, std::string>;
std::vector<DiscoveredKey> discovered_of(const CatalogueUpdate& u) {
  std::vector<DiscoveredKey> out;
  for (const auto& d : u.discovered) out.emplace_back(d.change, d.kind, d.uri.str(), d.cid, d.did, d.name);
  return out;
}
std::vector<std::tuple<std::string, std::string, std::string>> invalid_of(const CatalogueUpdate& u) {
  std::vector<std::tuple<std::string, std::string, std::string>> out;
  for (const auto& i : u.invalid) out.emplace_back(i.uri.str(), i.cid, i.error);
  return out;
}

CatalogueQuery all() {
  CatalogueQuery q;
  q.limit = 0;
  return q;
}

TEST(StreamParity, JetstreamPlainAndCompressedBuildTheFirehoseCatalogue) {
  auto frames = load_frames();
  ASSERT_EQ(frames.size(), kCaptured);
  SignedRepo carol(kCarol);
  for (auto& f : carol_frames(carol, static_cast<std::int64_t>(kCaptured) + 1))
    frames.push_back(std::move(f));
  constexpr std::size_t kCarolOps = 11;
  auto keys = test::fixture_keys();
  ASSERT_TRUE(keys.contains(kAlice) && keys.contains(kBob));
  keys.emplace(kCarol, carol.key());
  asio::io_context io;

  // A: the firehose, verified with the accounts' keys (the DID directory is
  // unreachable, so nothing but those keys can verify).
  auto fq = std::make_shared<RepoEventQueue>(io.get_executor(), 8);
  WsServer fsrv(io, [&](WsServerConnection& c) { return serve_firehose(c, frames); });
  atproto::FirehoseConfig fc;
  fc.host = fsrv.url();
  fc.cursor = 0;
  fc.reconnect_initial = 5ms;
  fc.reconnect_max = 20ms;
  fc.websocket = quick_websocket();
  atproto::IdentityOptions id_opts;
  id_opts.plc_url = "http://127.0.0.1:1";
  auto identity = std::make_shared<atproto::IdentityResolver>(
      std::make_shared<net::HttpClient>(io.get_executor()), id_opts);
  atproto::Firehose firehose(io.get_executor(), fc, fq, identity);
  for (const auto& [did, k] : keys) firehose.add_key(did, k);
  const auto fevents = collect(
      io, fq, [&] { return firehose.run(); }, [&] { firehose.cancel(); }, frames.size());
  ASSERT_EQ(fevents.size(), frames.size());
  std::size_t fchanges = 0, with_changes = 0;
  for (const auto& e : fevents) {
    EXPECT_NE(e.kind, RepoEvent::Kind::rejected) << e.cursor << ": " << e.error_check << ": " << e.message;
    fchanges += e.changes.size();
    with_changes += !e.changes.empty();
  }
  EXPECT_EQ(fchanges, kCapturedOps + kCarolOps);
  EXPECT_EQ(firehose.stats().rejected, 0u);
  // Every commit that changed something was signature-checked (carol's with
  // the key made here).
  EXPECT_EQ(firehose.stats().verified, with_changes);
  EXPECT_GE(with_changes, 15u + 7u);
  Catalogue a = Catalogue::in_memory();
  const CatalogueUpdate ua = a.apply(fevents);

  // B and C: the same events from a Jetstream replay server.
  JetstreamReplay replay;
  replay.events = jetstream_events(frames);
  ASSERT_EQ(replay.events.size(), kCapturedOps + kCarolOps + 5)
      << "one event per op, plus 3 #identity and 2 #account";
  replay.dict = train_dictionary(replay.events);
  WsServer jsrv(io, [&](WsServerConnection& c) { return replay.serve(c); });
  const auto run_jetstream = [&](bool compressed) {
    atproto::JetstreamConfig jc;
    jc.url = jsrv.url("/subscribe");
    jc.compress = compressed;
    if (compressed) jc.dictionary = replay.dict;
    jc.reconnect_initial = 5ms;
    jc.reconnect_max = 20ms;
    jc.websocket = quick_websocket();
    auto q = std::make_shared<RepoEventQueue>(io.get_executor(), 8);
    atproto::Jetstream js(io.get_executor(), jc, q);
    auto events = collect(
        io, q, [&] { return js.run(); }, [&] { js.cancel(); }, replay.events.size());
    const atproto::JetstreamStats st = js.stats();
    EXPECT_EQ(st.rejected, 0u);
    EXPECT_EQ(st.events, replay.events.size());
    return std::pair(std::move(events), st);
  };
  const auto [bevents, bstats] = run_jetstream(false);
  const auto [cevents, cstats] = run_jetstream(true);
  ASSERT_EQ(bevents.size(), replay.events.size());
  ASSERT_EQ(cevents.size(), replay.events.size());
  const auto targets = jsrv.targets();
  ASSERT_EQ(targets.size(), 2u) << "one connection each, no reconnects";
  EXPECT_EQ(targets[0].find("compress=true"), std::string::npos) << targets[0];
  EXPECT_NE(targets[1].find("compress=true"), std::string::npos) << targets[1];
  // The compressed stream really was compressed, and needs the dictionary.
  EXPECT_LT(cstats.bytes, bstats.bytes);
  atproto::JetstreamDecompressor no_dict;
  const std::string packed = compress(replay.events.front(), replay.dict);
  EXPECT_THROW(no_dict.decompress(std::as_bytes(std::span(packed.data(), packed.size())), 1 << 20),
               DecodeError);

  Catalogue b = Catalogue::in_memory();
  const CatalogueUpdate ub = b.apply(bevents);
  Catalogue c = Catalogue::in_memory();
  const CatalogueUpdate uc = c.apply(cevents);

  // Not vacuous: every kind is stored; entries were created, updated and
  // deleted; the captured records were all seen (and refused: they are not
  // atdata records).
  const auto entries_a = a.search(all());
  ASSERT_GT(entries_a.size(), 5u) << testing::PrintToString(invalid_of(ua));
  EXPECT_EQ(a.size(), entries_a.size());
  const CatalogueCounts counts = a.counts();
  EXPECT_EQ(counts.schemas, 2u);
  EXPECT_EQ(counts.datasets, 3u);
  EXPECT_EQ(counts.lenses, 1u);
  std::set<Discovered::Change> changes;
  for (const auto& d : ua.discovered) changes.insert(d.change);
  EXPECT_EQ(changes.size(), 3u) << "created, updated and deleted";
  EXPECT_EQ(ua.invalid.size(), 16u) << "every captured create/update";
  EXPECT_FALSE(a.get(AtUri(kCarol, std::string(nsid::kDatasetRecord), "scratch")).has_value());
  const auto mnist = a.get(AtUri(kCarol, std::string(nsid::kDatasetRecord), "mnist"));
  ASSERT_TRUE(mnist.has_value());
  EXPECT_EQ(mnist->tags, (std::vector<std::string>{"vision", "digits", "benchmark"}));
  EXPECT_EQ(mnist->schema_ref, schema_uri("digits"));

  // What each apply reported, in event order.
  EXPECT_EQ(discovered_of(ub), discovered_of(ua));
  EXPECT_EQ(discovered_of(uc), discovered_of(ua));
  EXPECT_EQ(invalid_of(ub), invalid_of(ua));
  EXPECT_EQ(invalid_of(uc), invalid_of(ua));

  // Entry by entry.
  for (const Catalogue* other : {&b, &c}) {
    const char* which = other == &b ? "plain" : "compressed";
    EXPECT_EQ(other->size(), a.size()) << which;
    const CatalogueCounts co = other->counts();
    EXPECT_EQ(std::tie(co.schemas, co.datasets, co.lenses),
              std::tie(counts.schemas, counts.datasets, counts.lenses))
        << which;
    for (const auto& e : entries_a) {
      const std::optional<CatalogueEntry> o = other->get(e.uri);
      ASSERT_TRUE(o.has_value()) << which << ": " << e.uri.str();
      EXPECT_EQ(key_of(*o), key_of(e)) << which << ": " << e.uri.str();
    }
    std::vector<EntryKey> ka, ko;
    for (const auto& e : entries_a) ka.push_back(key_of(e));
    for (const auto& e : other->search(all())) ko.push_back(key_of(e));
    std::sort(ka.begin(), ka.end());
    std::sort(ko.begin(), ko.end());
    EXPECT_EQ(ko, ka) << which;
    for (const auto& did : {kAlice, kBob, kCarol})
      EXPECT_EQ(other->account_active(did), a.account_active(did)) << which << ": " << did;
  }
  EXPECT_EQ(a.account_active(kBob), std::optional<bool>(true));

  // Queries. `expect` is what the firehose's catalogue must find, so that
  // the same wrong (e.g. empty) result on every side cannot pass.
  struct Case {
    std::string label;
    std::size_t expect;
    std::function<void(CatalogueQuery&)> set;
  };
  const std::vector<Case> cases = {
      {"did carol", 6, [](CatalogueQuery& q) { q.did = kCarol; }},
      {"did alice", 0, [](CatalogueQuery& q) { q.did = kAlice; }},
      {"kind dataset", 3, [](CatalogueQuery& q) { q.kind = RecordKind::dataset; }},
      {"kind schema", 2, [](CatalogueQuery& q) { q.kind = RecordKind::schema; }},
      {"kind lens", 1, [](CatalogueQuery& q) { q.kind = RecordKind::lens; }},
      {"schema_uri digits", 2, [](CatalogueQuery& q) { q.schema_uri = schema_uri("digits"); }},
      {"schema_uri letters", 1, [](CatalogueQuery& q) { q.schema_uri = schema_uri("letters"); }},
      {"tag vision", 3, [](CatalogueQuery& q) { q.tag = "vision"; }},
      {"tag tmp (deleted)", 0, [](CatalogueQuery& q) { q.tag = "tmp"; }},
      {"name prefix", 1, [](CatalogueQuery& q) { q.name = "mnist"; }},
      {"text handwritten", 2, [](CatalogueQuery& q) { q.text = "handwritten"; }},
      {"text prefix", 2, [](CatalogueQuery& q) { q.text = "handwr"; }},
      {"text every word", 1, [](CatalogueQuery& q) { q.text = "cursive dig"; }},
      {"text upper case (updated schema)", 1, [](CatalogueQuery& q) { q.text = "upper case"; }},
      {"did + kind + tag", 1,
       [](CatalogueQuery& q) {
         q.did = kCarol;
         q.kind = RecordKind::dataset;
         q.tag = "digits";
       }},
  };
  for (const auto& k : cases) {
    CatalogueQuery q = all();
    k.set(q);
    const auto ra = uris(a.search(q));
    EXPECT_EQ(ra.size(), k.expect) << k.label << ": " << testing::PrintToString(ra);
    EXPECT_EQ(uris(b.search(q)), ra) << "plain: " << k.label;
    EXPECT_EQ(uris(c.search(q)), ra) << "compressed: " << k.label;
  }
}

}  // namespace
}  // namespace atdata::atmosphere
