// The C++ blocks of docs/repository.md, compiled and run on a captured
// firehose frame and a getRepo export of the official PDS (copied into a
// scratch directory under the names the doc uses).

#include <boost/json.hpp>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "snippet_support.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<std::byte> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), {});
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

boost::json::value read_json(const std::string& path) {
  std::ifstream f(path);
  return boost::json::parse(std::string((std::istreambuf_iterator<char>(f)), {}));
}

int records_seen = 0;
int ops_seen = 0;
void index_record(std::string_view, std::string_view, const boost::json::value& record) {
  snippet::check(record.at("$type") == "ac.foundation.dataset.record", "a dataset record");
  ++records_seen;
}
void forget_record(std::string_view, std::string_view) {}

}  // namespace

// [snippet repository-verify]
#include "atdata/atproto/event_frame.hpp"
#include "atdata/atproto/verifier.hpp"
using namespace atdata::atproto;

void on_message(std::span<const std::byte> message, const PublicKey& key) {
  const EventFrame frame = decode_event_frame(message);  // views into `message`
  if (const auto* commit = std::get_if<CommitEvent>(&frame.event)) {
    try {
      VerifiedCommit v = Verifier().verify_commit(frame, key);
      for (const VerifiedOp& op : v.ops) {
        if (op.action == RepoOp::Action::remove) {
          forget_record(v.did, op.path);
        } else {
          index_record(v.did, op.path, dag_cbor_to_json(dag_cbor_decode(op.record)));
        }
      }
    } catch (const atdata::VerifyError& e) {
      // e.g. check() == Check::signature, subject() == the repo's DID
      std::cerr << commit->repo << " " << commit->rev << ": " << atdata::VerifyError::check_name(e.check())
                << ": " << e.what() << "\n";
    }
  }
}
// [end repository-verify]

void run_verify() {
  // [snippet repository-key]
  // The account's signing key, from its DID document (resolve it once and
  // cache it: keys change only with an #identity event).
  boost::json::value did_document = read_json("did.json");
  PublicKey key = PublicKey::from_did_document(did_document);
  // [end repository-key]
  const auto frame = read_file("commit.bin");
  on_message(frame, key);
  snippet::check(records_seen == 1, "the verified create reached index_record");
  ops_seen = records_seen;

  // A tampered frame reaches the catch clause instead.
  auto bad = frame;
  bad[bad.size() / 2] ^= std::byte{0x01};
  try {
    on_message(bad, key);
  } catch (const atdata::DecodeError&) {
  }
  snippet::check(records_seen == 1, "a tampered frame is not indexed");
}

// [snippet repository-walk]
#include "atdata/atproto/block_map.hpp"
#include "atdata/atproto/car.hpp"
#include "atdata/atproto/commit.hpp"
#include "atdata/atproto/mst.hpp"

void print_repository(const std::vector<std::byte>& car, const PublicKey& key) {
  CarReader reader(car);  // checks every block's bytes against its CID
  BlockMap blocks = BlockMap::from_car(reader);
  Commit commit = decode_commit(*blocks.find(reader.roots().at(0)));
  verify_commit_signature(commit, key);

  mst_walk(blocks, commit.data, [&](std::string_view path, std::span<const std::byte> cid) {
    boost::json::value record = dag_cbor_to_json(dag_cbor_decode(*blocks.find(cid)));
    std::cout << path << " " << format_binary_cid(cid) << " " << record << "\n";
  });
}
// [end repository-walk]

// [snippet repository-json]
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/dag_cbor.hpp"

// A record as getRecord returns it -> its canonical bytes -> its CID.
std::string record_cid(const boost::json::value& record) {
  std::vector<std::byte> bytes = dag_cbor_encode_json(record);  // InvalidArgument for floats etc.
  return cid_v1_sha256(kCodecDagCbor, sha256(bytes));           // "bafyrei…"
}
// [end repository-json]

void run_walk() {
  const auto car = read_file("repo.car");  // com.atproto.sync.getRepo
  print_repository(car, PublicKey::from_did_document(read_json("did.json")));
}

void run_json() {
  const boost::json::value record =
      boost::json::parse(R"({"$type":"com.example.note","text":"hello","createdAt":"2026-12-02T00:00:00Z"})");
  const std::string cid = record_cid(record);
  snippet::check(cid.rfind("bafyrei", 0) == 0, "a dag-cbor CID");
  snippet::check(dag_cbor_to_json(dag_cbor_decode(dag_cbor_encode_json(record))) == record,
                 "JSON round trip");
  // The PDS's CID for a record of the captured repository.
  const auto car = read_file("repo.car");
  CarReader reader(car);
  const BlockMap blocks = BlockMap::from_car(reader);
  const Commit commit = decode_commit(*blocks.find(reader.roots().at(0)));
  int checked = 0;
  mst_walk(blocks, commit.data, [&](std::string_view, std::span<const std::byte> cid_bytes) {
    const auto json = dag_cbor_to_json(dag_cbor_decode(*blocks.find(cid_bytes)));
    snippet::check(record_cid(json) == format_binary_cid(cid_bytes), "record_cid gives the PDS's CID");
    ++checked;
  });
  snippet::check(checked == 4, "four records");
}

int main() {
  try {
    snippet::ScratchDir dir;
    const fs::path data = ATDATA_SNIPPET_DATA_DIR;
    fs::copy_file(data / "repo" / "alice.car", "repo.car");
    run_json();
    // The frame's account (alice of the capture run) and its document.
    fs::copy_file(data / "firehose" / "frame-004.bin", "commit.bin");
    const auto dids = read_json((data / "firehose" / "dids.json").string());
    std::ofstream("did.json") << boost::json::serialize(
        dids.at("did:plc:7tgzjy4e57zsigdlaf226lra").at("didDoc"));
    run_verify();
    fs::copy_file(data / "repo" / "alice-did.json", "did.json", fs::copy_options::overwrite_existing);
    run_walk();
  } catch (const std::exception& e) {
    std::cerr << "snippet failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
