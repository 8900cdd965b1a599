#include "atdata/atproto/mst.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/syntax.hpp"
#include "atdata/error.hpp"

namespace atdata::atproto {
namespace {

using Bytes = std::span<const std::byte>;
using Check = VerifyError::Check;

std::string_view as_chars(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

bool same_bytes(Bytes a, Bytes b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

bool is_key_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '~' || c == '-';
}

// Thrown by the node parser when the bytes do not have the node's exact
// canonical layout; parse_node then tells apart bad DAG-CBOR (DecodeError)
// from good DAG-CBOR that is not a node (VerifyError mst).
struct Malformed {
  std::string reason;
};

// parse_binary_cid_v1_sha256 checks the 36-byte form every ATProto CID has
// in place before its general varint path.
bool is_cid_v1_sha256(Bytes cid) {
  return parse_binary_cid_v1_sha256(cid).has_value();
}

bool is_dag_cbor_cid(Bytes cid) {
  const auto parsed = parse_binary_cid_v1_sha256(cid);
  return parsed && parsed->codec == kCodecDagCbor;
}

// Reads exactly the canonical DAG-CBOR of an MST node, without building a
// DagCborValue (no allocation per entry).
class NodeReader {
 public:
  explicit NodeReader(Bytes data) : d_(data) {}

  std::uint64_t head(unsigned want_major, const char* what) {
    if (pos_ >= d_.size()) throw Malformed{std::string("truncated before ") + what};
    const auto ib = static_cast<std::uint8_t>(d_[pos_++]);
    const unsigned major = ib >> 5;
    const unsigned ai = ib & 0x1f;
    if (major != want_major) throw Malformed{std::string(what) + " has the wrong CBOR type"};
    if (ai < 24) return ai;
    if (ai > 27) throw Malformed{std::string(what) + " has an invalid or indefinite length"};
    const std::size_t n = std::size_t{1} << (ai - 24);
    if (d_.size() - pos_ < n) throw Malformed{std::string("truncated in ") + what};
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(d_[pos_++]);
    static constexpr std::array<std::uint64_t, 4> kMin = {24, 0x100, 0x10000, 0x100000000ULL};
    if (v < kMin[ai - 24]) throw Malformed{std::string(what) + " has a non-minimal length"};
    return v;
  }

  void field(char name) {
    if (d_.size() - pos_ < 2 || d_[pos_] != std::byte{0x61} || static_cast<char>(d_[pos_ + 1]) != name) {
      throw Malformed{std::string("expected field '") + name + "'"};
    }
    pos_ += 2;
  }

  Bytes bytes(const char* what) {
    const auto n = head(2, what);
    if (n > d_.size() - pos_) throw Malformed{std::string("truncated in ") + what};
    Bytes out = d_.subspan(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return out;
  }

  // Empty span for null.
  Bytes link(const char* what, bool nullable) {
    if (pos_ < d_.size() && static_cast<std::uint8_t>(d_[pos_]) == 0xf6) {
      if (!nullable) throw Malformed{std::string(what) + " is null"};
      ++pos_;
      return {};
    }
    if (head(6, what) != 42) throw Malformed{std::string(what) + " is not a CID link"};
    const Bytes b = bytes(what);
    if (b.empty() || b[0] != std::byte{0}) throw Malformed{std::string(what) + " lacks the 0x00 prefix"};
    const Bytes cid = b.subspan(1);
    if (!is_cid_v1_sha256(cid)) throw Malformed{std::string(what) + " is not a CIDv1 sha2-256"};
    return cid;
  }

  bool at_end() const noexcept { return pos_ == d_.size(); }
  std::size_t remaining() const noexcept { return d_.size() - pos_; }

 private:
  Bytes d_;
  std::size_t pos_ = 0;
};

struct Entry {
  std::size_t key_off = 0;
  std::size_t key_len = 0;
  Bytes value;
  Bytes tree;  // empty when null
};

struct Node {
  Bytes left;  // empty when null
  std::vector<Entry> entries;
  std::string keys;  // every entry's full key, back to back
  unsigned layer = 0;

  std::string_view key(std::size_t i) const {
    return std::string_view(keys).substr(entries[i].key_off, entries[i].key_len);
  }
};

[[noreturn]] void bad_node(Bytes cid, const std::string& what) {
  const std::string c = format_binary_cid(cid);
  throw VerifyError(Check::mst, c, "MST node " + c + ": " + what);
}

Bytes load(const BlockMap& blocks, Bytes cid) {
  auto b = blocks.find(cid);
  if (!b) {
    const std::string c = format_binary_cid(cid);
    throw VerifyError(Check::block_missing, c, "MST node " + c + " is not among the blocks");
  }
  return *b;
}

void check_subtree_link(Bytes node_cid, Bytes link) {
  if (link.empty()) return;
  if (!is_dag_cbor_cid(link)) {
    bad_node(node_cid, "subtree link " + format_binary_cid(link) + " is not a dag-cbor CID");
  }
}

// Decodes and checks one node. `expected_layer` is nullopt for the root (its
// layer comes from its keys).
void parse_node(Bytes cid, Bytes data, std::optional<unsigned> expected_layer, const MstLimits& limits,
                Node& node) {
  node.entries.clear();
  node.keys.clear();
  try {
    NodeReader r(data);
    if (r.head(5, "node") != 2) throw Malformed{"node is not a map of 2 fields (e, l)"};
    r.field('e');
    const auto n = r.head(4, "field 'e'");
    if (n > limits.max_node_entries) {
      bad_node(cid, std::to_string(n) + " entries, more than the limit of " +
                        std::to_string(limits.max_node_entries));
    }
    // Each entry takes at least 20 bytes, so a hostile count reserves little.
    node.entries.reserve(std::min<std::size_t>(static_cast<std::size_t>(n), r.remaining() / 20));
    std::string_view prev;
    std::size_t prev_slash = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (r.head(5, "entry") != 4) throw Malformed{"entry is not a map of 4 fields (k, p, t, v)"};
      r.field('k');
      const Bytes suffix = r.bytes("field 'k'");
      r.field('p');
      const auto p = r.head(0, "field 'p'");
      r.field('t');
      const Bytes tree = r.link("field 't'", true);
      r.field('v');
      const Bytes value = r.link("field 'v'", false);

      auto at = [i] { return "entry " + std::to_string(i); };
      if (p > prev.size()) {
        bad_node(cid, at() + " shares " + std::to_string(p) + " bytes with a previous key of " +
                          std::to_string(prev.size()));
      }
      const auto plen = static_cast<std::size_t>(p);
      if (plen < prev.size() && !suffix.empty() && static_cast<char>(suffix[0]) == prev[plen]) {
        bad_node(cid, at() + " has prefix length " + std::to_string(p) + ", shorter than the shared prefix");
      }
      Entry e;
      e.key_off = node.keys.size();
      e.key_len = plen + suffix.size();
      e.value = value;
      e.tree = tree;
      // `prev` views node.keys, which append may move: copy the prefix first.
      const std::size_t prev_off = i == 0 ? 0 : node.entries.back().key_off;
      node.keys.append(node.keys, prev_off, plen);
      node.keys.append(as_chars(suffix));
      node.entries.push_back(e);
      const std::string_view key = node.key(node.entries.size() - 1);
      // A key sharing the previous key's "collection/" needs only its rkey checked.
      const bool same_collection = i > 0 && plen > prev_slash;
      const bool valid = same_collection ? key.size() <= 1024 && is_valid_rkey(key.substr(prev_slash + 1))
                                         : is_valid_mst_key(key, limits.nsid_collections);
      if (!valid) bad_node(cid, at() + " key '" + std::string(key) + "' is not a repo path");
      if (!same_collection) prev_slash = key.find('/');
      if (i > 0 && key <= node.key(node.entries.size() - 2)) {
        bad_node(cid, at() + " key '" + std::string(key) + "' does not sort after '" +
                          std::string(node.key(node.entries.size() - 2)) + "'");
      }
      prev = key;
    }
    r.field('l');
    node.left = r.link("field 'l'", true);
    if (!r.at_end()) throw Malformed{"bytes after the node"};
  } catch (const Malformed& m) {
    try {
      (void)dag_cbor_decode(data);
    } catch (const DecodeError& e) {
      // Not canonical DAG-CBOR: still a DecodeError, naming the node.
      std::string what = e.what();
      if (e.offset()) {
        const std::string suffix = " (at byte " + std::to_string(*e.offset()) + ")";
        if (what.size() >= suffix.size() &&
            what.compare(what.size() - suffix.size(), suffix.size(), suffix) == 0) {
          what.resize(what.size() - suffix.size());
        }
      }
      throw DecodeError("MST node " + format_binary_cid(cid) + ": " + what, e.offset());
    }
    bad_node(cid, "not an MST node (" + m.reason + ")");
  }

  if (node.entries.empty()) {
    if (!expected_layer && !node.left.empty()) bad_node(cid, "the root has no entries, only a subtree");
    if (expected_layer && node.left.empty()) bad_node(cid, "empty node below the root");
    node.layer = expected_layer.value_or(0);
  } else {
    node.layer = expected_layer ? *expected_layer : mst_key_layer(node.key(0));
    for (std::size_t i = 0; i < node.entries.size(); ++i) {
      const unsigned kl = mst_key_layer(node.key(i));
      if (kl != node.layer) {
        bad_node(cid, "key '" + std::string(node.key(i)) + "' belongs to layer " + std::to_string(kl) +
                          ", the node is at layer " + std::to_string(node.layer));
      }
    }
  }
  check_subtree_link(cid, node.left);
  for (const auto& e : node.entries) check_subtree_link(cid, e.tree);
  if (node.layer == 0) {
    bool sub = !node.left.empty();
    for (const auto& e : node.entries) sub = sub || !e.tree.empty();
    if (sub) bad_node(cid, "a layer-0 node has a subtree");
  }
}

struct Frame {
  Node node;
  Bytes cid;
  std::size_t pos = 0;  // 0: left subtree; 2i+1: entry i; 2i+2: subtree after entry i
};

}  // namespace

unsigned mst_key_layer(std::string_view key) noexcept {
  const auto h = sha256(std::span(reinterpret_cast<const std::byte*>(key.data()), key.size()));
  unsigned zeros = 0;
  for (const std::byte b : h) {
    const auto v = static_cast<std::uint8_t>(b);
    if (v == 0) {
      zeros += 8;
      continue;
    }
    for (std::uint8_t mask = 0x80; (v & mask) == 0; mask >>= 1) ++zeros;
    break;
  }
  return zeros / 2;
}

bool is_valid_mst_key(std::string_view key, bool nsid_collection) noexcept {
  if (key.empty() || key.size() > 1024) return false;
  const auto slash = key.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;
  const auto collection = key.substr(0, slash);
  const auto rkey = key.substr(slash + 1);
  if (!is_valid_rkey(rkey)) return false;  // also rejects a second '/'
  if (nsid_collection) return is_valid_nsid(collection);
  return std::all_of(collection.begin(), collection.end(), is_key_char);
}

void mst_walk(const BlockMap& blocks, Bytes root, MstVisitor visit, const MstLimits& limits) {
  std::vector<Frame> frames;
  std::size_t depth = 0;
  std::size_t nodes = 0;
  std::string prev_key;
  bool have_prev = false;

  auto push = [&](Bytes cid, std::optional<unsigned> layer) {
    if (depth >= limits.max_depth)
      bad_node(cid, "deeper than " + std::to_string(limits.max_depth) + " levels");
    if (++nodes > limits.max_nodes) bad_node(cid, "more than " + std::to_string(limits.max_nodes) + " nodes");
    if (frames.size() == depth) frames.emplace_back();
    Frame& f = frames[depth];
    f.cid = cid;
    f.pos = 0;
    parse_node(cid, load(blocks, cid), layer, limits, f.node);
    ++depth;
  };

  push(root, std::nullopt);
  while (depth > 0) {
    Frame& f = frames[depth - 1];
    const std::size_t n = f.node.entries.size();
    if (f.pos > 2 * n) {
      --depth;
      continue;
    }
    const std::size_t pos = f.pos++;
    if (pos % 2 == 1) {
      const std::size_t i = pos / 2;
      const std::string_view key = f.node.key(i);
      if (have_prev && key <= prev_key) {
        bad_node(f.cid, "key '" + std::string(key) + "' is not within its subtree's range (after '" +
                            prev_key + "')");
      }
      prev_key.assign(key);
      have_prev = true;
      visit(key, f.node.entries[i].value);
      continue;
    }
    const Bytes sub = pos == 0 ? f.node.left : f.node.entries[pos / 2 - 1].tree;
    if (!sub.empty()) push(sub, f.node.layer - 1);  // `f` may dangle after this
  }
}

std::optional<Bytes> mst_get(const BlockMap& blocks, Bytes root, std::string_view key,
                             const MstLimits& limits) {
  Node node;
  std::string lo;
  std::string hi;
  bool has_lo = false;
  bool has_hi = false;
  Bytes cid = root;
  std::optional<unsigned> layer;
  for (std::size_t depth = 0;; ++depth) {
    if (depth >= limits.max_depth)
      bad_node(cid, "deeper than " + std::to_string(limits.max_depth) + " levels");
    parse_node(cid, load(blocks, cid), layer, limits, node);
    const std::size_t n = node.entries.size();
    if (n > 0 && ((has_lo && node.key(0) <= lo) || (has_hi && node.key(n - 1) >= hi))) {
      bad_node(cid, "keys outside the range its parent gives it");
    }
    std::size_t i = 0;
    while (i < n && node.key(i) < key) ++i;
    if (i < n && node.key(i) == key) return node.entries[i].value;
    const Bytes sub = i == 0 ? node.left : node.entries[i - 1].tree;
    if (sub.empty()) return std::nullopt;
    if (i > 0) {
      lo.assign(node.key(i - 1));
      has_lo = true;
    }
    if (i < n) {
      hi.assign(node.key(i));
      has_hi = true;
    }
    cid = sub;
    layer = node.layer - 1;
  }
}

void mst_prove(const BlockMap& blocks, Bytes root, std::string_view path, std::optional<Bytes> expected,
               const MstLimits& limits) {
  std::optional<Bytes> found;
  try {
    found = mst_get(blocks, root, path, limits);
  } catch (const VerifyError& e) {
    if (e.check() != Check::block_missing) throw;
    throw VerifyError(
        Check::mst_proof, std::string(path),
        "no proof for " + std::string(path) + ": MST node " + e.subject() + " on its path is missing");
  }
  const std::string p(path);
  if (expected) {
    if (!found) {
      throw VerifyError(Check::mst_proof, p,
                        p + " is not in the tree, the op says " + format_binary_cid(*expected));
    }
    if (!same_bytes(*found, *expected)) {
      throw VerifyError(Check::mst_proof, p,
                        p + " is " + format_binary_cid(*found) + " in the tree, the op says " +
                            format_binary_cid(*expected));
    }
  } else if (found) {
    throw VerifyError(Check::mst_proof, p,
                      p + " is still in the tree (" + format_binary_cid(*found) + ") but the op deletes it");
  }
}

namespace {

void put_head(std::vector<std::byte>& out, unsigned major, std::uint64_t v) {
  const auto ib = static_cast<std::uint8_t>(major << 5);
  auto push = [&](std::uint64_t x) { out.push_back(static_cast<std::byte>(x & 0xff)); };
  if (v < 24) {
    push(ib | v);
  } else if (v <= 0xff) {
    push(ib | 24);
    push(v);
  } else if (v <= 0xffff) {
    push(ib | 25);
    push(v >> 8);
    push(v);
  } else if (v <= 0xffffffffULL) {
    push(ib | 26);
    for (int s = 24; s >= 0; s -= 8) push(v >> s);
  } else {
    push(ib | 27);
    for (int s = 56; s >= 0; s -= 8) push(v >> s);
  }
}

void put_field(std::vector<std::byte>& out, char name) {
  out.push_back(std::byte{0x61});
  out.push_back(static_cast<std::byte>(name));
}

void put_link(std::vector<std::byte>& out, Bytes cid) {
  if (cid.empty()) {
    out.push_back(std::byte{0xf6});
    return;
  }
  put_head(out, 6, 42);
  put_head(out, 2, cid.size() + 1);
  out.push_back(std::byte{0});
  out.insert(out.end(), cid.begin(), cid.end());
}

class Builder {
 public:
  Builder(std::span<const MstEntryView> entries, std::vector<unsigned> layers, MstBuild& out)
      : entries_(entries), layers_(std::move(layers)), out_(out) {}

