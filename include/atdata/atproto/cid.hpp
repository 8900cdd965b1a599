#pragma once
// CIDs of raw blobs: CIDv1, codec raw (0x55), multihash sha2-256, multibase
// base32 lower ("b" prefix), i.e. the "bafkrei…" strings a PDS returns from
// uploadBlob. get_blob recomputes it over the received bytes, chunk by chunk,
// so a download is verified without holding it in memory.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace atdata::atproto {

using Sha256Digest = std::array<std::byte, 32>;

// Incremental SHA-256 (OpenSSL EVP underneath).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(std::span<const std::byte> data);
  void update(std::string_view data);
  // Returns the digest; the object must not be updated afterwards.
  Sha256Digest finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Sha256Digest sha256(std::span<const std::byte> data);

// Multicodec codes of the CIDs ATProto uses.
inline constexpr unsigned kCodecRaw = 0x55;      // blobs
inline constexpr unsigned kCodecDagCbor = 0x71;  // records, commits

// Binary CIDv1 with a sha2-256 multihash: 0x01 <codec> 0x12 0x20 <digest>
// (codec < 0x80, a one-byte varint, as for every codec ATProto uses; other
// codecs are InvalidArgument).
using BinaryCid = std::array<std::byte, 36>;
BinaryCid binary_cid_v1_sha256(unsigned codec, const Sha256Digest& digest);
// Its text form: "b" + base32lower(binary).
std::string cid_v1_sha256(unsigned codec, const Sha256Digest& digest);
// CID of a blob whose bytes are `data`.
std::string raw_cid(std::span<const std::byte> data);
std::string raw_cid(std::string_view data);

struct ParsedCid {
  unsigned codec = 0;
  Sha256Digest digest{};
};
// Parses a base32 CIDv1 with a sha2-256 multihash (the only form ATProto
// produces). Returns nullopt for anything else: other bases, CIDv0, other
// hashes, bad lengths or characters.
std::optional<ParsedCid> parse_cid_v1_sha256(std::string_view cid);

// Binary CIDv1 with a sha2-256 multihash, as DAG-CBOR links carry it (after
// the 0x00 multibase prefix): varint version 1, varint codec, 0x12 0x20,
// 32-byte digest, nothing after. Varints must be minimal. nullopt otherwise.
std::optional<ParsedCid> parse_binary_cid_v1_sha256(std::span<const std::byte> bin);
// Text form ("b" + base32 lower) of a binary CID; does not validate it.
std::string format_binary_cid(std::span<const std::byte> bin);

// Checks incrementally that a byte stream is the blob a raw sha2-256 CID
// names: one implementation for every getBlob reader (whole blobs, streamed
// blobs, blob shards of a dataset).
class BlobCidCheck {
 public:
  // nullopt unless `cid` is a raw-codec sha2-256 CIDv1 (bafkrei…).
  static std::optional<BlobCidCheck> for_cid(std::string_view cid);

  void update(std::span<const std::byte> data);
  std::uint64_t bytes() const noexcept { return bytes_; }
  // After the last byte: empty when the bytes match, otherwise what a user
  // reads, "the N bytes received have CID <got>, expected <cid>". Call once.
  std::string mismatch();

 private:
  BlobCidCheck(std::string cid, const Sha256Digest& expected) : cid_(std::move(cid)), expected_(expected) {}
  std::string cid_;
  Sha256Digest expected_;
  Sha256 hash_;
  std::uint64_t bytes_ = 0;
};

// RFC 4648 base32, lower case, no padding (multibase "b" without the prefix).
std::string base32_lower_encode(std::span<const std::byte> data);
// Accepts lower or upper case; nullopt on any other character or on
// non-canonical trailing bits.
std::optional<std::string> base32_decode(std::string_view text);

}  // namespace atdata::atproto
