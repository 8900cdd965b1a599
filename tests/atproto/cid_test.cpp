#include "atdata/atproto/cid.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

namespace atdata::atproto {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST(Cid, RawCidOfFixtureTarMatchesPds) {
  auto tar = read_file(std::string(ATDATA_TEST_DATA_DIR) + "/test_samples.tar");
  ASSERT_FALSE(tar.empty());
  EXPECT_EQ(raw_cid(tar), "bafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz4");
}

TEST(Cid, IncrementalHashEqualsOneShot) {
  auto tar = read_file(std::string(ATDATA_TEST_DATA_DIR) + "/test_samples.tar");
  Sha256 h;
  for (std::size_t off = 0; off < tar.size(); off += 777) h.update(std::string_view(tar).substr(off, 777));
  EXPECT_EQ(cid_v1_sha256(kCodecRaw, h.finish()), raw_cid(tar));
}

// Every length around the padding boundaries (55/56/63/64 bytes and their
// multiples), one-shot and in pieces.
TEST(Cid, OneShotEqualsIncrementalAtEveryLength) {
  std::string data(1100, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131 + 7) % 251);
  for (std::size_t n = 0; n <= data.size(); n += (n < 300 ? 1 : 37)) {
    const std::string_view part(data.data(), n);
    Sha256 h;
    h.update(part.substr(0, n / 3));
    h.update(part.substr(n / 3));
    ASSERT_EQ(sha256(std::as_bytes(std::span(part.data(), part.size()))), h.finish()) << "length " << n;
  }
}

TEST(Cid, KnownVectors) {
  EXPECT_EQ(raw_cid(std::string_view{}), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
  Sha256 h;
  h.update(std::string_view("abc"));
  EXPECT_EQ(cid_v1_sha256(kCodecDagCbor, h.finish()),
            "bafyreif2pall7dybz7vecqka3zo24irdwabwdi4wc55jznaq75q7eaavvu");
}

TEST(Cid, ParseRoundTrip) {
  auto p = parse_cid_v1_sha256("bafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz4");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->codec, kCodecRaw);
  EXPECT_EQ(cid_v1_sha256(p->codec, p->digest),
            "bafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz4");
  auto q = parse_cid_v1_sha256("bafyreif2pall7dybz7vecqka3zo24irdwabwdi4wc55jznaq75q7eaavvu");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->codec, kCodecDagCbor);
}

TEST(Cid, ParseRejectsOtherForms) {
  EXPECT_FALSE(parse_cid_v1_sha256(""));
  EXPECT_FALSE(parse_cid_v1_sha256("b"));
  // CIDv0 (base58btc "Qm…")
  EXPECT_FALSE(parse_cid_v1_sha256("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"));
  // wrong multibase prefix
  EXPECT_FALSE(parse_cid_v1_sha256("zafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz4"));
  // bad character ('1' is not base32), truncated, extended
  EXPECT_FALSE(parse_cid_v1_sha256("bafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz1"));
  EXPECT_FALSE(parse_cid_v1_sha256("bafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz"));
  EXPECT_FALSE(parse_cid_v1_sha256("bafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz4a"));
  // non-zero trailing bits in the last character: 'z4' → 'z7'
  EXPECT_FALSE(parse_cid_v1_sha256("bafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz7"));
}

TEST(Cid, Base32RoundTrip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n < 12; ++n) {
    auto enc = base32_lower_encode(std::as_bytes(std::span(all.data(), n)));
    auto dec = base32_decode(enc);
    ASSERT_TRUE(dec) << n;
    EXPECT_EQ(*dec, all.substr(0, n));
  }
  EXPECT_EQ(base32_lower_encode(std::as_bytes(std::span("foobar", 6))), "mzxw6ytboi");  // RFC 4648 vector
  EXPECT_EQ(base32_decode("MZXW6YTBOI"), std::optional<std::string>("foobar"));
}

TEST(Cid, BlobCidCheckAcceptsTheBlobAndNamesWhatArrivedOtherwise) {
  const std::string blob = "hello blob bytes";
  const std::string cid = raw_cid(blob);
  auto ok = BlobCidCheck::for_cid(cid);
  ASSERT_TRUE(ok);
  ok->update(std::as_bytes(std::span(blob.data(), 5)));
  ok->update(std::as_bytes(std::span(blob.data() + 5, blob.size() - 5)));
  EXPECT_EQ(ok->bytes(), blob.size());
  EXPECT_EQ(ok->mismatch(), "");

  auto bad = BlobCidCheck::for_cid(cid);
  ASSERT_TRUE(bad);
  bad->update(std::as_bytes(std::span(blob.data(), 4)));
  EXPECT_EQ(bad->mismatch(),
            "the 4 bytes received have CID " + raw_cid(blob.substr(0, 4)) + ", expected " + cid);

  Sha256 h;
  h.update(blob);
  EXPECT_FALSE(BlobCidCheck::for_cid(cid_v1_sha256(kCodecDagCbor, h.finish())));  // a record, not a blob
  EXPECT_FALSE(BlobCidCheck::for_cid("not-a-cid"));
}

}  // namespace
}  // namespace atdata::atproto
