// Promotion against the real PDS: a dataset of the local index (SQLite)
// published as ATProto records, read back through AtmosphereIndex, and
// promoted again without writing anything: one schema, one dataset record.

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "atdata/atmosphere/index.hpp"
#include "atdata/atmosphere/local_index.hpp"
#include "atdata/atmosphere/promote.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/error.hpp"
#include "pds/atmosphere_fixture.hpp"

namespace atdata::test {
namespace {

using namespace atdata::atmosphere;
namespace json = boost::json;

std::string file_url(const std::string& path) {
  return "file://localhost" + path;
}

std::string unique_suffix() {
  std::random_device rd;
  return std::to_string(rd() % 1000000000);
}

std::size_t count_schemas(Account& acc, AtmosphereIndex& index, const std::string& name) {
  std::size_t n = 0;
  for (const auto& s : acc.run(index.list_schemas())) n += s.record().name == name ? 1 : 0;
  return n;
}

std::size_t count_datasets(Account& acc, AtmosphereIndex& index, const std::string& name) {
  std::size_t n = 0;
  for (const auto& d : acc.run(index.list_datasets())) n += d.name() == name ? 1 : 0;
  return n;
}

class PromotePds : public ::testing::Test {
 protected:
  void SetUp() override {
    local_ = std::make_unique<LocalIndex>(
        acc_.io.get_executor(), LocalIndexConfig().with_path((dir_.path / "index.sqlite").string()));
    suffix_ = unique_suffix();
    SchemaPublishOptions so;
    so.name = "promote_test.Features" + suffix_;
    so.version = "1.2.0";
    so.description = "promoted features";
    schema_ref_ = acc_.run(local_->publish_schema<FeatureSample>(std::move(so)));
    shards_ = write_feature_shards(dir_.path, 60, 20);
  }

  Account acc_{"bob"};
  TempDir dir_;
  std::unique_ptr<LocalIndex> local_;
  std::string suffix_, schema_ref_;
  std::vector<std::string> shards_;
};

TEST_F(PromotePds, UrlsTwiceGiveOneSchemaAndOneDataset) {
  const std::string pattern = file_url((dir_.path / "features-{000000..000002}.tar").string());
  json::object meta;
  meta["split"] = "train";
  LocalDatasetEntry entry("promoted-" + suffix_, schema_ref_, {pattern}, meta);
  acc_.run(local_->add_entry(entry));
  AtmosphereIndex atm(acc_.client);

  PromoteOptions o;
  o.tags = {"promoted"};
  PromoteResult first = acc_.run(promote(entry, *local_, atm, o));
  EXPECT_FALSE(first.schema_reused);
  EXPECT_FALSE(first.dataset_reused);
  PromoteResult again = acc_.run(promote(entry, *local_, atm, o));
  EXPECT_TRUE(again.schema_reused);
  EXPECT_TRUE(again.dataset_reused);
  EXPECT_EQ(again.schema, first.schema);
  EXPECT_EQ(again.dataset, first.dataset);
  EXPECT_EQ(count_schemas(acc_, atm, "Features" + suffix_), 1u);
  EXPECT_EQ(count_datasets(acc_, atm, "promoted-" + suffix_), 1u);

  // Back through the atmosphere index: URLs verbatim, metadata, schema with
  // its dtype (Python's promotion loses it).
  AtmosphereIndexEntry got = acc_.run(atm.get_dataset(first.dataset));
  EXPECT_EQ(got.data_urls(), std::vector<std::string>{pattern});
  EXPECT_EQ(got.schema_ref(), first.schema.str());
  ASSERT_TRUE(got.metadata());
  EXPECT_EQ(*got.metadata(), meta);
  EXPECT_EQ(got.record().tags, std::vector<std::string>{"promoted"});
  SchemaRecord schema = acc_.run(atm.get_schema(first.schema));
  EXPECT_EQ(schema.version, "1.2.0");
  EXPECT_EQ(schema.description, "promoted features");
  ASSERT_EQ(schema.fields.size(), 5u);
  EXPECT_EQ(schema.fields[0].field_type.dtype, std::optional<std::string>("float32"));
  // The same samples through the generic interface.
  Index& generic = atm;
  auto decoded = acc_.run(generic.decode_schema(first.schema.str()));
  EXPECT_EQ(decoded->field(1).name, "label");
  IndexEntry by_name = acc_.run(generic.get_dataset("promoted-" + suffix_));
  EXPECT_EQ(by_name.ref(), first.dataset.str());
}

TEST_F(PromotePds, BlobsAreTheShardsAndARerunWritesNothing) {
  const std::string pattern = file_url((dir_.path / "features-{000000..000002}.tar").string());
  LocalDatasetEntry entry("blob-promoted-" + suffix_, schema_ref_, {pattern});
  AtmosphereIndex atm(acc_.client);
  PromoteOptions o;
  o.blobs = true;
  PromoteResult first = acc_.run(promote(entry, *local_, atm, o));
  AtmosphereIndexEntry got = acc_.run(atm.get_dataset(first.dataset));
  ASSERT_EQ(got.record().storage.kind, StorageLocation::Kind::blobs);
  ASSERT_EQ(got.record().storage.blobs.size(), shards_.size());
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    std::ifstream in(shards_[i], std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(got.record().storage.blobs[i].cid(), atproto::raw_cid(bytes)) << shards_[i];
  }
  PromoteResult again = acc_.run(promote(entry, *local_, atm, o));
  EXPECT_TRUE(again.dataset_reused);
  EXPECT_EQ(again.dataset, first.dataset);
  EXPECT_EQ(count_datasets(acc_, atm, "blob-promoted-" + suffix_), 1u);
}

TEST_F(PromotePds, NothingIsWrittenForAnEntryWithoutUrlsOrSchema) {
  AtmosphereIndex atm(acc_.client);
  LocalDatasetEntry no_urls("empty-" + suffix_, schema_ref_, {});
  try {
    acc_.run(promote(no_urls, *local_, atm));
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_EQ(std::string(e.what()), "Local entry 'empty-" + suffix_ + "' has no data URLs");
  }
  LocalDatasetEntry no_schema("orphan-" + suffix_, "local://schemas/missing.Type@1.0.0", {"a.tar"});
  EXPECT_THROW(acc_.run(promote(no_schema, *local_, atm)), NotFound);
  EXPECT_EQ(count_schemas(acc_, atm, "Features" + suffix_), 0u);
}

}  // namespace
}  // namespace atdata::test
