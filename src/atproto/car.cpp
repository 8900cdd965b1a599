#include "atdata/atproto/car.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "atdata/atproto/cid.hpp"
#include "atdata/error.hpp"
#include "atproto/detail/varint.hpp"

namespace atdata::atproto {
namespace {

struct Varint {
  std::uint64_t value = 0;
  std::size_t end = 0;
};

Varint read_varint(std::span<const std::byte> in, std::size_t pos, const char* what) {
  const auto v = detail::read_varint(in, pos);
  switch (v.status) {
    case detail::Varint::Status::ok:
      return {v.value, v.end};
    case detail::Varint::Status::too_long:
      throw DecodeError(std::string(what) + ": varint too long (more than 9 bytes)", pos);
    case detail::Varint::Status::truncated:
      throw DecodeError(std::string(what) + ": varint truncated at end of input", pos);
    case detail::Varint::Status::overlong:
      break;
  }
  throw DecodeError(std::string(what) + ": varint overlong (not minimally encoded)", pos);
}

// Length of the binary CID at the start of `in`: version, codec, hash code and
// digest length varints followed by the digest.
std::size_t cid_length(std::span<const std::byte> in, std::uint64_t base) {
  std::size_t pos = 0;
  try {
    for (int i = 0; i < 3; ++i) pos = read_varint(in, pos, "CID").end;
    const Varint len = read_varint(in, pos, "CID");
    if (len.value > in.size() - len.end) throw DecodeError("CID digest longer than its section", len.end);
    return len.end + static_cast<std::size_t>(len.value);
  } catch (const DecodeError& e) {
    // Offsets above are inside the section; report them in the whole CAR.
    throw e.rebased("", base);
  }
}

}  // namespace

CarReader::CarReader(std::span<const std::byte> car, CarOptions options) : car_(car), options_(options) {
  const Varint hlen = read_varint(car_, 0, "CAR header length");
  if (hlen.value == 0) throw DecodeError("CAR header is empty", 0);
  if (hlen.value > car_.size() - hlen.end) {
    throw DecodeError("CAR header length " + std::to_string(hlen.value) + " is longer than the input (" +
                          std::to_string(car_.size() - hlen.end) + " bytes left)",
                      0);
  }
  const auto hbytes = car_.subspan(hlen.end, static_cast<std::size_t>(hlen.value));
  pos_ = hlen.end + static_cast<std::size_t>(hlen.value);
  // The header every ATProto writer produces, one root: canonical DAG-CBOR
  // {"roots": [CID], "version": 1}, 59 bytes with a 36-byte CID. Matched
  // byte for byte it needs no decoding; anything else takes the full path.
  static constexpr unsigned char kOneRootHead[] = {0xa2, 0x65, 'r',  'o',  'o',  't', 's',
                                                   0x81, 0xd8, 0x2a, 0x58, 0x25, 0x00};
  static constexpr unsigned char kVersionOne[] = {0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01};
  if (hbytes.size() == sizeof kOneRootHead + 36 + sizeof kVersionOne &&
      std::memcmp(hbytes.data(), kOneRootHead, sizeof kOneRootHead) == 0 &&
      std::memcmp(hbytes.data() + sizeof kOneRootHead + 36, kVersionOne, sizeof kVersionOne) == 0) {
    const auto root = hbytes.subspan(sizeof kOneRootHead, 36);
    if (parse_binary_cid_v1_sha256(root)) {
      roots_.push_back(root);
      return;
    }
  }
  DagCborValue header;
  try {
    header = dag_cbor_decode(hbytes, options_.limits);
  } catch (const DecodeError& e) {
    throw e.rebased("CAR header: ", hlen.end);
  }
  const auto bad = [&](const std::string& why) {
    return DecodeError("CAR header is not {roots, version: 1}: " + why, hlen.end);
  };
  if (header.kind() != DagCborValue::Kind::map) throw bad("not a map");
  if (header.size() != 2) throw bad("has " + std::to_string(header.size()) + " entries");
  const DagCborValue* version = header.find("version");
  const DagCborValue* roots = header.find("roots");
  if (!version || !roots) throw bad("missing key");
  if (version->kind() != DagCborValue::Kind::integer || version->as_int() != 1) throw bad("version is not 1");
  if (roots->kind() != DagCborValue::Kind::list) throw bad("roots is not a list");
  for (const auto& r : roots->items()) {
    if (r.kind() != DagCborValue::Kind::link) throw bad("a root is not a link");
    if (!parse_binary_cid_v1_sha256(r.as_link())) throw bad("a root is not a CIDv1 sha2-256");
    roots_.push_back(r.as_link());
  }
}

std::optional<CarBlock> CarReader::next() {
  if (pos_ >= car_.size()) return std::nullopt;
  const std::size_t start = pos_;
  const Varint slen = read_varint(car_, start, "CAR section length");
  if (slen.value > car_.size() - slen.end) {
    throw DecodeError("CAR section length " + std::to_string(slen.value) + " is longer than the input (" +
                          std::to_string(car_.size() - slen.end) + " bytes left)",
                      start);
  }
  if (slen.value == 0) throw DecodeError("CAR section is empty (no CID)", start);
  if (count_ >= options_.max_blocks)
    throw DecodeError("CAR has more than " + std::to_string(options_.max_blocks) + " blocks", start);
  const auto section = car_.subspan(slen.end, static_cast<std::size_t>(slen.value));
  const std::size_t clen = cid_length(section, slen.end);
  const auto cid = section.first(clen);
  const auto parsed = parse_binary_cid_v1_sha256(cid);
  if (!parsed) throw DecodeError("CAR block CID is not a CIDv1 with a sha2-256 multihash", slen.end);
  if (parsed->codec != kCodecDagCbor && parsed->codec != kCodecRaw) {
    throw DecodeError("CAR block " + format_binary_cid(cid) + ": codec " + std::to_string(parsed->codec) +
                          " is neither dag-cbor (0x71) nor raw (0x55)",
                      slen.end);
  }
  const auto data = section.subspan(clen);
  if (options_.verify && sha256(data) != parsed->digest) {
    std::string name = format_binary_cid(cid);
    const std::string what = "CAR block " + name + ": its bytes hash to " +
                             cid_v1_sha256(parsed->codec, sha256(data)) + " (digest mismatch)";
    throw VerifyError(VerifyError::Check::block_cid, std::move(name), what, start);
  }
  pos_ = slen.end + static_cast<std::size_t>(slen.value);
  ++count_;
  return CarBlock{cid, data, start};
}

std::vector<CarBlock> CarReader::blocks() {
  std::vector<CarBlock> out;
  while (auto b = next()) out.push_back(*b);
  return out;
}

}  // namespace atdata::atproto