  // CID (index into out_.blocks) of the node at `layer` holding the keys
  // [lo, hi), which must be non-empty and below the layer above.
  std::size_t build(std::size_t lo, std::size_t hi, unsigned layer) {
    std::vector<std::size_t> here;
    for (std::size_t i = lo; i < hi; ++i) {
      if (layers_[i] == layer) here.push_back(i);
    }
    std::vector<std::byte> left;
    std::vector<std::vector<std::byte>> trees(here.size());
    if (here.empty()) {
      left = out_.blocks[build(lo, hi, layer - 1)].cid;
    } else {
      if (here.front() > lo) left = out_.blocks[build(lo, here.front(), layer - 1)].cid;
      for (std::size_t k = 0; k < here.size(); ++k) {
        const std::size_t a = here[k] + 1;
        const std::size_t b = k + 1 < here.size() ? here[k + 1] : hi;
        if (a < b) trees[k] = out_.blocks[build(a, b, layer - 1)].cid;
      }
    }
    MstBlock block;
    auto& d = block.data;
    d.push_back(std::byte{0xa2});
    put_field(d, 'e');
    put_head(d, 4, here.size());
    std::string_view prev;
    for (std::size_t k = 0; k < here.size(); ++k) {
      const auto& e = entries_[here[k]];
      std::size_t p = 0;
      while (p < prev.size() && p < e.key.size() && prev[p] == e.key[p]) ++p;
      d.push_back(std::byte{0xa4});
      put_field(d, 'k');
      put_head(d, 2, e.key.size() - p);
      for (const char c : e.key.substr(p)) d.push_back(static_cast<std::byte>(c));
      put_field(d, 'p');
      put_head(d, 0, p);
      put_field(d, 't');
      put_link(d, trees[k]);
      put_field(d, 'v');
      put_link(d, e.value);
      prev = e.key;
    }
    put_field(d, 'l');
    put_link(d, left);
    const auto cid = binary_cid_v1_sha256(kCodecDagCbor, sha256(d));
    block.cid.assign(cid.begin(), cid.end());
    out_.blocks.push_back(std::move(block));
    return out_.blocks.size() - 1;
  }

