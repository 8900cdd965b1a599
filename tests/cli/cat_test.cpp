#include "cat.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "atdata/core/msgpack.hpp"
#include "atdata/core/npy.hpp"
#include "atdata/io/tar_writer.hpp"

namespace {

using namespace atdata;
namespace fs = std::filesystem;

const std::string kData = ATDATA_TEST_DATA_DIR;

struct Run {
  int status;
  std::string out, err;
};

Run cat(std::vector<std::string> args) {
  std::ostringstream out, err;
  int rc = cli::run_cat(args, out, err);
  return {rc, out.str(), err.str()};
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

TEST(Cat, FixtureExactLines) {
  auto r = cat({kData + "/test_samples.tar"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(lines(r.out),
            (std::vector<std::string>{
                R"({"__key__": "sample_000000", "id": 0, "name": "test_sample_0", "value": 0})",
                R"({"__key__": "sample_000001", "id": 1, "name": "test_sample_1", "value": 10})",
                R"({"__key__": "sample_000002", "id": 2, "name": "test_sample_2", "value": 20})",
            }));
  auto l = cat({kData + "/test_samples.tar", "file://" + kData + "/test_samples.tar", "--limit", "4"});
  EXPECT_EQ(lines(l.out).size(), 4u);
}

// Schemaless and with a schema record: same values as the expected file.
TEST(Cat, GoldenMatchesExpectedValues) {
  std::ifstream in(kData + "/golden-basic-000000.expected.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto exp = boost::json::parse(ss.str());
  fs::path schema = fs::path(::testing::TempDir()) / "basic_schema.json";
  std::ofstream(schema) << R"({"$type": "ac.foundation.dataset.sampleSchema", "name": "BasicSample",
    "version": "1.0.0", "fields": [
      {"name": "features", "fieldType": {"$type": "ac.foundation.dataset.schemaType#ndarray", "dtype": "float32"}, "optional": false},
      {"name": "label", "fieldType": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "int"}, "optional": false},
      {"name": "source", "fieldType": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "str"}, "optional": false}],
    "createdAt": "2026-01-18T00:00:00.000000+00:00"})";
  for (bool with_schema : {false, true}) {
    std::vector<std::string> args{kData + "/golden-basic-000000.tar"};
    if (with_schema) args.insert(args.end(), {"--schema", schema.string()});
    auto r = cat(args);
    ASSERT_EQ(r.status, 0) << r.err;
    auto ls = lines(r.out);
    ASSERT_EQ(ls.size(), 50u);
    for (std::size_t i = 0; i < ls.size(); ++i) {
      auto v = boost::json::parse(ls[i]).as_object();
      const auto& e = exp.at("samples").as_array()[i].at("fields");
      std::vector<std::string> keys;
      for (const auto& kv : v) keys.emplace_back(kv.key());
      EXPECT_EQ(keys, (std::vector<std::string>{"__key__", "features", "label", "source"}));
      EXPECT_EQ(v.at("__key__"), exp.at("samples").as_array()[i].at("key"));
      EXPECT_EQ(v.at("label"), e.at("label").at("value"));
      EXPECT_EQ(v.at("source"), e.at("source").at("value"));
      const auto& f = v.at("features").as_object();
      EXPECT_EQ(f.at("dtype"), "<f4");
      EXPECT_EQ(f.at("shape"), e.at("features").at("shape"));
      const auto& data = f.at("data").as_array();
      ASSERT_EQ(data.size(), 128u);
      const auto& first = e.at("features").at("first").as_array();
      for (std::size_t k = 0; k < first.size(); ++k) EXPECT_EQ(data[k].as_double(), first[k].as_double());
    }
  }
}

// Writes one sample whose fields are the given (name, msgpack writer) pairs.
std::string write_shard(const std::string& name, const std::function<void(msgpack::Writer&)>& body,
                        int fields) {
  std::vector<std::byte> packed;
  msgpack::Writer w(packed);
  w.write_map_header(static_cast<std::uint32_t>(fields));
  body(w);
  TarWriter t = TarWriter::in_memory();
  t.write("k0", "msgpack", packed);
  auto bytes = t.take_bytes();
  fs::path p = fs::path(::testing::TempDir()) / name;
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return p.string();
}

void bin_array(msgpack::Writer& w, const NDArray& a) {
  auto enc = npy::encode(a);
  w.write_bin(enc);
}

TEST(Cat, ArrayRenderingContract) {
  std::string url = write_shard(
      "kinds.tar",
      [](msgpack::Writer& w) {
        w.write_str("f");
        bin_array(w,
                  NDArray::from_span<double>(std::vector<double>{1.5, NAN, INFINITY, -INFINITY, -0.0, 0.1}));
        w.write_str("b");
        bin_array(w, NDArray::copy_of(Dtype::parse("|b1"), {2}, std::as_bytes(std::span("\x01\x00", 2))));
        w.write_str("c");
        bin_array(
            w, NDArray::from_span<std::complex<float>>(std::vector<std::complex<float>>{{1, 2}, {-0.5, 0}}));
        w.write_str("be");
        bin_array(w, NDArray::copy_of(Dtype::parse(">i4"), {1, 2},
                                      std::as_bytes(std::span("\x00\x00\x00\x01\xff\xff\xff\xfe", 8))));
        w.write_str("s");
        bin_array(w, NDArray::copy_of(Dtype::parse("|S3"), {2}, std::as_bytes(std::span("ab\0xyz", 6))));
        w.write_str("u");
        bin_array(w, NDArray::copy_of(Dtype::parse("<U2"), {1},
                                      std::as_bytes(std::span("\xe9\x00\x00\x00\x00\x00\x00\x00", 8))));
        w.write_str("h");
        bin_array(w, NDArray::copy_of(Dtype::parse("<f2"), {}, std::as_bytes(std::span("\x00\x3c", 2))));
        w.write_str("fake");
        std::vector<std::byte> fake(npy::kMagic, npy::kMagic + 6);
        fake.push_back(std::byte{1});
        w.write_bin(fake);
        w.write_str("raw");
        w.write_bin(std::as_bytes(std::span("hi!?", 4)));
        w.write_str("n");
        w.write_nil();
        w.write_str("l");
        w.write_array_header(3);
        w.write_double(2.5);
        w.write_str("\"q\"\n\x01");
        w.write_uint(18446744073709551615ull);
        w.write_str("neg");
        w.write_int(-9223372036854775807ll - 1);
      },
      12);
  auto r = cat({url});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            R"({"__key__": "k0", )"
            R"("f": {"dtype": "<f8", "shape": [6], "data": [1.5, "nan", "inf", "-inf", -0.0, 0.1]}, )"
            R"("b": {"dtype": "|b1", "shape": [2], "data": [true, false]}, )"
            R"("c": {"dtype": "<c8", "shape": [2], "data": [[1.0, 2.0], [-0.5, 0.0]]}, )"
            R"("be": {"dtype": ">i4", "shape": [1, 2], "data": [1, -2]}, )"
            R"("s": {"dtype": "|S3", "shape": [2], "data": [{"$bytes": "YWI="}, {"$bytes": "eHl6"}]}, )"
            R"("u": {"dtype": "<U2", "shape": [1], "data": ["é"]}, )"
            R"("h": {"dtype": "<f2", "shape": [], "data": [1.0]}, )"
            R"("fake": {"$bytes": "k05VTVBZAQ=="}, )"
            R"("raw": {"$bytes": "aGkhPw=="}, )"
            R"("n": null, )"
            R"("l": [2.5, "\"q\"\n\u0001", 18446744073709551615], )"
            R"("neg": -9223372036854775808})"
            "\n");
  // Every line is valid JSON.
  EXPECT_NO_THROW(boost::json::parse(lines(r.out)[0]));
}

