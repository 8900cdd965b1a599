// Event-stream frame decoding, one core: the loop the TypeScript reference
// (bench/ts/firehose-decode.js) runs on the same files, so the two print
// comparable JSON lines. Per frame: decode_event_frame, then for #commit and
// #sync the blocks CAR with every block's CID verified, and every dag-cbor
// block decoded. bench/firehose.sh runs both; docs/benchmarks.md has the
// results.
//   bench_firehose_decode <frames-dir> [--seconds S]
//   bench_firehose_decode <frames-dir> --verify <dids.json> [--seconds S]
// The second form is full verification per #commit (Verifier::verify_commit:
// CIDs, commit, signature, MST proofs, prevData), next to
// bench/ts/firehose-verify.js; the set "small" is the small commits with ops,
// as the TypeScript side counts them.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "atdata/atproto/car.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/event_frame.hpp"
#include "atdata/atproto/verifier.hpp"

#include <boost/json.hpp>
#include <map>

namespace {

using namespace atdata::atproto;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::vector<std::byte> read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), {});
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

// Returns the number of blocks decoded, so the work cannot be optimized away.
std::size_t decode_one(std::span<const std::byte> bytes) {
  const EventFrame f = decode_event_frame(bytes);
  std::span<const std::byte> car;
  if (const auto* c = std::get_if<CommitEvent>(&f.event)) {
    car = c->blocks;
  } else if (const auto* s = std::get_if<SyncEvent>(&f.event)) {
    car = s->blocks;
  } else {
    return 0;
  }
  CarReader reader(car);
  std::size_t n = 0;
  while (auto b = reader.next()) {
    // byte 1 of a binary CIDv1 is its codec (both codecs fit one varint byte).
    if (static_cast<unsigned>(b->cid[1]) == kCodecDagCbor) {
      const DagCborValue v = dag_cbor_decode(b->data);
      n += v.size() + 1;
    }
  }
  return n;
}

std::map<std::string, PublicKey> keys;  // --verify

std::size_t verify_one(std::span<const std::byte> bytes) {
  static const Verifier verifier;
  const EventFrame f = decode_event_frame(bytes);
  const auto& c = std::get<CommitEvent>(f.event);
  return verifier.verify_commit(f, keys.at(std::string(c.repo))).ops.size();
}

void run(const char* set, const std::vector<std::vector<std::byte>>& frames, double seconds,
         bool verify = false) {
  if (frames.empty()) return;
  std::size_t bytes_per_pass = 0;
  for (const auto& f : frames) bytes_per_pass += f.size();
  std::size_t sink = 0;
  const auto pass = [&] {
    for (const auto& f : frames) sink += verify ? verify_one(f) : decode_one(f);
  };
  for (auto end = Clock::now() + std::chrono::seconds(1); Clock::now() < end;) pass();
  std::size_t passes = 0;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  auto now = start;
  while (now < end) {
    for (int i = 0; i < 16; ++i) pass();
    passes += 16;
    now = Clock::now();
  }
  const double s = std::chrono::duration<double>(now - start).count();
  const double n = static_cast<double>(passes * frames.size());
  if (verify) {
    std::printf(
        "{\"impl\":\"atdata-cpp\",\"bench\":\"verify\",\"set\":\"%s\",\"commits\":%zu,\"seconds\":%.3f,"
        "\"commits_per_s\":%.0f,\"sink\":%zu}\n",
        set, frames.size(), s, n / s, sink % 10);
    return;
  }
  std::printf(
      "{\"impl\":\"atdata-cpp\",\"set\":\"%s\",\"frames\":%zu,\"seconds\":%.3f,\"frames_per_s\":%.0f,"
      "\"mb_per_s\":%.1f,\"sink\":%zu}\n",
      set, frames.size(), s, n / s, static_cast<double>(passes * bytes_per_pass) / s / 1e6, sink % 10);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <frames-dir> [--seconds S]\n", argv[0]);
    return 2;
  }
  double seconds = 3;
  std::string dids;
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--seconds") seconds = std::stod(argv[i + 1]);
    if (std::string(argv[i]) == "--verify") dids = argv[i + 1];
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(argv[1])) {
    const auto name = e.path().filename().string();
    if (name.rfind("frame-", 0) == 0 && e.path().extension() == ".bin") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::vector<std::byte>> small, large;
  for (const auto& p : files) {
    auto b = read_file(p);
    (b.size() > 64 * 1024 ? large : small).push_back(std::move(b));
  }
  if (!dids.empty()) {
    std::ifstream f(dids);
    std::string text((std::istreambuf_iterator<char>(f)), {});
    const auto doc = boost::json::parse(text);
    for (const auto& [did, v] : doc.as_object())
      keys.emplace(std::string(did), PublicKey::from_did_document(v.at("didDoc")));
    // Commits with ops only (a commit without ops has nothing to prove).
    const auto commits_with_ops = [](const std::vector<std::vector<std::byte>>& in) {
      std::vector<std::vector<std::byte>> out;
      for (const auto& b : in) {
        const EventFrame f = decode_event_frame(b);
        const auto* c = std::get_if<CommitEvent>(&f.event);
        if (c && !c->ops.empty()) out.push_back(b);
      }
      return out;
    };
    run("small", commits_with_ops(small), seconds, true);
    run("large", commits_with_ops(large), seconds, true);
    return 0;
  }
  run("small", small, seconds);
  run("large", large, seconds);
}