 private:
  std::span<const MstEntryView> entries_;
  std::vector<unsigned> layers_;
  MstBuild& out_;
};

}  // namespace

MstBuild mst_build(std::span<const MstEntryView> entries, bool nsid_collections) {
  std::vector<unsigned> layers;
  layers.reserve(entries.size());
  unsigned top = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (!is_valid_mst_key(e.key, nsid_collections)) {
      throw InvalidArgument("mst_build: '" + std::string(e.key) + "' is not a repo path");
    }
    if (i > 0 && e.key <= entries[i - 1].key) {
      throw InvalidArgument("mst_build: keys not in strictly increasing order at '" + std::string(e.key) +
                            "'");
    }
    if (!parse_binary_cid_v1_sha256(e.value)) {
      throw InvalidArgument("mst_build: the value of '" + std::string(e.key) +
                            "' is not a binary CIDv1 sha2-256");
    }
    layers.push_back(mst_key_layer(e.key));
    top = std::max(top, layers.back());
  }
  MstBuild out;
  if (entries.empty()) {
    MstBlock block;
    block.data = {std::byte{0xa2}, std::byte{0x61}, std::byte{'e'}, std::byte{0x80},
                  std::byte{0x61}, std::byte{'l'},  std::byte{0xf6}};
    const auto cid = binary_cid_v1_sha256(kCodecDagCbor, sha256(block.data));
    block.cid.assign(cid.begin(), cid.end());
    out.blocks.push_back(std::move(block));
    out.root = out.blocks.back().cid;
    return out;
  }
  Builder b(entries, std::move(layers), out);
  out.root = out.blocks[b.build(0, entries.size(), top)].cid;
  return out;
}

std::vector<std::byte> mst_root_of(std::span<const MstEntryView> entries, bool nsid_collections) {
  return mst_build(entries, nsid_collections).root;
}

}  // namespace atdata::atproto

