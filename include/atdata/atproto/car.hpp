#pragma once
// CAR v1 (content-addressable archive), the container ATProto uses for repo
// exports and for the `blocks` of firehose #commit and #sync events. Sans-I/O
// and zero-copy: the reader walks a byte buffer, and the CIDs and block bytes
// it returns point into that buffer, so the buffer must outlive them.
//
// Layout: varint(header length) + DAG-CBOR {roots: [links], version: 1},
// then sections of varint(section length) + binary CID + block bytes, where
// varints are unsigned LEB128 and the section length covers the CID and the
// block.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "atdata/atproto/dag_cbor.hpp"

namespace atdata::atproto {

struct CarBlock {
  std::span<const std::byte> cid;   // binary CIDv1 (no 0x00 multibase prefix)
  std::span<const std::byte> data;  // block bytes
  std::uint64_t offset = 0;         // where the section (its length varint) starts
};

struct CarOptions {
  // Recompute each block's sha2-256 and compare it with its CID's digest.
  bool verify = true;
  // Applied to the header.
  DagCborLimits limits;
  // A CAR with more sections is rejected, bounding the work a hostile input
  // can cause when blocks are collected.
  std::size_t max_blocks = 1'000'000;
};

// Malformed bytes are DecodeError, a block whose bytes do not hash to its CID
// is VerifyError (Check::block_cid, subject = the CID); both carry the byte
// offset of the failure. Only CIDv1 with
// a sha2-256 multihash and codec dag-cbor (0x71) or raw (0x55) are accepted,
// the only blocks ATProto produces.
class CarReader {
 public:
  // Parses the header at once.
  explicit CarReader(std::span<const std::byte> car, CarOptions options = {});

  // Binary CIDs of the roots, views into the input.
  const std::vector<std::span<const std::byte>>& roots() const noexcept { return roots_; }

  // The next block, or nullopt after the last one.
  std::optional<CarBlock> next();
  // Every remaining block.
  std::vector<CarBlock> blocks();

 private:
  std::span<const std::byte> car_;
  CarOptions options_;
  std::vector<std::span<const std::byte>> roots_;
  std::size_t pos_ = 0;
  std::size_t count_ = 0;
};

}  // namespace atdata::atproto
