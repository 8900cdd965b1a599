#include "atdata/atproto/cid.hpp"

// SHA256_Init & co. (see Sha256::Impl).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstdint>
#include <cstring>

#include "atdata/error.hpp"
#include "atproto/detail/varint.hpp"

namespace atdata::atproto {

// OpenSSL's low-level SHA-256 interface (deprecated in 3.0 but kept) runs the
// same assembly as EVP without its per-call provider dispatch and context
// allocation, which cost more than hashing a typical repository block.
struct Sha256::Impl {
  SHA256_CTX ctx;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  if (SHA256_Init(&impl_->ctx) != 1) throw Error("sha256: OpenSSL SHA256_Init failed");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::byte> data) {
  if (!data.empty() && SHA256_Update(&impl_->ctx, data.data(), data.size()) != 1) {
    throw Error("sha256: OpenSSL SHA256_Update failed");
  }
}
void Sha256::update(std::string_view data) {
  update(std::as_bytes(std::span(data.data(), data.size())));
}

Sha256Digest Sha256::finish() {
  Sha256Digest out{};
  if (SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), &impl_->ctx) != 1) {
    throw Error("sha256: OpenSSL SHA256_Final failed");
  }
  return out;
}

Sha256Digest sha256(std::span<const std::byte> data) {
  SHA256_CTX ctx;
  Sha256Digest out{};
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data.data(), data.size()) != 1 ||
      SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), &ctx) != 1) {
    throw Error("sha256: OpenSSL SHA256 failed");
  }
  return out;
}

namespace {
constexpr char kB32[] = "abcdefghijklmnopqrstuvwxyz234567";
}

std::string base32_lower_encode(std::span<const std::byte> data) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  std::uint32_t buf = 0;
  int bits = 0;
  for (std::byte b : data) {
    buf = (buf << 8) | static_cast<std::uint8_t>(b);
    bits += 8;
    while (bits >= 5) {
      out.push_back(kB32[(buf >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kB32[(buf << (5 - bits)) & 31]);
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 5 / 8);
  std::uint32_t buf = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'a' && c <= 'z')
      v = c - 'a';
    else if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= '2' && c <= '7')
      v = c - '2' + 26;
    else
      return std::nullopt;
    buf = ((buf << 5) | static_cast<std::uint32_t>(v)) & 0xFFFF;
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buf >> (bits - 8)) & 0xFF));
      bits -= 8;
    }
  }
  // Leftover bits must be padding zeros, and fewer than a full character.
  if (bits >= 5 || (buf & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

BinaryCid binary_cid_v1_sha256(unsigned codec, const Sha256Digest& digest) {
  if (codec >= 0x80)
    throw InvalidArgument("cid_v1_sha256: multicodec " + std::to_string(codec) + " not supported");
  BinaryCid bin{};
  bin[0] = std::byte{0x01};
  bin[1] = static_cast<std::byte>(codec);
  bin[2] = std::byte{0x12};
  bin[3] = std::byte{0x20};
  std::memcpy(bin.data() + 4, digest.data(), digest.size());
  return bin;
}

std::string cid_v1_sha256(unsigned codec, const Sha256Digest& digest) {
  return "b" + base32_lower_encode(binary_cid_v1_sha256(codec, digest));
}

std::string raw_cid(std::span<const std::byte> data) {
  return cid_v1_sha256(kCodecRaw, sha256(data));
}
std::string raw_cid(std::string_view data) {
  return raw_cid(std::as_bytes(std::span(data.data(), data.size())));
}

std::optional<ParsedCid> parse_cid_v1_sha256(std::string_view cid) {
  // 36 binary bytes = 58 base32 characters, plus the multibase prefix.
  if (cid.size() != 59 || cid[0] != 'b') return std::nullopt;
  auto bin = base32_decode(cid.substr(1));
  if (!bin || bin->size() != 36) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(bin->data());
  if (p[0] != 0x01 || p[1] >= 0x80 || p[2] != 0x12 || p[3] != 0x20) return std::nullopt;
  ParsedCid out;
  out.codec = p[1];
  std::memcpy(out.digest.data(), p + 4, 32);
  return out;
}

namespace {
// Minimal (shortest-form) unsigned varint of at most 9 bytes.
std::optional<std::uint64_t> read_varint(std::span<const std::byte> bin, std::size_t& pos) {
  const auto v = detail::read_varint(bin, pos);
  if (v.status != detail::Varint::Status::ok) return std::nullopt;
  pos = v.end;
  return v.value;
}
}  // namespace

std::optional<ParsedCid> parse_binary_cid_v1_sha256(std::span<const std::byte> bin) {
  // Every CID ATProto writes is one of two 36-byte forms; check those without
  // the varint loop (this runs for every link of every block).
  if (bin.size() == 36 && bin[0] == std::byte{0x01} && bin[2] == std::byte{0x12} &&
      bin[3] == std::byte{0x20} && (bin[1] == std::byte{kCodecDagCbor} || bin[1] == std::byte{kCodecRaw})) {
    ParsedCid out;
    out.codec = static_cast<unsigned>(bin[1]);
    std::memcpy(out.digest.data(), bin.data() + 4, 32);
    return out;
  }
  std::size_t pos = 0;
  auto version = read_varint(bin, pos);
  if (!version || *version != 1) return std::nullopt;
  auto codec = read_varint(bin, pos);
  if (!codec || *codec > 0xFFFFFFFFu) return std::nullopt;
  auto hash = read_varint(bin, pos);
  if (!hash || *hash != 0x12) return std::nullopt;
  auto len = read_varint(bin, pos);
  if (!len || *len != 32 || bin.size() - pos != 32) return std::nullopt;
  ParsedCid out;
  out.codec = static_cast<unsigned>(*codec);
  std::memcpy(out.digest.data(), bin.data() + pos, 32);
  return out;
}

std::string format_binary_cid(std::span<const std::byte> bin) {
  return "b" + base32_lower_encode(bin);
}

std::optional<BlobCidCheck> BlobCidCheck::for_cid(std::string_view cid) {
  auto parsed = parse_cid_v1_sha256(cid);
  if (!parsed || parsed->codec != kCodecRaw) return std::nullopt;
  return BlobCidCheck(std::string(cid), parsed->digest);
}

void BlobCidCheck::update(std::span<const std::byte> data) {
  hash_.update(data);
  bytes_ += data.size();
}

std::string BlobCidCheck::mismatch() {
  const auto got = hash_.finish();
  if (got == expected_) return {};
  return "the " + std::to_string(bytes_) + " bytes received have CID " + cid_v1_sha256(kCodecRaw, got) +
         ", expected " + cid_;
}

}  // namespace atdata::atproto