// ---- inverting a commit on its partial tree ------------------------------------

namespace atdata::atproto {
namespace {

struct LNode;

// A subtree link: unloaded (its CID), loaded (the node, edited in memory) or
// null (neither).
struct Child {
  std::vector<std::byte> cid;
  std::unique_ptr<LNode> node;
  bool null() const noexcept { return cid.empty() && !node; }
};

struct LEntry {
  std::string key;
  std::vector<std::byte> value;
  Child right;
};

struct LNode {
  unsigned layer = 0;
  Child left;
  std::vector<LEntry> entries;
};

class Editor {
 public:
  Editor(const BlockMap& blocks, const MstLimits& limits) : blocks_(blocks), limits_(limits) {}

  // Loads `c` (non-null) as a node at `layer` (nullopt: the root).
  LNode& load(Child& c, std::optional<unsigned> layer) {
    if (c.node) return *c.node;
    parse_node(c.cid, atdata::atproto::load(blocks_, c.cid), layer, limits_, scratch_);
    auto n = std::make_unique<LNode>();
    n->layer = scratch_.layer;
    n->left.cid.assign(scratch_.left.begin(), scratch_.left.end());
    n->entries.reserve(scratch_.entries.size());
    for (std::size_t i = 0; i < scratch_.entries.size(); ++i) {
      LEntry e;
      e.key.assign(scratch_.key(i));
      e.value.assign(scratch_.entries[i].value.begin(), scratch_.entries[i].value.end());
      e.right.cid.assign(scratch_.entries[i].tree.begin(), scratch_.entries[i].tree.end());
      n->entries.push_back(std::move(e));
    }
    c.cid.clear();
    c.node = std::move(n);
    return *c.node;
  }

