#include "atdata/atproto/verifier.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "atdata/atproto/cid.hpp"
#include "atdata/error.hpp"
#include "firehose_fixtures.hpp"

namespace atdata::atproto {
namespace {

namespace fs = std::filesystem;
using atdata::test::firehose_dir;
using atdata::test::read_bytes;
using Check = VerifyError::Check;

const std::string kAlice = "did:plc:7tgzjy4e57zsigdlaf226lra";
const std::string kBob = "did:plc:3bpd2lng3mbuxhxpxiwisjpj";

using atdata::test::car_of;
using atdata::test::fixture_keys;
using atdata::test::with_field;

std::string str(std::string_view s) {
  return std::string(s);
}

// Verifies or throws; the content a consumer would act on.
std::string verified_content(const VerifiedCommit& v) {
  std::string out = str(v.did) + " " + str(v.rev) + " " + format_binary_cid(v.commit.data);
  for (const auto& op : v.ops) {
    out += " " + std::string(to_string(op.action)) + ":" + str(op.path);
    if (!op.cid.empty()) out += "=" + format_binary_cid(op.cid) + "/" + std::to_string(op.record.size());
  }
  return out;
}

template <class F>
VerifyError expect_verify_error(F&& f, Check check) {
  try {
    f();
  } catch (const VerifyError& e) {
    EXPECT_EQ(VerifyError::check_name(e.check()), VerifyError::check_name(check)) << e.what();
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected VerifyError(" << VerifyError::check_name(check) << "), got: " << e.what();
    return VerifyError(check, "", "");
  }
  ADD_FAILURE() << "accepted, expected VerifyError(" << VerifyError::check_name(check) << ")";
  return VerifyError(check, "", "");
}

std::vector<fs::path> frames_of_type(const char* type) {
  std::vector<fs::path> out;
  for (const auto& [name, t] : atdata::test::index_types())
    if (t == type) out.push_back(firehose_dir() / name);
  return out;
}

TEST(Verifier, EveryCapturedCommitAndSyncVerifies) {
  const auto keys = fixture_keys();
  const Verifier verifier;
  int commits = 0, ops = 0, syncs = 0;
  for (const auto& path : frames_of_type("#commit")) {
    SCOPED_TRACE(path.filename().string());
    const auto bytes = read_bytes(path);
    const EventFrame f = decode_event_frame(bytes);
    const auto& event = std::get<CommitEvent>(f.event);
    const VerifiedCommit v = verifier.verify_commit(f, keys.at(str(event.repo)));
    EXPECT_EQ(v.did, event.repo);
    EXPECT_EQ(v.rev, event.rev);
    EXPECT_EQ(v.seq, event.seq);
    ASSERT_EQ(v.ops.size(), event.ops.size());
    for (std::size_t i = 0; i < v.ops.size(); ++i) {
      EXPECT_EQ(v.ops[i].path, event.ops[i].path);
      if (v.ops[i].action == RepoOp::Action::remove) {
        EXPECT_TRUE(v.ops[i].record.empty());
      } else {
        // The record block is the op's record: its bytes hash to the op CID.
        EXPECT_EQ(cid_v1_sha256(kCodecDagCbor, sha256(v.ops[i].record)), format_binary_cid(v.ops[i].cid));
      }
      ++ops;
    }
    ++commits;
  }
  for (const auto& path : frames_of_type("#sync")) {
    const auto bytes = read_bytes(path);
    const EventFrame f = decode_event_frame(bytes);
    const Commit c = verifier.verify_sync(f, keys.at(str(std::get<SyncEvent>(f.event).did)));
    EXPECT_EQ(c.rev, std::get<SyncEvent>(f.event).rev);
    ++syncs;
  }
  EXPECT_EQ(commits, 17);
  EXPECT_EQ(ops, 19);
  EXPECT_EQ(syncs, 2);
}

TEST(Verifier, TheOtherAccountsKeyFails) {
  const auto keys = fixture_keys();
  const Verifier verifier;
  for (const auto& path : frames_of_type("#commit")) {
    const auto bytes = read_bytes(path);
    const EventFrame f = decode_event_frame(bytes);
    const std::string repo = str(std::get<CommitEvent>(f.event).repo);
    const auto e = expect_verify_error(
        [&] { (void)verifier.verify_commit(f, keys.at(repo == kAlice ? kBob : kAlice)); }, Check::signature);
    EXPECT_EQ(e.subject(), repo);
    // Without the signature check the same frame passes.
    EXPECT_NO_THROW((void)verifier.verify_commit_unsigned(f));
  }
}

// Every single-bit change of a small commit frame is rejected, or changes
// nothing a consumer acts on (seq, time: the fields no signature covers).
TEST(Verifier, EveryBitFlipIsRejectedOrHarmless) {
  const auto keys = fixture_keys();
  const Verifier verifier;
  for (const char* name : {"frame-004.bin", "frame-010.bin"}) {
    SCOPED_TRACE(name);
    const auto bytes = read_bytes(firehose_dir() / name);
    const EventFrame good = decode_event_frame(bytes);
    const PublicKey& key = keys.at(kAlice);
    const std::string want = verified_content(verifier.verify_commit(good, key));
    int rejected = 0, harmless = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        auto bad = bytes;
        bad[i] ^= static_cast<std::byte>(1 << bit);
        try {
          const EventFrame f = decode_event_frame(bad);
          const auto* c = std::get_if<CommitEvent>(&f.event);
          if (!c) {
            ++rejected;  // no longer a #commit
            continue;
          }
          const auto v = verifier.verify_commit(f, key);
          ASSERT_EQ(verified_content(v), want) << "flip at byte " << i << " bit " << bit << " was accepted";
          ++harmless;
        } catch (const DecodeError&) {
          ++rejected;
        } catch (const VerifyError&) {
          ++rejected;
        } catch (const std::exception& e) {
          FAIL() << "flip at byte " << i << ": unexpected exception " << e.what();
        }
      }
    }
    EXPECT_GT(rejected, static_cast<int>(bytes.size() * 8 * 9 / 10)) << harmless << " harmless";
  }
}

