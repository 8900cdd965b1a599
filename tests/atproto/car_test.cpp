#include "atdata/atproto/car.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "atdata/atproto/cid.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/error.hpp"
#include "firehose_fixtures.hpp"

namespace atdata::atproto {
namespace {

namespace fs = std::filesystem;
using atdata::test::firehose_dir;
using atdata::test::index_types;
using atdata::test::read_bytes;

struct FrameCar {
  std::string name;
  std::string type;
  std::vector<std::byte> frame;  // owns the bytes the spans below view
  std::vector<std::byte> car;
  std::vector<std::byte> commit;  // binary CID of the body's `commit` (#commit only)
};

std::vector<FrameCar> frame_cars() {
  std::vector<FrameCar> out;
  auto types = index_types();
  for (const auto& path : atdata::test::frame_files()) {
    const std::string type = types[path.filename().string()];
    if (type != "#commit" && type != "#sync") continue;
    FrameCar fc;
    fc.name = path.filename().string();
    fc.type = type;
    fc.frame = read_bytes(path);
    std::span<const std::byte> all(fc.frame);
    auto head = dag_cbor_decode_prefix(all);
    auto body = dag_cbor_decode(all.subspan(head.end));
    const auto* blocks = body.find("blocks");
    if (!blocks) throw std::runtime_error(fc.name + ": no blocks");
    auto b = blocks->as_bytes();
    fc.car.assign(b.begin(), b.end());
    if (type == "#commit") {
      auto c = body.find("commit")->as_link();
      fc.commit.assign(c.begin(), c.end());
    }
    out.push_back(std::move(fc));
  }
  return out;
}

std::vector<std::byte> varint(std::uint64_t v) {
  std::vector<std::byte> out;
  while (v >= 0x80) {
    out.push_back(static_cast<std::byte>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<std::byte>(v));
  return out;
}

// Header length varint + header of a real CAR (so only the sections vary).
std::vector<std::byte> header_prefix(std::span<const std::byte> car) {
  std::size_t i = 0;
  std::uint64_t len = 0;
  for (unsigned s = 0;; s += 7) {
    auto b = static_cast<std::uint8_t>(car[i++]);
    len |= static_cast<std::uint64_t>(b & 0x7f) << s;
    if (!(b & 0x80)) break;
  }
  return {car.begin(), car.begin() + static_cast<std::ptrdiff_t>(i + len)};
}

TEST(Car, FirehoseBlocksParseAndVerify) {
  auto cars = frame_cars();
  int commits = 0, syncs = 0;
  for (const auto& fc : cars) {
    SCOPED_TRACE(fc.name);
    CarReader reader(fc.car);
    ASSERT_EQ(reader.roots().size(), 1u);
    EXPECT_TRUE(parse_binary_cid_v1_sha256(reader.roots()[0]));
    if (fc.type == "#commit") {
      ++commits;
      EXPECT_TRUE(std::ranges::equal(reader.roots()[0], fc.commit))
          << format_binary_cid(reader.roots()[0]) << " vs " << format_binary_cid(fc.commit);
    } else {
      ++syncs;
    }
    auto blocks = reader.blocks();
    ASSERT_FALSE(blocks.empty());
    bool root_found = false;
    std::uint64_t last = 0;
    for (const auto& b : blocks) {
      EXPECT_GT(b.offset, last);
      last = b.offset;
      // Views into the input, not copies.
      EXPECT_GE(b.data.data(), fc.car.data());
      EXPECT_LE(b.data.data() + b.data.size(), fc.car.data() + fc.car.size());
      auto p = parse_binary_cid_v1_sha256(b.cid);
      ASSERT_TRUE(p);
      EXPECT_EQ(sha256(b.data), p->digest);
      EXPECT_NO_THROW(dag_cbor_decode(b.data)) << format_binary_cid(b.cid);
      if (std::ranges::equal(b.cid, reader.roots()[0])) root_found = true;
    }
    EXPECT_TRUE(root_found);
    EXPECT_FALSE(reader.next());
  }
  EXPECT_GE(commits, 1);
  EXPECT_GE(syncs, 1);
}

TEST(Car, FlippedByteIsDigestMismatch) {
  auto cars = frame_cars();
  ASSERT_FALSE(cars.empty());
  for (const auto& fc : cars) {
    SCOPED_TRACE(fc.name);
    auto blocks = CarReader(fc.car).blocks();
    const auto& victim = blocks.back();
    const auto pos = static_cast<std::size_t>(victim.data.data() - fc.car.data()) + victim.data.size() / 2;
    auto bad = fc.car;
    bad[pos] ^= std::byte{0x01};
    try {
      CarReader(bad).blocks();
      ADD_FAILURE() << "no VerifyError";
    } catch (const VerifyError& e) {
      EXPECT_EQ(e.check(), VerifyError::Check::block_cid);
      EXPECT_EQ(e.subject(), format_binary_cid(victim.cid));
      EXPECT_NE(std::string(e.what()).find("digest mismatch"), std::string::npos) << e.what();
      EXPECT_EQ(e.offset(), victim.offset);
    }
    CarOptions off;
    off.verify = false;
    auto unverified = CarReader(bad, off).blocks();
    EXPECT_EQ(unverified.size(), blocks.size());
  }
}

TEST(Car, EveryTruncationIsDecodeError) {
  auto cars = frame_cars();
  ASSERT_FALSE(cars.empty());
  const auto& fc = cars.front();
  // Cutting at a section boundary leaves a valid, shorter CAR; everywhere
  // else must fail cleanly.
  std::vector<std::uint64_t> boundaries;
  for (const auto& b : CarReader(fc.car).blocks()) boundaries.push_back(b.offset);
  int errors = 0;
  for (std::size_t n = 0; n < fc.car.size(); ++n) {
    SCOPED_TRACE(n);
    std::vector<std::byte> cut(fc.car.begin(), fc.car.begin() + static_cast<std::ptrdiff_t>(n));
    const bool boundary = std::ranges::find(boundaries, n) != boundaries.end();
    if (boundary) {
      EXPECT_NO_THROW(CarReader(cut).blocks());
    } else {
      EXPECT_THROW(CarReader(cut).blocks(), DecodeError);
      ++errors;
    }
  }
  EXPECT_GT(errors, 100);
}

TEST(Car, OverlongAndTooLongVarints) {
  auto cars = frame_cars();
  ASSERT_FALSE(cars.empty());
  auto header = header_prefix(cars.front().car);
  // Non-minimal header length: 0x80 0x00 means 0.
  {
    std::vector<std::byte> bad{std::byte{0x80}, std::byte{0x00}};
    try {
      CarReader r(bad);
      ADD_FAILURE();
    } catch (const DecodeError& e) {
      EXPECT_NE(std::string(e.what()).find("overlong"), std::string::npos) << e.what();
      EXPECT_EQ(e.offset(), 0u);
    }
  }
  // Non-minimal section length after a valid header.
  {
    auto bad = header;
    bad.push_back(std::byte{0xa5});
    bad.push_back(std::byte{0x80});
    bad.push_back(std::byte{0x00});
    try {
      CarReader(bad).blocks();
      ADD_FAILURE();
    } catch (const DecodeError& e) {
      EXPECT_NE(std::string(e.what()).find("overlong"), std::string::npos) << e.what();
      EXPECT_EQ(e.offset(), header.size());
    }
  }
  // Ten continuation bytes.
  {
    auto bad = header;
    for (int i = 0; i < 10; ++i) bad.push_back(std::byte{0xff});
    try {
      CarReader(bad).blocks();
      ADD_FAILURE();
    } catch (const DecodeError& e) {
      EXPECT_NE(std::string(e.what()).find("too long"), std::string::npos) << e.what();
    }
  }
}

TEST(Car, SectionLongerThanInput) {
  auto cars = frame_cars();
  ASSERT_FALSE(cars.empty());
  auto header = header_prefix(cars.front().car);
  for (std::uint64_t len : {std::uint64_t{100}, std::uint64_t{1} << 40, (std::uint64_t{1} << 63) - 1}) {
    auto bad = header;
    auto v = varint(len);
    bad.insert(bad.end(), v.begin(), v.end());
    bad.resize(bad.size() + 10, std::byte{0x01});
    try {
      CarReader(bad).blocks();
      ADD_FAILURE();
    } catch (const DecodeError& e) {
      EXPECT_NE(std::string(e.what()).find("longer than the input"), std::string::npos) << e.what();
      EXPECT_EQ(e.offset(), header.size());
    }
  }
  // Header length beyond the input.
  auto v = varint(std::uint64_t{1} << 50);
  EXPECT_THROW(CarReader r(v), DecodeError);
}

TEST(Car, HeaderMustBeRootsAndVersion1) {
  auto wrap = [](const DagCborValue& h) {
    auto body = dag_cbor_encode(h);
    auto out = varint(body.size());
    out.insert(out.end(), body.begin(), body.end());
    return out;
  };
  auto cars = frame_cars();
  ASSERT_FALSE(cars.empty());
  CarReader good(cars.front().car);
  auto root = DagCborValue::make_link(good.roots()[0]);
  auto ok = wrap(DagCborValue::make_map({"roots", "version"},
                                        {DagCborValue::make_list({root}), DagCborValue::make_int(1)}));
  EXPECT_EQ(CarReader(ok).roots().size(), 1u);
  EXPECT_TRUE(CarReader(ok).blocks().empty());
  auto v2 = wrap(DagCborValue::make_map({"roots", "version"},
                                        {DagCborValue::make_list({root}), DagCborValue::make_int(2)}));
  EXPECT_THROW(CarReader r(v2), DecodeError);
  auto noroots = wrap(DagCborValue::make_map({"version"}, {DagCborValue::make_int(1)}));
  EXPECT_THROW(CarReader r(noroots), DecodeError);
  auto textroot = wrap(DagCborValue::make_map(
      {"roots", "version"},
      {DagCborValue::make_list({DagCborValue::make_text("x")}), DagCborValue::make_int(1)}));
  EXPECT_THROW(CarReader r(textroot), DecodeError);
  auto notmap = wrap(DagCborValue::make_int(1));
  EXPECT_THROW(CarReader r(notmap), DecodeError);
}

TEST(Car, MaxBlocks) {
  auto cars = frame_cars();
  ASSERT_FALSE(cars.empty());
  const auto& car = cars.front().car;
  const auto n = CarReader(car).blocks().size();
  ASSERT_GE(n, 2u);
  CarOptions opts;
  opts.max_blocks = n - 1;
  EXPECT_THROW(CarReader(car, opts).blocks(), DecodeError);
  opts.max_blocks = n;
  EXPECT_EQ(CarReader(car, opts).blocks().size(), n);
}

}  // namespace
}  // namespace atdata::atproto

namespace atdata::atproto {
namespace {

// Section with a replaced CID in front of a block's bytes.
std::vector<std::byte> car_with_cid(std::span<const std::byte> header, const std::vector<std::byte>& cid,
                                    std::span<const std::byte> data) {
  std::vector<std::byte> out(header.begin(), header.end());
  auto v = varint(cid.size() + data.size());
  out.insert(out.end(), v.begin(), v.end());
  out.insert(out.end(), cid.begin(), cid.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

TEST(Car, RejectsUnsupportedCids) {
  auto cars = frame_cars();
  ASSERT_FALSE(cars.empty());
  const auto& car = cars.front().car;
  auto header = header_prefix(car);
  auto block = CarReader(car).blocks().front();
  std::vector<std::byte> good(block.cid.begin(), block.cid.end());
  EXPECT_EQ(CarReader(car_with_cid(header, good, block.data)).blocks().size(), 1u);
  auto check = [&](std::vector<std::byte> cid, const std::string& what) {
    SCOPED_TRACE(what);
    try {
      CarReader(car_with_cid(header, cid, block.data)).blocks();
      ADD_FAILURE() << "accepted";
    } catch (const DecodeError& e) {
      EXPECT_GE(e.offset().value_or(0), header.size()) << e.what();
      EXPECT_LT(e.offset().value_or(0), header.size() + 8) << e.what();
    }
  };
  auto v0 = good;
  v0[0] = std::byte{0x00};
  check(v0, "version 0");
  auto sha512 = good;
  sha512[2] = std::byte{0x13};
  check(sha512, "sha2-512 code");
  auto dagpb = good;
  dagpb[1] = std::byte{0x70};
  check(dagpb, "dag-pb codec");
  auto longdigest = good;
  longdigest[3] = std::byte{0x7f};
  check(longdigest, "digest longer than section");
}

}  // namespace
}  // namespace atdata::atproto