  static std::size_t lower_bound(const LNode& n, std::string_view key) {
    std::size_t i = 0;
    while (i < n.entries.size() && n.entries[i].key < key) ++i;
    return i;
  }
  static Child& child_before(LNode& n, std::size_t i) { return i == 0 ? n.left : n.entries[i - 1].right; }

  static Child node_child(std::unique_ptr<LNode> n) {
    Child c;
    if (n->entries.empty() && n->left.null()) return c;  // nothing left: no node
    c.node = std::move(n);
    return c;
  }

  // A new subtree at `layer` holding only `key` (at `key_layer` <= layer),
  // with empty intermediate nodes between.
  static Child chain(unsigned layer, std::string_view key, Bytes value, unsigned key_layer) {
    auto n = std::make_unique<LNode>();
    n->layer = layer;
    if (layer == key_layer) {
      LEntry e;
      e.key.assign(key);
      e.value.assign(value.begin(), value.end());
      n->entries.push_back(std::move(e));
    } else {
      n->left = chain(layer - 1, key, value, key_layer);
    }
    Child c;
    c.node = std::move(n);
    return c;
  }

  // Splits the subtree `c` at `layer` around `key` (not in it).
  std::pair<Child, Child> split(Child c, unsigned layer, std::string_view key) {
    if (c.null()) return {};
    LNode& n = load(c, layer);
    const std::size_t i = lower_bound(n, key);
    std::pair<Child, Child> sub;
    if (layer > 0) sub = split(std::move(child_before(n, i)), layer - 1, key);
    auto a = std::make_unique<LNode>();
    a->layer = layer;
    if (i == 0) {
      a->left = std::move(sub.first);
    } else {
      a->left = std::move(n.left);
      for (std::size_t k = 0; k < i; ++k) a->entries.push_back(std::move(n.entries[k]));
      a->entries.back().right = std::move(sub.first);
    }
    auto b = std::move(c.node);
    b->entries.erase(b->entries.begin(), b->entries.begin() + static_cast<std::ptrdiff_t>(i));
    b->left = std::move(sub.second);
    return {node_child(std::move(a)), node_child(std::move(b))};
  }

