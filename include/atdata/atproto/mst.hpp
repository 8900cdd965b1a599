#pragma once
// The repository Merkle Search Tree (MST): the map from record paths
// ("collection/rkey") to record CIDs whose root CID is a commit's `data`.
// Sans-I/O: every function reads nodes from a BlockMap (a whole getRepo
// export or the partial tree a firehose #commit carries) and never fetches.
//
// A node is the DAG-CBOR map {l: link|null, e: [{p, k, v, t}]}: `l` the
// subtree left of every entry, `p` how many leading bytes the key shares with
// the previous key of the node, `k` the rest of the key, `v` the record CID,
// `t` the subtree right of the entry (before the next one). A key's layer is
// the number of leading zero bits of SHA-256(key) divided by two (fanout 4);
// a node holds the keys of one layer and its subtrees are one layer lower.
//
// Nodes are checked strictly on every read, so a tree that is accepted is the
// one canonical MST of its keys: canonical DAG-CBOR, all fields typed, keys
// valid repo paths in strictly increasing order across the whole tree, every
// key at its node's layer, prefix lengths exactly the shared prefix, subtree
// links to dag-cbor CIDs one layer down holding keys between their neighbours,
// no empty node other than the root of an empty tree, and no root that is
// only a link to a subtree. Violations are VerifyError(Check::mst, node CID);
// a node needed but not in the BlockMap is VerifyError(Check::block_missing,
// its CID); bytes that are not canonical DAG-CBOR are DecodeError.

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "atdata/atproto/block_map.hpp"

namespace atdata::atproto {

struct MstLimits {
  // Nodes from the root down to the lowest layer. Layers fall by one per
  // level, so this also bounds the root's layer; a cycle of links can only
  // come back at a lower layer and is rejected as such.
  std::size_t max_depth = 64;
  // Entries of one node (about 4 expected; a longer run takes mined keys).
  std::size_t max_node_entries = 4096;
  // Nodes one mst_walk visits.
  std::size_t max_nodes = 10'000'000;
  // Keys' collection part must be an NSID. When false, any non-empty run of
  // [A-Za-z0-9._:~-] is accepted, as @atproto/repo's key check does (its test
  // trees use keys like "A0/374913").
  bool nsid_collections = true;
};

// Layer of a key: leading zero bits of SHA-256(key), counted in pairs.
unsigned mst_key_layer(std::string_view key) noexcept;

// "collection/rkey", at most 1024 bytes: collection an NSID (or, when
// `nsid_collection` is false, non-empty [A-Za-z0-9._:~-]), rkey a record key.
bool is_valid_mst_key(std::string_view key, bool nsid_collection = true) noexcept;

// Called for each (key, value CID) in key order. The views are valid during
// the call only (the key is rebuilt in a reused buffer, the CID points into
// the node block). Non-owning, like a function reference: the callable must
// outlive the call it is passed to, as a lambda argument does.
class MstVisitor {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, MstVisitor>>>
  MstVisitor(F&& f) noexcept  // NOLINT(google-explicit-constructor): lambdas convert
      : ctx_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* ctx, std::string_view k, std::span<const std::byte> v) {
          (*static_cast<std::remove_reference_t<F>*>(ctx))(k, v);
        }) {}
  void operator()(std::string_view key, std::span<const std::byte> value) const { call_(ctx_, key, value); }

 private:
  void* ctx_;
  void (*call_)(void*, std::string_view, std::span<const std::byte>);
};

// Every entry of the tree under `root` (a binary CID), in key order. The
// whole tree must be in `blocks`; depth-first with an explicit stack, so
// hostile input cannot exhaust the call stack.
void mst_walk(const BlockMap& blocks, std::span<const std::byte> root, MstVisitor visit,
              const MstLimits& limits = {});

// The value CID at `key` (a view into the node block), or nullopt when the
// tree has no such key. Reads only the nodes on the key's path, so it works
// on the partial tree of a #commit; each of those nodes is checked as above.
std::optional<std::span<const std::byte>> mst_get(const BlockMap& blocks, std::span<const std::byte> root,
                                                  std::string_view key, const MstLimits& limits = {});

// Proves one operation of a commit against the tree under `root`: with
// `expected`, that `path` maps to that CID (create, update); without, that
// `path` is absent (delete). Throws VerifyError(Check::mst_proof, path, ...)
// naming what is wrong: the path is not in the tree, it maps to another CID,
// it is present although deleted, or a node on its path is missing from
// `blocks`. Malformed nodes stay VerifyError(Check::mst, node CID).
void mst_prove(const BlockMap& blocks, std::span<const std::byte> root, std::string_view path,
               std::optional<std::span<const std::byte>> expected, const MstLimits& limits = {});

struct MstEntryView {
  std::string_view key;
  std::span<const std::byte> value;  // binary CID
};

struct MstBlock {
  std::vector<std::byte> cid;   // binary CIDv1 dag-cbor sha2-256
  std::vector<std::byte> data;  // canonical DAG-CBOR node
};

struct MstBuild {
  std::vector<std::byte> root;
  std::vector<MstBlock> blocks;  // every node of the tree
};

// The canonical MST of `entries`, which must be in strictly increasing key
// order with valid keys (per `nsid_collections`) and binary CIDv1 sha2-256
// values; InvalidArgument otherwise. An empty list gives the empty tree (one
// node with no entries).
MstBuild mst_build(std::span<const MstEntryView> entries, bool nsid_collections = true);
// Root CID only (same as mst_build(...).root).
std::vector<std::byte> mst_root_of(std::span<const MstEntryView> entries, bool nsid_collections = true);

// One operation of a commit, for mst_invert: `cid` the record after it
// (nullopt for a delete), `prev` the record before it (nullopt for a create).
struct MstOp {
  std::string_view path;
  std::optional<std::span<const std::byte>> cid;
  std::optional<std::span<const std::byte>> prev;
};

// The root CID the tree under `root` had before `ops`: each op is undone on
// the tree (a create removed, an update or delete put back to `prev`),
// reading only the nodes that needs, so it runs on the partial tree of a
// firehose #commit. Comparing the result with the commit's `prevData` proves
// the commit's ops are the whole change (sync v1.1 "inductive" check). A node
// the inversion needs that is missing, or a created path that is not in the
// tree, is VerifyError(Check::mst_proof, path, ...).
std::vector<std::byte> mst_invert(const BlockMap& blocks, std::span<const std::byte> root,
                                  std::span<const MstOp> ops, const MstLimits& limits = {});

}  // namespace atdata::atproto
