// Fixture shards written by Python atdata: every sample decodes value-exactly
// (typed and dynamic), re-packs to the identical bytes, and batches of 16/32
// stack to the digests recorded in golden-basic-000000.expected.json.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <fstream>
#include <sstream>

#include "atdata/core/dynamic_sample.hpp"
#include "atdata/core/sample.hpp"
#include "atdata/core/sample_batch.hpp"
#include "support/sha256.hpp"
#include "support/tar_walk.hpp"

using namespace atdata;
namespace json = boost::json;

namespace tgolden {

struct BasicSample {
  NDArray features;
  std::int64_t label = 0;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(BasicSample, (), (features, label, source))

struct FixtureSample {
  std::int64_t id = 0;
  std::string name;
  std::int64_t value = 0;
};
BOOST_DESCRIBE_STRUCT(FixtureSample, (), (id, name, value))

struct FixtureMissingValue {
  std::int64_t id = 0;
  std::string name;
};
BOOST_DESCRIBE_STRUCT(FixtureMissingValue, (), (id, name))

struct FixtureExtraField {
  std::int64_t id = 0;
  std::string name;
  std::int64_t value = 0;
  std::string extra;
};
BOOST_DESCRIBE_STRUCT(FixtureExtraField, (), (id, name, value, extra))

}  // namespace tgolden

using namespace tgolden;

namespace {

const std::string kData = ATDATA_TEST_DATA_DIR;

json::value load_expected() {
  std::ifstream f(kData + "/golden-basic-000000.expected.json");
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

// sha256 of the array's C-order little-endian bytes (the fixture's digest).
std::string array_sha(const NDArray& a) {
  const NDArray le = a.to(a.dtype().with_byte_order(ByteOrder::Little));
  return test::sha256_hex(le.bytes());
}

std::vector<std::int64_t> json_shape(const json::value& v) {
  std::vector<std::int64_t> s;
  for (const auto& d : v.as_array()) s.push_back(d.as_int64());
  return s;
}

class Golden : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    expected_ = new json::value(load_expected());
    archive_ = new SharedBytes(test::read_file(kData + "/golden-basic-000000.tar"));
    members_ = new std::vector<test::TarMember>(test::tar_members(*archive_));
  }
  static void TearDownTestSuite() {
    delete expected_;
    delete archive_;
    delete members_;
  }
  static const json::array& samples() { return expected_->at("samples").as_array(); }

  static json::value* expected_;
  static SharedBytes* archive_;
  static std::vector<test::TarMember>* members_;
};
json::value* Golden::expected_ = nullptr;
SharedBytes* Golden::archive_ = nullptr;
std::vector<test::TarMember>* Golden::members_ = nullptr;

}  // namespace

TEST_F(Golden, FixtureIntegrity) {
  EXPECT_EQ(test::sha256_hex(archive_->span()),
            "8219e374e2b6811ec11c6323f6d0f3e3755c668d9f5ff1ceccdae10b85b838a4");
  ASSERT_EQ(members_->size(), 50u);
  ASSERT_EQ(samples().size(), 50u);
}