  // Joins two adjacent subtrees at `layer` (all of `a` sorts before `b`).
  Child merge(Child a, Child b, unsigned layer) {
    if (a.null()) return b;
    if (b.null()) return a;
    LNode& na = load(a, layer);
    LNode& nb = load(b, layer);
    Child& last = na.entries.empty() ? na.left : na.entries.back().right;
    Child mid = layer > 0 ? merge(std::move(last), std::move(nb.left), layer - 1) : Child{};
    last = std::move(mid);
    for (auto& e : nb.entries) na.entries.push_back(std::move(e));
    return a;
  }

  void put(Child& t, unsigned layer, std::string_view key, Bytes value, unsigned key_layer) {
    if (t.null()) {
      t = chain(layer, key, value, key_layer);
      return;
    }
    LNode& n = load(t, layer);
    const std::size_t i = lower_bound(n, key);
    if (key_layer == layer) {
      if (i < n.entries.size() && n.entries[i].key == key) {
        n.entries[i].value.assign(value.begin(), value.end());
        return;
      }
      Child& before = child_before(n, i);
      auto halves = layer > 0 ? split(std::move(before), layer - 1, key) : std::pair<Child, Child>{};
      child_before(n, i) = std::move(halves.first);
      LEntry e;
      e.key.assign(key);
      e.value.assign(value.begin(), value.end());
      e.right = std::move(halves.second);
      n.entries.insert(n.entries.begin() + static_cast<std::ptrdiff_t>(i), std::move(e));
      return;
    }
    put(child_before(n, i), layer - 1, key, value, key_layer);
  }