TEST(Verifier, MissingRecordOrNodeIsNamed) {
  const auto keys = fixture_keys();
  const Verifier verifier;
  const auto bytes = read_bytes(firehose_dir() / "frame-005.bin");
  const EventFrame f = decode_event_frame(bytes);
  const auto& event = std::get<CommitEvent>(f.event);
  CarReader reader(event.blocks);
  const auto blocks = reader.blocks();
  const auto record_cid = event.ops.at(0).cid;
  int checked = 0;
  for (std::size_t drop = 0; drop < blocks.size(); ++drop) {
    std::vector<CarBlock> kept;
    for (std::size_t i = 0; i < blocks.size(); ++i)
      if (i != drop) kept.push_back(blocks[i]);
    const auto car = car_of(event.commit, kept);
    const auto frame = with_field(bytes, "blocks", DagCborValue::make_bytes(car));
    const EventFrame g = decode_event_frame(frame);
    const std::string dropped = format_binary_cid(blocks[drop].cid);
    SCOPED_TRACE("without block " + dropped);
    try {
      (void)verifier.verify_commit(g, keys.at(kAlice));
      // A block the checks do not read (an unchanged subtree's neighbour)
      // may go; the commit, the record and the nodes on its path may not.
      EXPECT_FALSE(blocks[drop].cid.size() == event.commit.size() &&
                   std::equal(blocks[drop].cid.begin(), blocks[drop].cid.end(), event.commit.begin()));
    } catch (const VerifyError& e) {
      EXPECT_TRUE(e.check() == Check::block_missing || e.check() == Check::mst_proof) << e.what();
      EXPECT_NE(std::string(e.what()).find(dropped), std::string::npos) << e.what();
      if (std::equal(blocks[drop].cid.begin(), blocks[drop].cid.end(), record_cid.begin(),
                     record_cid.end())) {
        EXPECT_EQ(e.check(), Check::block_missing);
        EXPECT_EQ(e.subject(), dropped);
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 3);  // commit, record, at least one MST node
}

TEST(Verifier, SwappedBlockIsACidMismatchAtItsOffset) {
  const auto keys = fixture_keys();
  const auto bytes = read_bytes(firehose_dir() / "frame-006.bin");
  const EventFrame f = decode_event_frame(bytes);
  const auto& event = std::get<CommitEvent>(f.event);
  CarReader reader(event.blocks);
  auto blocks = reader.blocks();
  ASSERT_GE(blocks.size(), 3u);
  // Block 1's bytes under block 0's CID, and the other way round.
  std::swap(blocks[0].data, blocks[1].data);
  const auto car = car_of(event.commit, blocks);
  const auto frame = with_field(bytes, "blocks", DagCborValue::make_bytes(car));
  const EventFrame g = decode_event_frame(frame);
  const auto e =
      expect_verify_error([&] { (void)Verifier().verify_commit(g, keys.at(kAlice)); }, Check::block_cid);
  EXPECT_EQ(e.subject(), format_binary_cid(blocks[0].cid));
  ASSERT_TRUE(e.offset());
  // The offset is in the frame, inside its blocks.
  const auto blocks_at =
      static_cast<std::uint64_t>(std::get<CommitEvent>(g.event).blocks.data() - frame.data());
  EXPECT_GT(*e.offset(), blocks_at);
  EXPECT_LT(*e.offset(), frame.size());
}

TEST(Verifier, OpsThatTheTreeDoesNotProveAreRejected) {
  const auto keys = fixture_keys();
  const Verifier verifier;
  const auto text = DagCborValue::make_text;
  // frame-011 creates several records; claim the first one's CID for the second.
  {
    const auto bytes = read_bytes(firehose_dir() / "frame-011.bin");
    const EventFrame f = decode_event_frame(bytes);
    const auto& ops = f.body.find("ops")->items();
    ASSERT_GE(ops.size(), 2u);
    std::vector<DagCborValue> swapped(ops.begin(), ops.end());
    const auto first_cid = *ops[0].find("cid");
    std::vector<std::string_view> k = ops[1].keys();
    std::vector<DagCborValue> v = ops[1].items();
    for (std::size_t i = 0; i < k.size(); ++i)
      if (k[i] == "cid") v[i] = first_cid;
    swapped[1] = DagCborValue::make_map(k, v);
    const auto frame = with_field(bytes, "ops", DagCborValue::make_list(swapped));
    const EventFrame g = decode_event_frame(frame);
    const auto e =
        expect_verify_error([&] { (void)verifier.verify_commit(g, keys.at(kAlice)); }, Check::mst_proof);
    EXPECT_EQ(e.subject(), std::get<CommitEvent>(g.event).ops[1].path);
  }
  // frame-023 deletes batch-a; claiming it was created instead fails.
  {
    const auto bytes = read_bytes(firehose_dir() / "frame-023.bin");
    const EventFrame f = decode_event_frame(bytes);
    const auto& event = std::get<CommitEvent>(f.event);
    ASSERT_EQ(event.ops.size(), 1u);
    const auto op = DagCborValue::make_map(
        {"action", "path", "cid"},
        {text("create"), text(event.ops[0].path), DagCborValue::make_link(event.commit)});
    const auto frame = with_field(bytes, "ops", DagCborValue::make_list({op}));
    const EventFrame g = decode_event_frame(frame);
    expect_verify_error([&] { (void)verifier.verify_commit(g, keys.at(kAlice)); }, Check::mst_proof);
  }
  // Dropping an op: the tree still proves the others, but undoing what is
  // left does not give prevData.
  {
    const auto bytes = read_bytes(firehose_dir() / "frame-011.bin");
    const EventFrame f = decode_event_frame(bytes);
    const auto& ops = f.body.find("ops")->items();
    std::vector<DagCborValue> fewer(ops.begin() + 1, ops.end());
    const auto frame = with_field(bytes, "ops", DagCborValue::make_list(fewer));
    const EventFrame g = decode_event_frame(frame);
    const auto e =
        expect_verify_error([&] { (void)verifier.verify_commit(g, keys.at(kAlice)); }, Check::mst_proof);
    EXPECT_EQ(e.subject(), "prevData");
    VerifierOptions lax;
    lax.check_prev_data = false;
    EXPECT_NO_THROW((void)Verifier(lax).verify_commit(g, keys.at(kAlice)));
  }
}

TEST(Verifier, CommitFieldsMustMatchTheFrame) {
  const auto keys = fixture_keys();
  const Verifier verifier;
  const auto bytes = read_bytes(firehose_dir() / "frame-004.bin");
  {
    const auto frame = with_field(bytes, "repo", DagCborValue::make_text(kBob));
    const EventFrame g = decode_event_frame(frame);
    const auto e =
        expect_verify_error([&] { (void)verifier.verify_commit(g, keys.at(kBob)); }, Check::commit);
    EXPECT_EQ(e.subject(), "did");
  }
  {
    const auto frame = with_field(bytes, "rev", DagCborValue::make_text("3n33qpaumfk2t"));
    const EventFrame g = decode_event_frame(frame);
    const auto e =
        expect_verify_error([&] { (void)verifier.verify_commit(g, keys.at(kAlice)); }, Check::commit);
    EXPECT_EQ(e.subject(), "rev");
  }
  {
    const EventFrame f = decode_event_frame(bytes);
    const auto frame =
        with_field(bytes, "commit", DagCborValue::make_link(std::get<CommitEvent>(f.event).prev_data));
    const EventFrame g = decode_event_frame(frame);
    const auto e =
        expect_verify_error([&] { (void)verifier.verify_commit(g, keys.at(kAlice)); }, Check::commit);
    EXPECT_EQ(e.subject(), "commit");
  }
  {
    const auto frame = with_field(bytes, "tooBig", DagCborValue::make_bool(true));
    const EventFrame g = decode_event_frame(frame);
    const auto e =
        expect_verify_error([&] { (void)verifier.verify_commit(g, keys.at(kAlice)); }, Check::commit);
    EXPECT_EQ(e.subject(), "tooBig");
  }
  {
    // A CAR that is not one.
    const auto frame = with_field(bytes, "blocks", DagCborValue::make_bytes(std::span(bytes).first(20)));
    const EventFrame g = decode_event_frame(frame);
    EXPECT_THROW((void)verifier.verify_commit(g, keys.at(kAlice)), DecodeError);
  }
  const auto identity_bytes = read_bytes(firehose_dir() / "frame-000.bin");
  const EventFrame identity = decode_event_frame(identity_bytes);
  EXPECT_THROW((void)verifier.verify_commit(identity, keys.at(kAlice)), InvalidArgument);
}

}  // namespace
}  // namespace atdata::atproto