TEST_F(Golden, EverySampleDecodesTypedAndRepacksExactly) {
  ASSERT_EQ(members_->size(), samples().size());
  for (std::size_t i = 0; i < samples().size(); ++i) {
    const auto& exp = samples()[i].as_object();
    const auto& m = (*members_)[i];
    SCOPED_TRACE(m.name);
    EXPECT_EQ(m.name, exp.at("member").as_string().c_str());
    EXPECT_EQ(m.data.size(), exp.at("msgpack_len").as_int64());
    EXPECT_EQ(test::sha256_hex(m.data.span()), exp.at("msgpack_sha256").as_string().c_str());

    const auto s = unpack<BasicSample>(m.data);
    const auto& fields = exp.at("fields").as_object();
    const auto& f = fields.at("features").as_object();
    EXPECT_EQ(s.features.dtype().str(), f.at("dtype").as_string().c_str());
    EXPECT_EQ(s.features.dtype().name(), f.at("dtype_name").as_string().c_str());
    EXPECT_EQ(std::vector<std::int64_t>(s.features.shape().begin(), s.features.shape().end()),
              json_shape(f.at("shape")));
    EXPECT_EQ(s.features.size(), static_cast<std::size_t>(f.at("size").as_int64()));
    EXPECT_EQ(array_sha(s.features), f.at("sha256").as_string().c_str());
    // First values. The JSON holds each float32 widened to double; Boost.JSON
    // 1.81 parses decimals with up to 1 ulp error, so compare at float32
    // precision (the rounding back to float32 removes that error).
    const auto vals = s.features.to<float>();
    const auto& first = f.at("first").as_array();
    for (std::size_t k = 0; k < first.size(); ++k) {
      EXPECT_EQ(vals.view<float>()[k], static_cast<float>(first[k].as_double())) << k;
    }
    // Zero-copy view into the shard bytes.
    EXPECT_TRUE(s.features.is_view());
    EXPECT_GE(s.features.bytes().data(), archive_->data());
    EXPECT_LT(s.features.bytes().data(), archive_->data() + archive_->size());

    EXPECT_EQ(s.label, fields.at("label").at("value").as_int64());
    EXPECT_EQ(s.source, fields.at("source").at("value").as_string().c_str());

    const auto repacked = pack(s);
    EXPECT_EQ(test::sha256_hex(repacked), exp.at("msgpack_sha256").as_string().c_str());
  }
}

TEST_F(Golden, EverySampleDecodesDynamically) {
  auto schema = std::make_shared<const SampleSchema>(schema_of<BasicSample>());
  EXPECT_EQ(schema->name(), "BasicSample");
  for (std::size_t i = 0; i < samples().size(); ++i) {
    const auto& exp = samples()[i].as_object();
    const auto& m = (*members_)[i];
    SCOPED_TRACE(m.name);
    const auto d = DynamicSample::unpack(schema, m.data);
    const auto& fields = exp.at("fields").as_object();
    EXPECT_EQ(array_sha(d.at("features").as_ndarray()),
              fields.at("features").at("sha256").as_string().c_str());
    EXPECT_EQ(d.get<std::int64_t>("label"), fields.at("label").at("value").as_int64());
    EXPECT_EQ(d.get<std::string>("source"), fields.at("source").at("value").as_string().c_str());
    EXPECT_EQ(test::sha256_hex(d.pack()), exp.at("msgpack_sha256").as_string().c_str());

    // Schemaless: stored field order, features left as the .npy bytes.
    const auto raw = DynamicSample::unpack(m.data);
    const auto& order = exp.at("field_order").as_array();
    ASSERT_EQ(raw.size(), order.size());
    for (std::size_t k = 0; k < order.size(); ++k) EXPECT_EQ(raw.field(k).name, order[k].as_string().c_str());
    EXPECT_EQ(test::sha256_hex(raw.at("features").as_bytes().span()),
              fields.at("features").at("npy").at("sha256").as_string().c_str());
    EXPECT_EQ(test::sha256_hex(raw.pack()), exp.at("msgpack_sha256").as_string().c_str());
  }
}