  // False when `key` is not in the subtree.
  bool remove(Child& t, unsigned layer, std::string_view key) {
    if (t.null()) return false;
    LNode& n = load(t, layer);
    const std::size_t i = lower_bound(n, key);
    bool found = true;
    if (i < n.entries.size() && n.entries[i].key == key) {
      Child right = std::move(n.entries[i].right);
      Child left = std::move(child_before(n, i));
      Child joined = layer > 0 ? merge(std::move(left), std::move(right), layer - 1) : Child{};
      n.entries.erase(n.entries.begin() + static_cast<std::ptrdiff_t>(i));
      child_before(n, i) = std::move(joined);
    } else if (layer == 0) {
      return false;
    } else {
      found = remove(child_before(n, i), layer - 1, key);
    }
    if (n.entries.empty() && n.left.null()) t = Child{};
    return found;
  }

  // Root operations: the root's layer follows its keys.
  void put_root(Child& root, std::string_view key, Bytes value) {
    const unsigned kl = mst_key_layer(key);
    LNode& r = load(root, std::nullopt);
    if (r.entries.empty() && r.left.null()) {
      root = chain(kl, key, value, kl);
      return;
    }
    if (kl <= r.layer) {
      put(root, r.layer, key, value, kl);
      return;
    }
    const unsigned old = r.layer;
    auto halves = split(std::move(root), old, key);
    for (unsigned l = old + 1; l < kl; ++l) {
      for (Child* h : {&halves.first, &halves.second}) {
        if (h->null()) continue;
        auto up = std::make_unique<LNode>();
        up->layer = l;
        up->left = std::move(*h);
        h->node = std::move(up);
      }
    }
    auto top = std::make_unique<LNode>();
    top->layer = kl;
    top->left = std::move(halves.first);
    LEntry e;
    e.key.assign(key);
    e.value.assign(value.begin(), value.end());
    e.right = std::move(halves.second);
    top->entries.push_back(std::move(e));
    root = Child{};
    root.node = std::move(top);
  }

