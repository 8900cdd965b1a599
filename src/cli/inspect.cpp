#include "inspect.hpp"

#include <boost/json.hpp>

#include <iostream>
#include <map>
#include <optional>

#include "args.hpp"
#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/commit.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/atproto/event_frame.hpp"
#include "atdata/atproto/mst.hpp"
#include "atdata/atproto/signing_key.hpp"
#include "atdata/atproto/verifier.hpp"
#include "common.hpp"

namespace atdata::cli {
namespace {

namespace json = boost::json;
using namespace atdata::atproto;

const char* kFrameUsage =
    "usage: atdata frame FILE... [--did-doc FILE] [--no-verify]\n"
    "  Decodes each FILE as one event-stream frame (one binary WebSocket message of\n"
    "  com.atproto.sync.subscribeRepos) and prints one JSON line per frame: header, body\n"
    "  (blocks as their decoded records keyed by CID) and the verification result.\n"
    "  --did-doc FILE  the account's DID document (or an object of DID -> document, or of\n"
    "                  DID -> {\"didDoc\": document}); without it signatures are not checked\n"
    "  --no-verify     decode only";
const char* kRepoUsage =
    "usage: atdata repo FILE.car [--did-doc FILE]\n"
    "  Walks a repository export (com.atproto.sync.getRepo) and prints one JSON line per\n"
    "  record (collection, rkey, cid, value), then the commit and its verification result.\n"
    "  --did-doc FILE  as for `atdata frame`; without it the signature is not checked";

// Frames are at most FrameOptions::max_frame_bytes (8 MiB); repository
// exports are bounded only so that a wrong path cannot exhaust memory.
constexpr std::uint64_t kMaxInputBytes = 4ull << 30;

std::string read_file(const std::string& path) {
  return read_input(path, kMaxInputBytes);
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// DID -> signing key, from --did-doc.
class Keys {
 public:
  explicit Keys(const std::optional<std::string>& path) {
    if (!path) return;
    const std::string text = read_file(*path);
    json::value doc;
    try {
      doc = json::parse(text);
    } catch (const std::exception& e) {
      throw Error(*path + ": not JSON: " + e.what());
    }
    if (!doc.is_object()) throw Error(*path + ": not a JSON object");
    const auto& o = doc.as_object();
    if (o.contains("id")) {
      add(doc);
      return;
    }
    for (const auto& [did, v] : o) {
      const json::object* entry = v.if_object();
      if (entry && entry->contains("didDoc")) {
        add(entry->at("didDoc"));
      } else {
        add(v);
      }
    }
    if (keys_.empty()) throw Error(*path + ": no DID document in it");
  }
  bool empty() const noexcept { return keys_.empty(); }
  // nullptr when no document was given; VerifyError(key) when the account is
  // not among them.
  const PublicKey* find(std::string_view did) const {
    if (keys_.empty()) return nullptr;
    const auto it = keys_.find(std::string(did));
    if (it == keys_.end()) {
      throw VerifyError(
          VerifyError::Check::key, std::string(did),
          "--did-doc has no DID document for " + std::string(did) +
              " (give the account's document, e.g. from its PLC directory or /.well-known/did.json)");
    }
    return &it->second;
  }

 private:
  void add(const json::value& doc) {
    const auto* id = doc.is_object() ? doc.as_object().if_contains("id") : nullptr;
    if (!id || !id->is_string()) throw Error("--did-doc: a DID document has no string \"id\"");
    keys_.emplace(std::string(id->as_string()), PublicKey::from_did_document(doc));
  }
  std::map<std::string, PublicKey> keys_;
};

json::value block_json(std::span<const std::byte> cid, std::span<const std::byte> data) {
  if (cid.size() > 1 && static_cast<unsigned>(cid[1]) == kCodecDagCbor)
    return dag_cbor_to_json(dag_cbor_decode(data));
  return dag_cbor_to_json(DagCborValue::make_bytes(data));
}

json::object verify_failure(const VerifyError& e) {
  json::object v;
  v["ok"] = false;
  v["check"] = VerifyError::check_name(e.check());
  v["subject"] = e.subject();
  v["error"] = e.what();
  if (e.offset()) v["offset"] = *e.offset();
  return v;
}

json::object verify_failure(const DecodeError& e) {
  json::object v;
  v["ok"] = false;
  v["check"] = "decode";
  v["error"] = e.what();
  if (e.offset()) v["offset"] = *e.offset();
  return v;
}

// The verification member of a frame's line, and whether it passed.
std::pair<json::object, bool> verify_frame(const EventFrame& f, const Keys& keys) {
  json::object v;
  const bool commit = std::holds_alternative<CommitEvent>(f.event);
  const bool sync = std::holds_alternative<SyncEvent>(f.event);
  if (!commit && !sync) {
    v["ok"] = true;
    v["checked"] = "nothing to verify in a " + std::string(f.op == -1 ? "error frame" : std::string(f.type));
    return {v, true};
  }
  try {
    const std::string_view did =
        commit ? std::get<CommitEvent>(f.event).repo : std::get<SyncEvent>(f.event).did;
    const PublicKey* key = keys.find(did);
    const Verifier verifier;
    if (commit) {
      const auto r = key ? verifier.verify_commit(f, *key) : verifier.verify_commit_unsigned(f);
      v["ops"] = r.ops.size();
    } else {
      (void)(key ? verifier.verify_sync(f, *key) : verifier.verify_sync_unsigned(f));
    }
    v["ok"] = true;
    v["signature"] = key ? "ok" : "not checked (no --did-doc)";
    return {v, true};
  } catch (const VerifyError& e) {
    return {verify_failure(e), false};
  } catch (const DecodeError& e) {
    return {verify_failure(e), false};
  }
}

}  // namespace

int run_frame(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded(kFrameUsage, err, [&]() -> int {
    const ParsedArgs a = parse_args(args, {"--did-doc"}, {"--no-verify"});
    if (a.help) {
      out << kFrameUsage << "\n";
      return kExitOk;
    }
    if (a.positional.empty()) throw UsageError("give at least one frame FILE");
    const Keys keys(a.value("--did-doc"));
    const bool verify = !a.flag("--no-verify");
    int status = kExitOk;
    for (const std::string& path : a.positional) {
      const std::string bytes = read_file(path);
      EventFrame f;
      try {
        f = decode_event_frame(bytes_of(bytes));
      } catch (const DecodeError& e) {
        print_error(err, path + ": " + e.what());
        status = kExitError;
        continue;
      }
      json::object line;
      line["file"] = path;
      line["header"] = dag_cbor_to_json(f.header);
      json::value body = dag_cbor_to_json(f.body);
      if (const auto* blocks = f.body.find("blocks"); blocks && blocks->kind() == DagCborValue::Kind::bytes) {
        json::object decoded;
        try {
          CarOptions co;
          co.verify = false;  // the verification below reports mismatches
          CarReader reader(blocks->as_bytes(), co);
          while (auto b = reader.next()) decoded[format_binary_cid(b->cid)] = block_json(b->cid, b->data);
          body.as_object()["blocks"] = std::move(decoded);
        } catch (const Error& e) {
          body.as_object()["blocks"] = json::object{{"error", e.what()}};
        }
      }
      line["body"] = std::move(body);
      if (verify) {
        auto [v, ok] = verify_frame(f, keys);
        if (!ok) {
          print_error(err, path + ": " + std::string(v["error"].as_string()));
          status = kExitError;
        }
        line["verify"] = std::move(v);
      }
      out << json::serialize(line) << "\n";
    }
    return status;
  });
}

int run_repo(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  return guarded(kRepoUsage, err, [&]() -> int {
    const ParsedArgs a = parse_args(args, {"--did-doc"}, {});
    if (a.help) {
      out << kRepoUsage << "\n";
      return kExitOk;
    }
    if (a.positional.size() != 1) throw UsageError("give exactly one FILE.car");
    const Keys keys(a.value("--did-doc"));
    const std::string car = read_file(a.positional[0]);
    CarReader reader(bytes_of(car));
    if (reader.roots().size() != 1) {
      throw DecodeError("a repository export has exactly one root (its commit), this one has " +
                        std::to_string(reader.roots().size()));
    }
    const auto root = reader.roots().front();
    const BlockMap blocks = BlockMap::from_car(reader);
    const auto commit_block = blocks.find(root);
    if (!commit_block) {
      throw VerifyError(VerifyError::Check::block_missing, format_binary_cid(root),
                        "the commit block " + format_binary_cid(root) + " is not in the CAR");
    }
    const Commit commit = decode_commit(*commit_block);
    std::size_t records = 0;
    mst_walk(blocks, commit.data, [&](std::string_view key, std::span<const std::byte> cid) {
      const auto record = blocks.find(cid);
      if (!record) {
        throw VerifyError(
            VerifyError::Check::block_missing, format_binary_cid(cid),
            "the record " + format_binary_cid(cid) + " of " + std::string(key) + " is not in the CAR");
      }
      json::object line;
      const auto slash = key.find('/');
      line["collection"] = key.substr(0, slash);
      line["rkey"] = key.substr(slash + 1);
      line["cid"] = format_binary_cid(cid);
      line["value"] = block_json(cid, *record);
      out << json::serialize(line) << "\n";
      ++records;
    });
    json::object c;
    c["did"] = commit.did;
    c["rev"] = commit.rev;
    c["data"] = format_binary_cid(commit.data);
    c["version"] = commit.version;
    c["cid"] = format_binary_cid(root);
    json::object v;
    v["records"] = records;
    int status = kExitOk;
    try {
      const PublicKey* key = keys.find(commit.did);
      if (key) verify_commit_signature(commit, *key);
      v["ok"] = true;
      v["signature"] = key ? "ok" : "not checked (no --did-doc)";
    } catch (const VerifyError& e) {
      v = verify_failure(e);
      v["records"] = records;
      print_error(err, a.positional[0] + ": " + e.what());
      status = kExitError;
    }
    json::object line;
    line["commit"] = std::move(c);
    line["verify"] = std::move(v);
    out << json::serialize(line) << "\n";
    return status;
  });
}

}  // namespace atdata::cli