TEST_F(Golden, OrderedBatchesMatch) {
  std::vector<BasicSample> all;
  std::vector<DynamicSample> dyn;
  auto schema = std::make_shared<const SampleSchema>(schema_of<BasicSample>());
  for (const auto& m : *members_) {
    all.push_back(unpack<BasicSample>(m.data));
    dyn.push_back(DynamicSample::unpack(schema, m.data));
  }
  for (const char* size : {"16", "32"}) {
    const auto& batches = expected_->at("ordered_batches").at(size).as_array();
    std::size_t total = 0;
    for (const auto& bv : batches) {
      const auto& b = bv.as_object();
      const auto& range = b.at("samples").as_array();
      const auto lo = static_cast<std::size_t>(range[0].as_int64());
      const auto hi = static_cast<std::size_t>(range[1].as_int64());
      SCOPED_TRACE(std::string("batch size ") + size + " from " + std::to_string(lo));
      ASSERT_EQ(hi - lo, static_cast<std::size_t>(b.at("size").as_int64()));
      total += hi - lo;

      SampleBatch<BasicSample> batch(std::vector<BasicSample>(all.begin() + lo, all.begin() + hi));
      const auto& fx = b.at("fields").at("features").as_object();
      const NDArray& stacked = batch.stacked<&BasicSample::features>();
      EXPECT_EQ(stacked.dtype().str(), fx.at("dtype").as_string().c_str());
      EXPECT_EQ(std::vector<std::int64_t>(stacked.shape().begin(), stacked.shape().end()),
                json_shape(fx.at("shape")));
      EXPECT_EQ(array_sha(stacked), fx.at("sha256").as_string().c_str());
      EXPECT_EQ(&batch.array("features"), &stacked);

      const auto labels = batch.column<&BasicSample::label>();
      const auto sources = batch.column<&BasicSample::source>();
      ASSERT_EQ(labels.size(), static_cast<std::size_t>(b.at("fields").at("label").at("len").as_int64()));
      ASSERT_EQ(sources.size(), static_cast<std::size_t>(b.at("fields").at("source").at("len").as_int64()));
      for (std::size_t k = 0; k < labels.size(); ++k) {
        const auto& exp = samples()[lo + k].at("fields");
        EXPECT_EQ(labels[k], exp.at("label").at("value").as_int64());
        EXPECT_EQ(sources[k], exp.at("source").at("value").as_string().c_str());
      }

      DynamicBatch db(std::vector<DynamicSample>(dyn.begin() + lo, dyn.begin() + hi));
      EXPECT_TRUE(db.is_stacked("features"));
      EXPECT_FALSE(db.is_stacked("label"));
      EXPECT_EQ(array_sha(db.array("features")), fx.at("sha256").as_string().c_str());
      const auto agg = db.aggregate("source");
      ASSERT_TRUE(agg.is_list());
      EXPECT_EQ(agg.as_list().size(), hi - lo);
      EXPECT_EQ(agg.as_list()[0].as_str(), sources[0]);
    }
    EXPECT_EQ(total, 50u);
  }
}

TEST(GoldenTestSamples, ThreeFixtureSamples) {
  const auto archive = test::read_file(kData + "/test_samples.tar");
  EXPECT_EQ(test::sha256_hex(archive.span()),
            "aa1079212604fbe0e996fe18347f4a70fa781c9ecf29d00f0dacd7a9e19c74cf");
  const auto members = test::tar_members(archive);
  ASSERT_EQ(members.size(), 3u);
  for (std::int64_t i = 0; i < 3; ++i) {
    const auto& m = members[static_cast<std::size_t>(i)];
    EXPECT_EQ(m.name, "sample_00000" + std::to_string(i) + ".msgpack");
    EXPECT_EQ(m.data.size(), 31u);
    const auto s = unpack<FixtureSample>(m.data);
    EXPECT_EQ(s.id, i);
    EXPECT_EQ(s.name, "test_sample_" + std::to_string(i));
    EXPECT_EQ(s.value, 10 * i);
    EXPECT_EQ(pack(s), std::vector<std::byte>(m.data.span().begin(), m.data.span().end()));
    // Decoding as a type with different fields fails, as in Python.
    EXPECT_THROW((void)unpack<FixtureMissingValue>(m.data), SchemaError);
    try {
      (void)unpack<FixtureExtraField>(m.data);
      FAIL();
    } catch (const SchemaError& e) {
      EXPECT_EQ(e.field(), "extra");
    }
  }
  // Batches of 2 then 1 (partial batch kept), as Python's ordered(batch_size=2).
  std::vector<FixtureSample> all;
  for (const auto& m : members) all.push_back(unpack<FixtureSample>(m.data));
  SampleBatch<FixtureSample> b0({all[0], all[1]});
  SampleBatch<FixtureSample> b1({all[2]});
  EXPECT_EQ(b0.column<&FixtureSample::id>(), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(b1.column<&FixtureSample::name>(), (std::vector<std::string>{"test_sample_2"}));
  EXPECT_EQ(b1.column<&FixtureSample::value>(), (std::vector<std::int64_t>{20}));
}
