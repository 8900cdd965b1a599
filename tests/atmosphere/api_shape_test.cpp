// The shape of the public API as a user meets it: options are not
// aggregates (so the designated-initializer form that GCC 12 miscompiles
// inside co_await cannot be written), the inline forms that replace it work
// inside a coroutine (this file runs under ASan+UBSan in CI), record names
// convert from text, and the two namespaces can be used together.
#include <gtest/gtest.h>

#include <array>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "atdata/atdata.hpp"

using namespace atdata;              // NOLINT(google-build-using-namespace)
using namespace atdata::atmosphere;  // NOLINT(google-build-using-namespace)

namespace {

namespace asio = boost::asio;

// Both namespaces at once: the core's field types and the schema record's
// field types have different names, so nothing here is ambiguous.
static_assert(std::is_same_v<FieldDef, atdata::FieldDef>);
static_assert(std::is_same_v<SchemaFieldDef, atdata::atmosphere::SchemaFieldDef>);
static_assert(std::is_same_v<FieldKind, atdata::FieldKind>);
static_assert(std::is_same_v<atdata::atmosphere::AtmosphereClient, atdata::atproto::AtmosphereClient>);

// Every options type passed to an awaitable is a non-aggregate.
static_assert(!std::is_aggregate_v<DatasetPublishOptions>);
static_assert(!std::is_aggregate_v<SchemaPublishOptions>);
static_assert(!std::is_aggregate_v<LensPublishOptions>);
static_assert(!std::is_aggregate_v<LensFromCodeOptions>);
static_assert(!std::is_aggregate_v<BulkOptions>);
static_assert(!std::is_aggregate_v<CodeReference>);
static_assert(!std::is_aggregate_v<AtUri>);
static_assert(!std::is_aggregate_v<atdata::DatasetOptions>);
static_assert(!std::is_aggregate_v<atproto::CreateRecordOptions>);
static_assert(!std::is_aggregate_v<atproto::ListRecordsOptions>);

// Braced lists are refused by the list and map setters on every compiler,
// because GCC 12 cannot compile them inside co_await.
template <class O>
concept TakesBracedTags = requires(O o) {
  std::move(o).with_tags({"a", "b"});
};
static_assert(!TakesBracedTags<DatasetPublishOptions>);
template <class O>
concept TakesBracedMetadata = requires(O o) {
  std::move(o).with_metadata({{"a", "b"}});
};
static_assert(!TakesBracedMetadata<DatasetPublishOptions>);
static_assert(!TakesBracedMetadata<SchemaPublishOptions>);

asio::awaitable<DatasetPublishOptions> echo(DatasetPublishOptions o) {
  co_return o;
}
asio::awaitable<SchemaPublishOptions> echo_schema(SchemaPublishOptions o) {
  co_return o;
}
asio::awaitable<std::string> rkey_of(AtUri uri) {
  co_return uri.rkey;
}

// The forms GCC 12 used to break (aggregate temporaries and braced lists
// inside co_await), in their supported spelling.
asio::awaitable<void> inline_forms() {
  DatasetPublishOptions d = co_await echo(DatasetPublishOptions("a-dataset-name-longer-than-sso")
                                              .with_tags("features", "synthetic-and-longer-than-sso")
                                              .with_metadata("source", "training-data-longer-than-sso")
                                              .with_metadata("rows", 1000)
                                              .with_max_in_flight(3));
  EXPECT_EQ(d.name, "a-dataset-name-longer-than-sso");
  const std::vector<std::string> want_tags{"features", "synthetic-and-longer-than-sso"};
  EXPECT_EQ(d.tags, want_tags);
  EXPECT_TRUE(d.metadata.has_value());
  if (d.metadata) {
    EXPECT_EQ(d.metadata->at("source"), "training-data-longer-than-sso");
    EXPECT_EQ(d.metadata->at("rows"), 1000);
  }
  EXPECT_EQ(d.max_in_flight, 3u);

  SchemaPublishOptions s =
      co_await echo_schema(SchemaPublishOptions().with_version("2.0.0").with_description("Feature vectors"));
  EXPECT_EQ(s.version, "2.0.0");
  EXPECT_EQ(s.description, "Feature vectors");

  std::string from_literal = co_await rkey_of("at://did:plc:abc/ac.foundation.dataset.record/3kxyz");
  EXPECT_EQ(from_literal, "3kxyz");
  const std::string text = "at://did:plc:abc/ac.foundation.dataset.record/self";
  std::string from_string = co_await rkey_of(text);
  EXPECT_EQ(from_string, "self");
}

TEST(ApiShape, InlineOptionFormsAreSafeInsideCoAwait) {
  asio::io_context io;
  run_blocking(io, inline_forms());
}

TEST(ApiShape, ListSettersTakeArgumentsOrRanges) {
  std::vector<std::string> v{"x", "y", "z"};
  auto a = DatasetPublishOptions("n").with_tags(v);
  EXPECT_EQ(a.tags, v);
  std::array<std::string_view, 2> arr{"p", "q"};
  auto b = DatasetPublishOptions("n").with_tags(arr);
  EXPECT_EQ(b.tags, (std::vector<std::string>{"p", "q"}));
  auto c = DatasetPublishOptions("n").with_tags(std::string("one"));
  EXPECT_EQ(c.tags, std::vector<std::string>{"one"});
  boost::json::object md;
  md["k"] = 1;
  auto d = DatasetPublishOptions("n").with_metadata(md);
  EXPECT_EQ(d.metadata, md);
  auto e = DatasetOptions().with_split(2, 4).with_metadata_url("file:///m");
  EXPECT_EQ(e.rank, 2u);
  EXPECT_EQ(e.world_size, 4u);
  EXPECT_EQ(e.metadata_url, "file:///m");
  auto l = LensFromCodeOptions("at://a/b/c", "at://a/b/d").with_code("https://git.example/r", "abc");
  EXPECT_EQ(l.source_schema, "at://a/b/c");
  EXPECT_EQ(l.repository, "https://git.example/r");
  EXPECT_EQ(l.commit, "abc");
}

TEST(ApiShape, AtUriConvertsFromTextAndPrints) {
  AtUri a = "at://did:plc:abc/ac.foundation.dataset.record/3kxyz";
  AtUri b = std::string("at://did:plc:abc/ac.foundation.dataset.record/3kxyz");
  AtUri c = std::string_view("at://did:plc:abc/ac.foundation.dataset.record/3kxyz");
  EXPECT_EQ(a, b);
  EXPECT_EQ(b, c);
  std::ostringstream os;
  os << a;
  EXPECT_EQ(os.str(), "at://did:plc:abc/ac.foundation.dataset.record/3kxyz");
  EXPECT_THROW(AtUri("https://example.com/x"), InvalidArgument);
  EXPECT_THROW(AtUri("at://only-authority"), InvalidArgument);
}

struct NoDefault {
  explicit NoDefault(int v) : value(v) {}
  int value;
};
asio::awaitable<NoDefault> make_no_default(int v) {
  co_return NoDefault(v);
}
asio::awaitable<int> fails() {
  throw InvalidArgument("boom");
  co_return 0;
}

TEST(ApiShape, RunBlockingTakesAnyResultType) {
  asio::io_context io;
  EXPECT_EQ(run_blocking(io, make_no_default(7)).value, 7);
  EXPECT_THROW(run_blocking(io, fails()), InvalidArgument);
  // The context is reusable after an exception.
  EXPECT_EQ(run_blocking(io, make_no_default(8)).value, 8);
}

TEST(ApiShape, UmbrellaHeaderPrintsARecordsJson) {
  DatasetRecord rec;
  rec.name = "demo";
  rec.schema_ref = "at://did:plc:abc/ac.foundation.dataset.sampleSchema/1";
  std::vector<std::string> urls{"https://example.com/data-{000000..000009}.tar"};
  rec.storage = StorageLocation::external(urls);
  const std::string json = boost::json::serialize(rec.to_record());
  EXPECT_NE(json.find("\"$type\":\"ac.foundation.dataset.record\""), std::string::npos) << json;
}

}  // namespace