  bool remove_root(Child& root, std::string_view key) {
    const unsigned layer = load(root, std::nullopt).layer;
    const bool found = remove(root, layer, key);
    // The top of the tree must not be an empty node linking down.
    while (!root.null()) {
      LNode& r = load(root, std::nullopt);
      if (!r.entries.empty() || r.left.null()) break;
      Child down = std::move(r.left);
      load(down, r.layer - 1);
      root = std::move(down);
    }
    if (root.null()) root.node = std::make_unique<LNode>();  // the empty tree
    return found;
  }

  // CID of `c` (empty for null), encoding loaded nodes.
  static std::vector<std::byte> cid(Child& c) {
    if (!c.node) return c.cid;
    LNode& n = *c.node;
    std::vector<std::byte> left = cid(n.left);
    std::vector<std::vector<std::byte>> trees;
    trees.reserve(n.entries.size());
    for (auto& e : n.entries) trees.push_back(cid(e.right));
    std::vector<std::byte> d;
    d.push_back(std::byte{0xa2});
    put_field(d, 'e');
    put_head(d, 4, n.entries.size());
    std::string_view prev;
    for (std::size_t k = 0; k < n.entries.size(); ++k) {
      const std::string_view key = n.entries[k].key;
      std::size_t p = 0;
      while (p < prev.size() && p < key.size() && prev[p] == key[p]) ++p;
      d.push_back(std::byte{0xa4});
      put_field(d, 'k');
      put_head(d, 2, key.size() - p);
      for (const char ch : key.substr(p)) d.push_back(static_cast<std::byte>(ch));
      put_field(d, 'p');
      put_head(d, 0, p);
      put_field(d, 't');
      put_link(d, trees[k]);
      put_field(d, 'v');
      put_link(d, n.entries[k].value);
      prev = key;
    }
    put_field(d, 'l');
    put_link(d, left);
    const auto cid = binary_cid_v1_sha256(kCodecDagCbor, sha256(d));
    return std::vector<std::byte>(cid.begin(), cid.end());
  }

 private:
  const BlockMap& blocks_;
  const MstLimits& limits_;
  Node scratch_;
};

}  // namespace

std::vector<std::byte> mst_invert(const BlockMap& blocks, Bytes root, std::span<const MstOp> ops,
                                  const MstLimits& limits) {
  Editor ed(blocks, limits);
  Child tree;
  tree.cid.assign(root.begin(), root.end());
  for (const auto& op : ops) {
    const std::string path(op.path);
    if (!is_valid_mst_key(op.path, limits.nsid_collections)) {
      throw VerifyError(Check::mst_proof, path, "'" + path + "' is not a repo path");
    }
    try {
      if (op.prev) {
        ed.put_root(tree, op.path, *op.prev);
      } else if (!ed.remove_root(tree, op.path)) {
        throw VerifyError(Check::mst_proof, path, path + " is created by the commit but not in its tree");
      }
    } catch (const VerifyError& e) {
      if (e.check() != Check::block_missing) throw;
      throw VerifyError(Check::mst_proof, path,
                        "cannot invert the op on " + path + ": MST node " + e.subject() + " is missing");
    }
  }
  return Editor::cid(tree);
}

}  // namespace atdata::atproto
