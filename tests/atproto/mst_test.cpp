#include "atdata/atproto/mst.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/error.hpp"
#include "atproto/firehose_fixtures.hpp"

namespace atdata::atproto {
namespace {

using Bytes = std::span<const std::byte>;
using Check = VerifyError::Check;
using test::firehose_dir;
using test::index_types;
using test::read_bytes;

std::vector<std::byte> bin_cid(std::string_view text) {
  auto parsed = parse_cid_v1_sha256(text);
  if (!parsed) throw std::runtime_error("bad CID " + std::string(text));
  const auto cid = binary_cid_v1_sha256(parsed->codec, parsed->digest);
  return {cid.begin(), cid.end()};
}

std::vector<std::byte> cid_of(Bytes data) {
  const auto cid = binary_cid_v1_sha256(kCodecDagCbor, sha256(data));
  return {cid.begin(), cid.end()};
}

boost::json::value read_json(const std::string& name) {
  const auto b = read_bytes(std::filesystem::path(ATDATA_TEST_DATA_DIR) / "mst" / name);
  return boost::json::parse(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

struct Op {
  std::string action;
  std::string path;
  std::optional<std::vector<std::byte>> cid;
  std::optional<std::vector<std::byte>> prev;
};

// One #commit frame: owns its bytes; the BlockMap and roots view them.
struct CommitFrame {
  std::string name;
  std::vector<std::byte> bytes;
  DagCborValue body;
  BlockMap blocks;
  std::vector<CarBlock> car_blocks;
  std::vector<std::byte> commit;
  std::vector<std::byte> data;
  std::optional<std::vector<std::byte>> prev_data;
  std::vector<Op> ops;

  std::vector<MstOp> mst_ops() const {
    std::vector<MstOp> out;
    for (const auto& o : ops) {
      MstOp m;
      m.path = o.path;
      if (o.cid) m.cid = Bytes(*o.cid);
      if (o.prev) m.prev = Bytes(*o.prev);
      out.push_back(m);
    }
    return out;
  }
};

std::vector<std::unique_ptr<CommitFrame>> commit_frames() {
  std::vector<std::unique_ptr<CommitFrame>> out;
  for (const auto& [name, type] : index_types()) {
    if (type != "#commit") continue;
    auto f = std::make_unique<CommitFrame>();
    f->name = name;
    f->bytes = read_bytes(firehose_dir() / name);
    const Bytes all(f->bytes);
    const auto head = dag_cbor_decode_prefix(all);
    f->body = dag_cbor_decode(all.subspan(head.end));
    CarReader reader(f->body.find("blocks")->as_bytes());
    const auto root = reader.roots().at(0);
    f->commit.assign(root.begin(), root.end());
    f->car_blocks = reader.blocks();
    for (const auto& b : f->car_blocks) f->blocks.insert(b.cid, b.data);
    const auto commit_block = f->blocks.find(root);
    if (!commit_block) throw std::runtime_error(name + ": no commit block");
    const auto commit = dag_cbor_decode(*commit_block);
    const auto data = commit.find("data")->as_link();
    f->data.assign(data.begin(), data.end());
    if (const auto* pd = f->body.find("prevData"); pd && !pd->is_null()) {
      const auto l = pd->as_link();
      f->prev_data = std::vector<std::byte>(l.begin(), l.end());
    }
    for (const auto& op : f->body.find("ops")->items()) {
      Op o;
      o.action = std::string(op.find("action")->as_text());
      o.path = std::string(op.find("path")->as_text());
      if (const auto* c = op.find("cid"); c && !c->is_null()) {
        const auto l = c->as_link();
        o.cid = std::vector<std::byte>(l.begin(), l.end());
      }
      if (const auto* c = op.find("prev"); c && !c->is_null()) {
        const auto l = c->as_link();
        o.prev = std::vector<std::byte>(l.begin(), l.end());
      }
      f->ops.push_back(std::move(o));
    }
    out.push_back(std::move(f));
  }
  return out;
}

BlockMap without(const CommitFrame& f, Bytes drop) {
  BlockMap m;
  for (const auto& b : f.car_blocks) {
    if (!std::equal(b.cid.begin(), b.cid.end(), drop.begin(), drop.end())) m.insert(b.cid, b.data);
  }
  return m;
}

template <class F>
VerifyError verify_error(F&& f) {
  try {
    f();
  } catch (const VerifyError& e) {
    return e;
  }
  ADD_FAILURE() << "no VerifyError";
  return VerifyError(Check::commit, "", "none");
}

// ---- keys ------------------------------------------------------------------

TEST(Mst, KeyLayersMatchInteropVectors) {
  const auto j = read_json("known-trees.json");
  std::size_t n = 0;
  for (const auto& kv : j.at("keyHeights").as_array()) {
    const auto key = kv.as_array().at(0).as_string();
    EXPECT_EQ(mst_key_layer(key), kv.as_array().at(1).to_number<unsigned>()) << key;
    ++n;
  }
  EXPECT_EQ(n, 9u);
}

TEST(Mst, KeyValidity) {
  EXPECT_TRUE(is_valid_mst_key("app.bsky.feed.post/3jui7kd54zh2y"));
  EXPECT_TRUE(is_valid_mst_key("com.example.record/self"));
  EXPECT_FALSE(is_valid_mst_key(""));
  EXPECT_FALSE(is_valid_mst_key("app.bsky.feed.post"));
  EXPECT_FALSE(is_valid_mst_key("app.bsky.feed.post/"));
  EXPECT_FALSE(is_valid_mst_key("/abc"));
  EXPECT_FALSE(is_valid_mst_key("app.bsky.feed.post/a/b"));
  EXPECT_FALSE(is_valid_mst_key("app.bsky.feed.post/.."));
  EXPECT_FALSE(is_valid_mst_key("app.bsky.feed.post/a b"));
  EXPECT_FALSE(is_valid_mst_key("A0/374913"));  // collection not an NSID
  EXPECT_TRUE(is_valid_mst_key("A0/374913", false));
  EXPECT_FALSE(is_valid_mst_key("A 0/374913", false));
  EXPECT_FALSE(is_valid_mst_key("app.bsky.feed.post/" + std::string(1100, 'a')));
}

// ---- canonical roots ---------------------------------------------------------

TEST(Mst, RootOfKnownTrees) {
  const auto j = read_json("known-trees.json");
  const auto leaf = bin_cid(j.at("leafValue").as_string());
  for (const auto& t : j.at("trees").as_array()) {
    std::vector<std::string> keys;
    for (const auto& k : t.at("keys").as_array()) keys.emplace_back(k.as_string());
    std::vector<MstEntryView> entries;
    entries.reserve(keys.size());
    for (const auto& k : keys) entries.push_back({k, leaf});
    EXPECT_EQ(format_binary_cid(mst_root_of(entries)), t.at("root").as_string()) << t.at("name").as_string();
  }
}

TEST(Mst, RootOfCommitProofFixtures) {
  const auto j = read_json("commit-proof-fixtures.json");
  std::size_t n = 0;
  for (const auto& fx : j.as_array()) {
    const auto leaf = bin_cid(fx.at("leafValue").as_string());
    std::set<std::string> keys;
    for (const auto& k : fx.at("keys").as_array()) keys.emplace(k.as_string());
    auto root = [&] {
      std::vector<MstEntryView> entries;
      entries.reserve(keys.size());
      for (const auto& k : keys) entries.push_back({k, leaf});
      auto built = mst_build(entries, false);
      // The built tree reads back, and every node is canonical DAG-CBOR.
      BlockMap m;
      for (const auto& b : built.blocks) {
        m.insert(b.cid, b.data);
        EXPECT_EQ(dag_cbor_encode(dag_cbor_decode(b.data)), b.data);
        EXPECT_EQ(cid_of(b.data), b.cid);
      }
      MstLimits lim;
      lim.nsid_collections = false;
      std::vector<std::string> walked;
      mst_walk(
          m, built.root, [&](std::string_view k, Bytes) { walked.emplace_back(k); }, lim);
      EXPECT_EQ(walked, std::vector<std::string>(keys.begin(), keys.end()));
      return format_binary_cid(built.root);
    };
    const std::string comment(fx.at("comment").as_string());
    EXPECT_EQ(root(), fx.at("rootBeforeCommit").as_string()) << comment;
    for (const auto& k : fx.at("adds").as_array()) keys.emplace(k.as_string());
    for (const auto& k : fx.at("dels").as_array()) keys.erase(std::string(k.as_string()));
    EXPECT_EQ(root(), fx.at("rootAfterCommit").as_string()) << comment;
    ++n;
  }
  EXPECT_EQ(n, 5u);
}

TEST(Mst, BuildRejectsBadInput) {
  const auto leaf = bin_cid("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454");
  std::vector<MstEntryView> unsorted = {{"com.example.record/b", leaf}, {"com.example.record/a", leaf}};
  EXPECT_THROW(mst_build(unsorted), InvalidArgument);
  std::vector<MstEntryView> dup = {{"com.example.record/a", leaf}, {"com.example.record/a", leaf}};
  EXPECT_THROW(mst_build(dup), InvalidArgument);
  std::vector<MstEntryView> bad_key = {{"nocollection", leaf}};
  EXPECT_THROW(mst_build(bad_key), InvalidArgument);
  const std::vector<std::byte> bad_cid(10, std::byte{1});
  std::vector<MstEntryView> bad_value = {{"com.example.record/a", bad_cid}};
  EXPECT_THROW(mst_build(bad_value), InvalidArgument);
}

// ---- a larger tree: build, walk, get, rebuild ---------------------------------

struct BigTree {
  std::vector<std::string> keys;
  std::vector<std::vector<std::byte>> values;
  MstBuild built;
  BlockMap blocks;
};

std::unique_ptr<BigTree> big_tree(std::size_t n) {
  auto t = std::make_unique<BigTree>();
  std::mt19937_64 rng(42);
  std::set<std::string> keys;
  const char* colls[] = {"app.bsky.feed.post", "app.bsky.feed.like", "app.bsky.graph.follow"};
  while (keys.size() < n) {
    keys.insert(std::string(colls[rng() % 3]) + "/3k" + std::to_string(rng() % 100000000000ULL));
  }
  t->keys.assign(keys.begin(), keys.end());
  std::vector<MstEntryView> entries;
  t->values.reserve(n);
  for (const auto& k : t->keys) {
    t->values.push_back(cid_of(std::span(reinterpret_cast<const std::byte*>(k.data()), k.size())));
    entries.push_back({k, t->values.back()});
  }
  t->built = mst_build(entries);
  for (const auto& b : t->built.blocks) t->blocks.insert(b.cid, b.data);
  return t;
}

TEST(Mst, WalkGetAndRebuildLargeTree) {
  const auto t = big_tree(20000);
  std::vector<std::string> keys;
  std::vector<std::vector<std::byte>> values;
  mst_walk(t->blocks, t->built.root, [&](std::string_view k, Bytes v) {
    keys.emplace_back(k);
    values.emplace_back(v.begin(), v.end());
  });
  EXPECT_EQ(keys, t->keys);
  EXPECT_EQ(values, t->values);
  std::vector<MstEntryView> entries;
  for (std::size_t i = 0; i < keys.size(); ++i) entries.push_back({keys[i], values[i]});
  EXPECT_EQ(mst_root_of(entries), t->built.root);
  for (std::size_t i = 0; i < keys.size(); i += 97) {
    const auto got = mst_get(t->blocks, t->built.root, keys[i]);
    ASSERT_TRUE(got) << keys[i];
    EXPECT_TRUE(std::equal(got->begin(), got->end(), values[i].begin(), values[i].end()));
    EXPECT_NO_THROW(mst_prove(t->blocks, t->built.root, keys[i], Bytes(values[i])));
    const std::string absent = keys[i] + "x";
    EXPECT_FALSE(mst_get(t->blocks, t->built.root, absent));
    EXPECT_NO_THROW(mst_prove(t->blocks, t->built.root, absent, std::nullopt));
  }
}

// ---- the captured firehose ----------------------------------------------------

TEST(Mst, EveryFirehoseOpIsProven) {
  const auto frames = commit_frames();
  ASSERT_GE(frames.size(), 15u);
  std::size_t proven = 0;
  std::size_t deletes = 0;
  for (const auto& f : frames) {
    for (const auto& op : f->ops) {
      SCOPED_TRACE(f->name + " " + op.action + " " + op.path);
      if (op.action == "delete") {
        EXPECT_FALSE(op.cid);
        EXPECT_NO_THROW(mst_prove(f->blocks, f->data, op.path, std::nullopt));
        ++deletes;
      } else {
        ASSERT_TRUE(op.cid);
        EXPECT_NO_THROW(mst_prove(f->blocks, f->data, op.path, Bytes(*op.cid)));
        const auto got = mst_get(f->blocks, f->data, op.path);
        ASSERT_TRUE(got);
        EXPECT_EQ(format_binary_cid(*got), format_binary_cid(*op.cid));
      }
      ++proven;
    }
  }
  EXPECT_EQ(proven, 19u);
  EXPECT_EQ(deletes, 3u);
}

TEST(Mst, FirehoseTreesWalkOrMissBlocks) {
  // A #commit carries only the changed paths; a walk of the whole tree either
  // sees every node (small repos) or stops at a missing one.
  std::size_t whole = 0;
  for (const auto& f : commit_frames()) {
    std::vector<std::string> keys;
    std::vector<std::vector<std::byte>> values;
    try {
      mst_walk(f->blocks, f->data, [&](std::string_view k, Bytes v) {
        keys.emplace_back(k);
        values.emplace_back(v.begin(), v.end());
      });
    } catch (const VerifyError& e) {
      EXPECT_EQ(e.check(), Check::block_missing) << f->name << ": " << e.what();
      continue;
    }
    std::vector<MstEntryView> entries;
    for (std::size_t i = 0; i < keys.size(); ++i) entries.push_back({keys[i], values[i]});
    EXPECT_EQ(format_binary_cid(mst_root_of(entries)), format_binary_cid(f->data)) << f->name;
    ++whole;
  }
  EXPECT_GE(whole, 3u);
}

TEST(Mst, DroppedBlockOnThePath) {
  std::size_t root_drops = 0;
  std::size_t inner_drops = 0;
  for (const auto& f : commit_frames()) {
    for (const auto& op : f->ops) {
      const std::optional<Bytes> expected = op.cid ? std::optional<Bytes>(*op.cid) : std::nullopt;
      {
        const auto m = without(*f, f->data);
        auto e = verify_error([&] { mst_get(m, f->data, op.path); });
        EXPECT_EQ(e.check(), Check::block_missing);
        EXPECT_EQ(e.subject(), format_binary_cid(f->data));
        e = verify_error([&] { mst_prove(m, f->data, op.path, expected); });
        EXPECT_EQ(e.check(), Check::mst_proof);
        EXPECT_EQ(e.subject(), op.path);
        EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
        ++root_drops;
      }
      // Any other block: either off the path (the proof holds) or on it.
      for (const auto& b : f->car_blocks) {
        if (std::equal(b.cid.begin(), b.cid.end(), f->data.begin(), f->data.end())) continue;
        if (op.cid && std::equal(b.cid.begin(), b.cid.end(), op.cid->begin(), op.cid->end())) continue;
        const auto m = without(*f, b.cid);
        try {
          mst_prove(m, f->data, op.path, expected);
        } catch (const VerifyError& e) {
          EXPECT_EQ(e.check(), Check::mst_proof);
          EXPECT_NE(std::string(e.what()).find(format_binary_cid(b.cid)), std::string::npos) << e.what();
          ++inner_drops;
        }
      }
    }
  }
  EXPECT_EQ(root_drops, 19u);
  EXPECT_GE(inner_drops, 1u);
}

TEST(Mst, WrongClaimsFailTheProof) {
  std::size_t checked = 0;
  for (const auto& f : commit_frames()) {
    for (const auto& op : f->ops) {
      if (op.cid) {
        // Another CID than the tree holds.
        auto e = verify_error([&] { mst_prove(f->blocks, f->data, op.path, Bytes(f->commit)); });
        EXPECT_EQ(e.check(), Check::mst_proof);
        EXPECT_EQ(e.subject(), op.path);
        EXPECT_NE(std::string(e.what()).find(format_binary_cid(*op.cid)), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(format_binary_cid(f->commit)), std::string::npos) << e.what();
        // Created, claimed deleted.
        e = verify_error([&] { mst_prove(f->blocks, f->data, op.path, std::nullopt); });
        EXPECT_EQ(e.check(), Check::mst_proof);
        EXPECT_NE(std::string(e.what()).find("deletes"), std::string::npos) << e.what();
      } else {
        // Deleted, claimed present.
        auto e = verify_error([&] { mst_prove(f->blocks, f->data, op.path, Bytes(f->commit)); });
        EXPECT_EQ(e.check(), Check::mst_proof);
        EXPECT_NE(std::string(e.what()).find("not in the tree"), std::string::npos) << e.what();
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 19u);
}

// ---- hand-made nodes ------------------------------------------------------------

// Keys of a given layer, found by counting.
std::string key_at_layer(unsigned layer, int skip = 0) {
  for (int i = 0;; ++i) {
    std::string k = "com.example.record/k" + std::to_string(i);
    if (mst_key_layer(k) == layer && skip-- == 0) return k;
  }
}

struct RawEntry {
  std::uint64_t p;
  std::string k;
  std::optional<std::vector<std::byte>> t;
};

const std::vector<std::byte>& leaf() {
  static const auto v = bin_cid("bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454");
  return v;
}

std::vector<std::byte> node_bytes(const std::optional<std::vector<std::byte>>& l,
                                  const std::vector<RawEntry>& es) {
  std::vector<DagCborValue> items;
  items.reserve(es.size());
  for (const auto& e : es) {
    items.push_back(DagCborValue::make_map(
        {"k", "p", "t", "v"},
        {DagCborValue::make_bytes(std::span(reinterpret_cast<const std::byte*>(e.k.data()), e.k.size())),
         DagCborValue::make_int(static_cast<std::int64_t>(e.p)),
         e.t ? DagCborValue::make_link(*e.t) : DagCborValue::make_null(), DagCborValue::make_link(leaf())}));
  }
  return dag_cbor_encode(
      DagCborValue::make_map({"e", "l"}, {DagCborValue::make_list(std::move(items)),
                                          l ? DagCborValue::make_link(*l) : DagCborValue::make_null()}));
}

// A store of hand-made nodes, keyed by their true CID unless told otherwise.
struct Store {
  std::vector<std::vector<std::byte>> owned;
  BlockMap map;
  std::vector<std::byte> add(std::vector<std::byte> data) {
    auto cid = cid_of(data);
    add_as(cid, std::move(data));
    return cid;
  }
  void add_as(const std::vector<std::byte>& cid, std::vector<std::byte> data) {
    owned.push_back(cid);
    const auto& c = owned.back();
    owned.push_back(std::move(data));
    map.insert(c, owned.back());
  }
  Store() { owned.reserve(64); }
};

void expect_mst_error(const Store& s, const std::vector<std::byte>& root, std::string_view probe,
                      const char* what) {
  SCOPED_TRACE(what);
  auto e = verify_error([&] { mst_walk(s.map, root, [](std::string_view, Bytes) {}); });
  EXPECT_EQ(e.check(), Check::mst) << e.what();
  e = verify_error([&] { mst_get(s.map, root, probe); });
  EXPECT_EQ(e.check(), Check::mst) << e.what();
}

TEST(Mst, HandMadeNodesBaseline) {
  // The helpers make a valid tree, so the negatives below fail for their one flaw.
  std::vector<std::string> low = {key_at_layer(0), key_at_layer(0, 1)};
  std::sort(low.begin(), low.end());
  std::size_t p = 0;
  while (low[0][p] == low[1][p]) ++p;
  Store s;
  const auto root = s.add(node_bytes(std::nullopt, {{0, low[0], {}}, {p, low[1].substr(p), {}}}));
  std::vector<MstEntryView> entries = {{low[0], leaf()}, {low[1], leaf()}};
  EXPECT_EQ(root, mst_root_of(entries));
  std::size_t n = 0;
  mst_walk(s.map, root, [&](std::string_view, Bytes) { ++n; });
  EXPECT_EQ(n, 2u);
}

TEST(Mst, MalformedNodesAreRejected) {
  auto low = std::vector<std::string>{key_at_layer(0), key_at_layer(0, 1), key_at_layer(0, 2)};
  std::sort(low.begin(), low.end());
  const auto l1 = key_at_layer(1);
  auto shared = [](const std::string& x, const std::string& y) {
    std::size_t p = 0;
    while (p < x.size() && p < y.size() && x[p] == y[p]) ++p;
    return p;
  };
  const std::size_t p01 = shared(low[0], low[1]);
  {
    Store s;
    const auto r = s.add(node_bytes(std::nullopt, {{0, low[1], {}}, {0, low[0], {}}}));
    expect_mst_error(s, r, low[0], "unsorted keys");
  }
  {
    Store s;
    const auto r = s.add(node_bytes(std::nullopt, {{0, low[0], {}}, {0, low[0], {}}}));
    expect_mst_error(s, r, low[0], "duplicate keys");
  }
  {
    Store s;
    std::vector<std::string> mixed = {low[0], l1};
    std::sort(mixed.begin(), mixed.end());
    const auto r = s.add(node_bytes(std::nullopt, {{0, mixed[0], {}}, {0, mixed[1], {}}}));
    expect_mst_error(s, r, low[0], "keys of two layers in one node");
  }
  {
    Store s;
    const auto r = s.add(node_bytes(std::nullopt, {{0, low[0], {}}, {low[0].size() + 1, "x", {}}}));
    expect_mst_error(s, r, low[0], "prefix longer than the previous key");
  }
  {
    Store s;
    ASSERT_GT(p01, 0u);
    const auto r = s.add(node_bytes(std::nullopt, {{0, low[0], {}}, {p01 - 1, low[1].substr(p01 - 1), {}}}));
    expect_mst_error(s, r, low[0], "prefix shorter than the shared prefix");
  }
  {
    Store s;
    const auto r = s.add(node_bytes(std::nullopt, {{3, low[0].substr(3), {}}}));
    expect_mst_error(s, r, low[0], "first entry with a prefix");
  }
  {
    Store s;
    std::string bad;
    for (int i = 0;; ++i) {
      bad = "nocollection" + std::to_string(i);
      if (mst_key_layer(bad) == 0) break;
    }
    const auto r = s.add(node_bytes(std::nullopt, {{0, bad, {}}}));
    expect_mst_error(s, r, low[0], "key that is not a path");
  }
  {
    // Key at layer 1 whose left subtree is an empty node.
    Store s;
    const auto empty = s.add(node_bytes(std::nullopt, {}));
    const auto r = s.add(node_bytes(empty, {{0, l1, {}}}));
    expect_mst_error(s, r, "a/b", "empty node below the root");
  }
  {
    // The root is only a link to a subtree.
    Store s;
    const auto child = s.add(node_bytes(std::nullopt, {{0, low[0], {}}}));
    const auto r = s.add(node_bytes(child, {}));
    expect_mst_error(s, r, low[0], "root with no entries and a subtree");
  }
  {
    // A layer-1 key's subtree holds a layer-1 key.
    Store s;
    const auto l1b = key_at_layer(1, 1);
    const auto child = s.add(node_bytes(std::nullopt, {{0, std::max(l1, l1b), {}}}));
    const auto r = s.add(node_bytes(std::nullopt, {{0, std::min(l1, l1b), child}}));
    expect_mst_error(s, r, std::max(l1, l1b), "subtree at the wrong layer");
  }
  {
    // A layer-0 node with a subtree.
    Store s;
    const auto child = s.add(node_bytes(std::nullopt, {{0, low[1], {}}}));
    const auto r = s.add(node_bytes(std::nullopt, {{0, low[0], child}}));
    expect_mst_error(s, r, low[1], "subtree below layer 0");
  }
  {
    // The subtree right of a key holds a key that sorts before it.
    Store s;
    std::string before;
    for (int i = 0;; ++i) {
      before = "aaa.example.record/k" + std::to_string(i);
      if (mst_key_layer(before) == 0) break;
    }
    const auto child = s.add(node_bytes(std::nullopt, {{0, before, {}}}));
    const auto r = s.add(node_bytes(std::nullopt, {{0, l1, child}}));
    expect_mst_error(s, r, l1 + "z", "subtree key outside its range");
    auto e = verify_error([&] { mst_walk(s.map, r, [](std::string_view, Bytes) {}); });
    EXPECT_EQ(e.subject(), format_binary_cid(child));
  }
  {
    // Fields of the wrong type, missing or extra (valid DAG-CBOR, not a node).
    Store s;
    const std::string k = low[0];
    const auto kb =
        DagCborValue::make_bytes(std::span(reinterpret_cast<const std::byte*>(k.data()), k.size()));
    auto entry = [&](std::vector<std::string_view> names, std::vector<DagCborValue> vals) {
      return dag_cbor_encode(DagCborValue::make_map(
          {"e", "l"}, {DagCborValue::make_list({DagCborValue::make_map(std::move(names), std::move(vals))}),
                       DagCborValue::make_null()}));
    };
    const auto text_p =
        s.add(entry({"k", "p", "t", "v"}, {kb, DagCborValue::make_text("0"), DagCborValue::make_null(),
                                           DagCborValue::make_link(leaf())}));
    expect_mst_error(s, text_p, k, "p is text");
    const auto no_t =
        s.add(entry({"k", "p", "v"}, {kb, DagCborValue::make_int(0), DagCborValue::make_link(leaf())}));
    expect_mst_error(s, no_t, k, "t missing");
    const auto extra =
        s.add(entry({"k", "p", "t", "v", "x"}, {kb, DagCborValue::make_int(0), DagCborValue::make_null(),
                                                DagCborValue::make_link(leaf()), DagCborValue::make_int(1)}));
    expect_mst_error(s, extra, k, "extra field");
    const auto null_v =
        s.add(entry({"k", "p", "t", "v"},
                    {kb, DagCborValue::make_int(0), DagCborValue::make_null(), DagCborValue::make_null()}));
    expect_mst_error(s, null_v, k, "v null");
    const auto no_l = s.add(dag_cbor_encode(DagCborValue::make_map({"e"}, {DagCborValue::make_list({})})));
    expect_mst_error(s, no_l, k, "l missing");
    const auto raw_sub = s.add(
        node_bytes(bin_cid("bafkreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454"), {{0, l1, {}}}));
    expect_mst_error(s, raw_sub, k, "subtree link with the raw codec");
  }
  {
    // Not canonical DAG-CBOR (p as a two-byte integer): DecodeError.
    Store s;
    auto bytes = node_bytes(std::nullopt, {{0, low[0], {}}});
    // ... 0x61 'p' 0x00 ... -> 0x61 'p' 0x18 0x00
    std::vector<std::byte> bad;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      bad.push_back(bytes[i]);
      if (i >= 1 && bytes[i - 1] == std::byte{0x61} && bytes[i] == std::byte{'p'}) {
        bad.push_back(std::byte{0x18});
      }
    }
    const auto r = s.add(bad);
    try {
      mst_walk(s.map, r, [](std::string_view, Bytes) {});
      ADD_FAILURE() << "non-canonical node accepted";
    } catch (const DecodeError& e) {
      EXPECT_NE(std::string(e.what()).find(format_binary_cid(r)), std::string::npos) << e.what();
      EXPECT_TRUE(e.offset());
    }
    EXPECT_THROW(mst_get(s.map, r, low[0]), DecodeError);
  }
}

TEST(Mst, CyclesEndInACleanError) {
  const auto l1 = key_at_layer(1);
  const std::vector<std::byte> self = cid_of(std::vector<std::byte>{std::byte{1}});
  {
    // A node whose right subtree is itself (stored under a CID it does not hash to).
    Store s;
    s.add_as(self, node_bytes(std::nullopt, {{0, l1, self}}));
    expect_mst_error(s, self, l1 + "z", "self-referencing node");
  }
  {
    // An empty intermediate node linking to itself.
    Store s;
    s.add_as(self, node_bytes(self, {}));
    const auto r = s.add(node_bytes(self, {{0, l1, {}}}));
    expect_mst_error(s, r, "a.b.c/a", "self-referencing empty node");
    expect_mst_error(s, self, "a.b.c/a", "self-referencing empty root");
  }
}

TEST(Mst, DepthLimit) {
  const auto t = big_tree(2000);
  MstLimits lim;
  lim.max_depth = 2;
  auto e = verify_error([&] {
    mst_walk(
        t->blocks, t->built.root, [](std::string_view, Bytes) {}, lim);
  });
  EXPECT_EQ(e.check(), Check::mst);
  EXPECT_NE(std::string(e.what()).find("deeper"), std::string::npos) << e.what();
  lim.max_depth = 64;
  lim.max_node_entries = 1;
  e = verify_error([&] {
    mst_walk(
        t->blocks, t->built.root, [](std::string_view, Bytes) {}, lim);
  });
  EXPECT_EQ(e.check(), Check::mst);
  lim = MstLimits{};
  lim.max_nodes = 3;
  e = verify_error([&] {
    mst_walk(
        t->blocks, t->built.root, [](std::string_view, Bytes) {}, lim);
  });
  EXPECT_EQ(e.check(), Check::mst);
}

TEST(Mst, CorruptedNodesGiveTypedErrors) {
  // Random byte damage to one node (kept under its old CID, as an unverified
  // store would): every outcome is a result or an atdata::Error, never a crash.
  const auto t = big_tree(300);
  std::mt19937_64 rng(3);
  std::size_t errors = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    const auto& victim = t->built.blocks[rng() % t->built.blocks.size()];
    std::vector<std::byte> bad = victim.data;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < flips; ++k) bad[rng() % bad.size()] ^= static_cast<std::byte>(1u << (rng() % 8));
    if (rng() % 4 == 0) bad.resize(rng() % bad.size());
    BlockMap m;
    for (const auto& b : t->built.blocks) m.insert(b.cid, &b == &victim ? Bytes(bad) : Bytes(b.data));
    try {
      std::size_t n = 0;
      mst_walk(m, t->built.root, [&](std::string_view, Bytes) { ++n; });
      (void)mst_get(m, t->built.root, t->keys[rng() % t->keys.size()]);
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 2500u);
}

// ---- inversion (sync v1.1) ------------------------------------------------------

TEST(Mst, FirehoseCommitsInvertToPrevData) {
  std::size_t checked = 0;
  for (const auto& f : commit_frames()) {
    if (!f->prev_data) continue;
    SCOPED_TRACE(f->name);
    const auto ops = f->mst_ops();
    EXPECT_EQ(format_binary_cid(mst_invert(f->blocks, f->data, ops)), format_binary_cid(*f->prev_data));
    if (ops.size() > 1) {
      // Leaving an op out gives another tree.
      const std::vector<MstOp> fewer(ops.begin() + 1, ops.end());
      EXPECT_NE(mst_invert(f->blocks, f->data, fewer), *f->prev_data);
    }
    ++checked;
  }
  EXPECT_GE(checked, 14u);
}

TEST(Mst, InvertNeedsItsBlocks) {
  std::size_t failures = 0;
  for (const auto& f : commit_frames()) {
    if (!f->prev_data || f->ops.empty()) continue;
    const auto ops = f->mst_ops();
    for (const auto& b : f->car_blocks) {
      const auto m = without(*f, b.cid);
      try {
        const auto got = mst_invert(m, f->data, ops);
        // Off the path: the same answer.
        EXPECT_EQ(got, *f->prev_data) << f->name;
      } catch (const VerifyError& e) {
        EXPECT_EQ(e.check(), Check::mst_proof) << e.what();
        EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
        ++failures;
      }
    }
  }
  EXPECT_GE(failures, 14u);
}

TEST(Mst, InvertCommitProofFixtures) {
  const auto j = read_json("commit-proof-fixtures.json");
  MstLimits lim;
  lim.nsid_collections = false;
  for (const auto& fx : j.as_array()) {
    const std::string comment(fx.at("comment").as_string());
    const auto leaf = bin_cid(fx.at("leafValue").as_string());
    std::set<std::string> keys;
    for (const auto& k : fx.at("keys").as_array()) keys.emplace(k.as_string());
    std::vector<std::string> adds, dels;
    for (const auto& k : fx.at("adds").as_array()) adds.emplace_back(k.as_string());
    for (const auto& k : fx.at("dels").as_array()) dels.emplace_back(k.as_string());
    for (const auto& k : adds) keys.insert(k);
    for (const auto& k : dels) keys.erase(k);
    std::vector<MstEntryView> entries;
    entries.reserve(keys.size());
    for (const auto& k : keys) entries.push_back({k, leaf});
    const auto after = mst_build(entries, false);
    ASSERT_EQ(format_binary_cid(after.root), fx.at("rootAfterCommit").as_string()) << comment;
    BlockMap m;
    for (const auto& b : after.blocks) m.insert(b.cid, b.data);
    std::vector<MstOp> ops;
    for (const auto& k : adds) {
      MstOp o;
      o.path = k;
      o.cid = Bytes(leaf);
      ops.push_back(o);
    }
    for (const auto& k : dels) {
      MstOp o;
      o.path = k;
      o.prev = Bytes(leaf);
      ops.push_back(o);
    }
    EXPECT_EQ(format_binary_cid(mst_invert(m, after.root, ops, lim)), fx.at("rootBeforeCommit").as_string())
        << comment;
    // An op on a path that is not a repo path is refused, not inverted.
    MstOp bad;
    bad.path = "not a path";
    bad.prev = Bytes(leaf);
    ops.push_back(bad);
    const auto e = verify_error([&] { mst_invert(m, after.root, ops, lim); });
    EXPECT_EQ(e.check(), Check::mst_proof);
    EXPECT_EQ(e.subject(), "not a path");
  }
}

TEST(Mst, InvertMatchesRebuildOnRandomCommits) {
  std::mt19937_64 rng(7);
  const char* colls[] = {"app.bsky.feed.post", "app.bsky.feed.like"};
  auto rand_key = [&] {
    return std::string(colls[rng() % 2]) + "/3k" + std::to_string(rng() % 1000000000ULL);
  };
  auto value_of = [](const std::string& s) {
    return cid_of(std::span(reinterpret_cast<const std::byte*>(s.data()), s.size()));
  };
  for (int round = 0; round < 40; ++round) {
    std::map<std::string, std::vector<std::byte>> before;
    const std::size_t n = rng() % 300;
    while (before.size() < n) {
      auto k = rand_key();
      before[k] = value_of(k);
    }
    // A commit: creates, updates and deletes of distinct paths.
    auto after = before;
    std::vector<std::string> paths;
    std::vector<Op> ops;
    const std::size_t nops = 1 + rng() % 8;
    std::set<std::string> touched;
    for (std::size_t i = 0; i < nops; ++i) {
      const auto roll = rng() % 3;
      Op op;
      if (roll == 0 || after.empty()) {
        op.path = rand_key();
      } else {
        auto it = after.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(rng() % after.size()));
        op.path = it->first;
      }
      if (!touched.insert(op.path).second) continue;
      const auto it = before.find(op.path);
      if (it != before.end()) op.prev = it->second;
      if (roll == 2 && op.prev) {
        after.erase(op.path);
      } else {
        op.cid = value_of(op.path + "v2");
        after[op.path] = *op.cid;
      }
      ops.push_back(std::move(op));
    }
    auto build = [](const std::map<std::string, std::vector<std::byte>>& m) {
      std::vector<MstEntryView> e;
      e.reserve(m.size());
      for (const auto& [k, v] : m) e.push_back({k, v});
      return mst_build(e);
    };
    const auto t_before = build(before);
    const auto t_after = build(after);
    BlockMap blocks;
    for (const auto& b : t_after.blocks) blocks.insert(b.cid, b.data);
    std::vector<MstOp> mops;
    for (const auto& o : ops) {
      MstOp m;
      m.path = o.path;
      if (o.cid) m.cid = Bytes(*o.cid);
      if (o.prev) m.prev = Bytes(*o.prev);
      mops.push_back(m);
    }
    std::shuffle(mops.begin(), mops.end(), rng);
    EXPECT_EQ(format_binary_cid(mst_invert(blocks, t_after.root, mops)), format_binary_cid(t_before.root))
        << "round " << round;
  }
}

}  // namespace
}  // namespace atdata::atproto