TEST(Cat, ErrorsAreOneLineWithNonZeroStatus) {
  auto missing = cat({"/nonexistent/x.tar"});
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(lines(missing.err).size(), 1u);
  EXPECT_NE(missing.err.find("/nonexistent/x.tar"), std::string::npos);
  auto usage = cat({});
  EXPECT_EQ(usage.status, 2);
  EXPECT_EQ(cat({"x.tar", "--limit"}).status, 2);
  EXPECT_EQ(cat({"x.tar", "--bogus"}).status, 2);
  auto badbrace = cat({"x-{0..1.tar"});
  EXPECT_EQ(badbrace.status, 1);
  EXPECT_EQ(lines(badbrace.err).size(), 1u);
  // A schema that does not fit the data.
  fs::path schema = fs::path(::testing::TempDir()) / "wrong_schema.json";
  std::ofstream(schema) << R"({"$type": "ac.foundation.dataset.sampleSchema", "name": "W", "version": "1.0.0",
    "fields": [
      {"name": "id", "fieldType": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "str"}, "optional": false}],
    "createdAt": "2026-01-18T00:00:00.000000+00:00"})";
  auto wrong = cat({kData + "/test_samples.tar", "--schema", schema.string()});
  EXPECT_EQ(wrong.status, 1);
  EXPECT_EQ(lines(wrong.err).size(), 1u);
  // It names the shard, the sample, the schema and the field.
  EXPECT_EQ(wrong.err.rfind("atdata: error: shard " + kData + "/test_samples.tar, sample '", 0), 0u)
      << wrong.err;
  EXPECT_NE(wrong.err.find("): W.id: expected str, got msgpack int"), std::string::npos) << wrong.err;
  EXPECT_EQ(wrong.out, "");
}

}  // namespace
