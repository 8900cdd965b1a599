// The umbrella header compiles on its own, and the README's "taste" snippet
// runs as written against the golden shard.
#include <atdata/atdata.hpp>

#include <gtest/gtest.h>

namespace {

struct FeatureSample {
  atdata::NDArray features;
  std::int64_t label;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(FeatureSample, (), (features, label, source))

TEST(Umbrella, ReadmeSnippetReadsTheGoldenShard) {
  atdata::Dataset<FeatureSample> ds(std::string(ATDATA_TEST_DATA_DIR) + "/golden-basic-{000000..000000}.tar");
  std::size_t rows = 0, batches = 0;
  for (const auto& batch : ds.ordered(32)) {
    const atdata::NDArray& x = batch.stacked<&FeatureSample::features>();
    ASSERT_EQ(x.ndim(), 2);
    EXPECT_EQ(x.shape()[1], 128);
    EXPECT_EQ(x.dtype().str(), "<f4");
    rows += static_cast<std::size_t>(x.shape()[0]);
    ++batches;
  }
  EXPECT_EQ(rows, 50u);
  EXPECT_EQ(batches, 2u);
}

}  // namespace
