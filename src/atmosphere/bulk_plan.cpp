#include "atdata/atmosphere/bulk_plan.hpp"

#include <array>
#include <cstdint>
#include <memory>

#include <openssl/evp.h>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "atdata/error.hpp"

namespace atdata::atmosphere {

namespace {

// TID alphabet: base32 whose character order matches numeric order.
constexpr char kSortable[] = "234567abcdefghijklmnopqrstuvwxyz";

class Digest {
 public:
  Digest() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1) throw Error("sha256 init failed");
  }
  void update(std::string_view s) {
    // Length-prefix every piece so concatenations cannot collide.
    std::uint64_t n = s.size();
    EVP_DigestUpdate(ctx_.get(), &n, sizeof n);
    EVP_DigestUpdate(ctx_.get(), s.data(), s.size());
  }
  std::array<unsigned char, 32> finish() {
    std::array<unsigned char, 32> out{};
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx_.get(), out.data(), &len);
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

}  // namespace

std::string bulk_job_key(std::string_view collection, std::span<const boost::json::object> records) {
  Digest d;
  d.update("atdata-bulk-v1");
  d.update(collection);
  for (const auto& r : records) {
    if (r.contains("createdAt")) {
      boost::json::object copy = r;
      copy.erase("createdAt");
      d.update(boost::json::serialize(copy));
    } else {
      d.update(boost::json::serialize(r));
    }
  }
  auto h = d.finish();
  // 13 × 5 = 65 bits from the first 9 bytes.
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  std::size_t i = 0;
  while (out.size() < 13) {
    if (bits < 5) {
      acc = (acc << 8) | h[i++];
      bits += 8;
    }
    bits -= 5;
    out += kSortable[(acc >> bits) & 31];
  }
  return out;
}

std::string bulk_rkey(std::string_view job_key, std::size_t index) {
  std::string n = std::to_string(index);
  std::string out(job_key);
  out += '-';
  if (n.size() < 6) out.append(6 - n.size(), '0');
  out += n;
  return out;
}

bool is_bulk_rkey_of(std::string_view rkey, std::string_view job_key) noexcept {
  if (rkey.size() < job_key.size() + 7 || !rkey.starts_with(job_key) || rkey[job_key.size()] != '-')
    return false;
  for (char c : rkey.substr(job_key.size() + 1)) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void check_job_key(std::string_view job_key) {
  bool ok = !job_key.empty() && job_key.size() <= 64;
  for (char c : job_key) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'));
  if (!ok)
    throw InvalidArgument("bulk job key must be 1-64 characters of [a-z0-9]: '" + std::string(job_key) + "'");
}

}  // namespace atdata::atmosphere
