// SampleBatch / DynamicBatch semantics, as Python's SampleBatch (stacking,
// columns, empty batches, unknown names).

#include <gtest/gtest.h>

#include "atdata/core/sample_batch.hpp"
#include "atdata/core/typed_ndarray.hpp"

using namespace atdata;

namespace tbatch {
struct Item {
  NDArray data;
  std::string name;
  std::optional<NDArray> maybe;
};
BOOST_DESCRIBE_STRUCT(Item, (), (data, name, maybe))
}  // namespace tbatch
using tbatch::Item;

namespace {
NDArray arange3(std::int32_t start) {
  const std::int32_t v[] = {start, start + 1, start + 2};
  return NDArray::from_span(std::span<const std::int32_t>(v));
}
}  // namespace

TEST(SampleBatch, StacksArraysAndListsOthers) {
  std::vector<Item> samples;
  for (int i = 0; i < 4; ++i) samples.push_back({arange3(i), "s" + std::to_string(i), std::nullopt});
  SampleBatch<Item> b(samples);
  EXPECT_EQ(b.size(), 4u);
  const NDArray& st = b.stacked<&Item::data>();
  ASSERT_EQ(st.ndim(), 2u);
  EXPECT_EQ(st.shape()[0], 4);
  EXPECT_EQ(st.shape()[1], 3);
  EXPECT_EQ(st.dtype(), Dtype::of<std::int32_t>());
  const auto v = st.view<std::int32_t>();
  for (int i = 0; i < 4; ++i) {
    for (int k = 0; k < 3; ++k) EXPECT_EQ(v[static_cast<std::size_t>(i * 3 + k)], i + k);
  }
  EXPECT_EQ(b.column<&Item::name>(), (std::vector<std::string>{"s0", "s1", "s2", "s3"}));
  EXPECT_EQ(b.column<&Item::maybe>().size(), 4u);
  EXPECT_EQ(&b.array("data"), &st);
  try {
    (void)b.array("nope");
    FAIL();
  } catch (const SchemaError& e) {
    EXPECT_NE(std::string(e.what()).find("No sample attribute named nope"), std::string::npos);
  }
  EXPECT_THROW((void)b.array("name"), SchemaError);
  EXPECT_EQ(b.samples()[2].name, "s2");
}

TEST(SampleBatch, RaggedOrMixedDtypeFails) {
  const std::int32_t four[] = {1, 2, 3, 4};
  std::vector<Item> ragged{{arange3(0), "a", {}},
                           {NDArray::from_span(std::span<const std::int32_t>(four)), "b", {}}};
  try {
    SampleBatch<Item> b(ragged);
    FAIL();
  } catch (const SchemaError& e) {
    EXPECT_EQ(e.field(), "data");
    EXPECT_NE(std::string(e.what()).find("shape (4,)"), std::string::npos) << e.what();
  }
  const float f[] = {1, 2, 3};
  std::vector<Item> mixed{{arange3(0), "a", {}}, {NDArray::from_span(std::span<const float>(f)), "b", {}}};
  EXPECT_THROW(SampleBatch<Item>{mixed}, SchemaError);
}

TEST(SampleBatch, EmptyBatch) {
  SampleBatch<Item> b(std::vector<Item>{});
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(b.column<&Item::name>().empty());
  EXPECT_EQ(b.stacked<&Item::data>().size(), 0u);
  DynamicBatch d{std::vector<DynamicSample>{}};
  EXPECT_TRUE(d.aggregate("anything").as_list().empty());
  EXPECT_TRUE(d.column("anything").empty());
}

TEST(DynamicBatch, PythonAggregation) {
  std::vector<DynamicSample> v;
  for (int i = 0; i < 3; ++i) {
    DynamicSample s;
    s.set("data", Value(arange3(i)));
    s.set("name", Value("n" + std::to_string(i)));
    s.set("x", i == 1 ? Value(nullptr) : Value(i));
    v.push_back(std::move(s));
  }
  DynamicBatch b(v);
  EXPECT_EQ(b.field_names(), (std::vector<std::string>{"data", "name", "x"}));
  EXPECT_TRUE(b.is_stacked("data"));
  EXPECT_EQ(b.array("data").shape()[0], 3);
  const auto agg = b.aggregate("x");
  ASSERT_TRUE(agg.is_list());
  EXPECT_EQ(agg.as_list()[0].as_int(), 0);
  EXPECT_TRUE(agg.as_list()[1].is_null());
  EXPECT_TRUE(b.aggregate("data").is_ndarray());
  EXPECT_THROW((void)b.aggregate("nope"), SchemaError);
  EXPECT_THROW((void)b.array("name"), SchemaError);
  // First value an array, a later one not → error naming the field.
  v[2].set("data", Value(5));
  try {
    DynamicBatch bad(v);
    FAIL();
  } catch (const SchemaError& e) {
    EXPECT_EQ(e.field(), "data");
  }
  // A sample lacking a field.
  std::vector<DynamicSample> w(2);
  w[0].set("a", Value(1));
  w[1].set("b", Value(1));
  EXPECT_THROW(DynamicBatch{w}, SchemaError);
}

namespace {
struct TypedImg {
  atdata::NDArrayOf<float> img;
  std::int64_t label = 0;
};
BOOST_DESCRIBE_STRUCT(TypedImg, (), (img, label))
}  // namespace

TEST(SampleBatch, StacksTypedArrayMembers) {
  std::vector<TypedImg> v;
  for (int i = 0; i < 3; ++i) {
    const float vals[2] = {float(i), float(i) + 0.5f};
    v.push_back({atdata::NDArray::from_span<float>(std::span<const float>(vals, 2)), i});
  }
  atdata::SampleBatch<TypedImg> b(std::move(v));
  const atdata::NDArray& s = b.stacked<&TypedImg::img>();
  ASSERT_EQ(s.ndim(), 2);
  EXPECT_EQ(s.shape()[0], 3);
  EXPECT_EQ(s.shape()[1], 2);
  auto f = s.to<float>();
  EXPECT_EQ(f.view<float>()[5], 2.5f);
  EXPECT_EQ(&b.array("img"), &s);
}
