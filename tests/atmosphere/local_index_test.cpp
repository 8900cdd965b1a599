// The local index without a server: the entry CID and hash fields byte for
// byte as Python atdata writes them (the spec's worked example), schema JSON in
// Python's json.dumps layout, and LocalIndex over SQLite (in memory and in a
// file shared by processes, one of them killed mid-insert).

#include "atdata/atmosphere/local_index.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <set>
#include <thread>

#include "atdata/atmosphere/catalogue.hpp"
#include "atdata/atmosphere/detail/local_store.hpp"
#include "atdata/atmosphere/metadata.hpp"
#include "atdata/atproto/dag_cbor.hpp"
#include "atdata/core/sample.hpp"
#include "atdata/error.hpp"
#include "support/hex.hpp"
#include "support/net_run.hpp"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace fs = std::filesystem;
using namespace atdata::atmosphere;
using atdata::test::from_hex;
using atdata::test::run_io;

constexpr const char* kRef = "local://schemas/test_module.TestSample@1.0.0";
constexpr const char* kCid = "bafyreihq4r3uv4x7msyzynaysmcqglilpfpom5snnr3ej4ln6pwm6udigm";

std::string bytes_str(const std::vector<std::byte>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

json::object version_map() {
  json::object m;
  m["version"] = "1.0";
  return m;
}

TEST(LocalEntry, CidOfTheSpecExample) {
  std::vector<std::string> urls{"s3://bucket/dataset.tar"};
  // The DAG-CBOR bytes the CID is taken over, as libipld writes them.
  json::object map;
  map["schema_ref"] = kRef;
  map["data_urls"] = json::array{"s3://bucket/dataset.tar"};
  const auto cbor = atdata::atproto::dag_cbor_encode_json(map);
  EXPECT_EQ(cbor,
            from_hex("a269646174615f75726c73 81 77 73333a2f2f6275636b65742f646174617365742e746172"
                     "6a736368656d615f726566 782c 6c6f63616c3a2f2f736368656d61732f746573745f6d6f64756c652e"
                     "5465737453616d706c6540312e302e30"));
  EXPECT_EQ(local_entry_cid(kRef, urls), kCid);
  LocalDatasetEntry e("test-dataset", kRef, urls, version_map());
  EXPECT_EQ(e.cid(), kCid);
  EXPECT_EQ(e.ref(), kCid);
  // Name and metadata do not take part; URL order does.
  EXPECT_EQ(LocalDatasetEntry("other", kRef, urls).cid(), kCid);
  std::vector<std::string> two{"a.tar", "b.tar"}, swapped{"b.tar", "a.tar"};
  EXPECT_NE(local_entry_cid(kRef, two), local_entry_cid(kRef, swapped));
  EXPECT_EQ(e.wds_url(), "s3://bucket/dataset.tar");
  EXPECT_EQ(e.sample_kind(), kRef);
}

TEST(LocalEntry, HashFieldsAreWhatPythonWrites) {
  LocalDatasetEntry e("test-dataset", kRef, {"s3://bucket/dataset.tar"}, version_map());
  const auto f = detail::encode_entry_fields(e);
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0], (detail::HashField{"name", "test-dataset"}));
  EXPECT_EQ(f[1], (detail::HashField{"schema_ref", kRef}));
  EXPECT_EQ(f[2].first, "data_urls");
  EXPECT_EQ(f[2].second, bytes_str(from_hex("91 b7 73333a2f2f6275636b65742f646174617365742e746172")));
  EXPECT_EQ(f[3], (detail::HashField{"cid", kCid}));
  EXPECT_EQ(f[4].first, "metadata");
  EXPECT_EQ(f[4].second, bytes_str(from_hex("81 a7 76657273696f6e a3 312e30")));
  // No metadata: no field at all (not msgpack nil).
  EXPECT_EQ(detail::encode_entry_fields(LocalDatasetEntry("x", kRef, {"u"})).size(), 4u);
}

TEST(LocalEntry, ReadsAnyFieldOrderUnknownFieldsAndAnAbsentCid) {
  std::vector<detail::HashField> f{
      {"metadata", bytes_str(from_hex("81 a7 76657273696f6e a3 312e30"))},
      {"legacy_uuid", "4f1c"},
      {"data_urls", bytes_str(from_hex("91 b7 73333a2f2f6275636b65742f646174617365742e746172"))},
      {"something_new", "ignored"},
      {"schema_ref", kRef},
      {"name", "test-dataset"},
  };
  LocalDatasetEntry e = detail::decode_entry_fields(f);
  EXPECT_EQ(e.cid(), kCid);  // recomputed, as Python does
  EXPECT_EQ(e.name(), "test-dataset");
  ASSERT_TRUE(e.metadata());
  EXPECT_EQ(*e.metadata(), version_map());
  EXPECT_EQ(e.legacy_uuid(), "4f1c");
  // A stored cid is taken as it is.
  f.emplace_back("cid", "bafyfromthefield");
  EXPECT_EQ(detail::decode_entry_fields(f).cid(), "bafyfromthefield");
}

TEST(LocalEntry, MalformedFieldsNameTheField) {
  std::vector<detail::HashField> f{{"name", "n"},
                                   {"schema_ref", kRef},
                                   {"data_urls",
                                    "\x92\xa1"
                                    "a"}};
  try {
    detail::decode_entry_fields(f);
    FAIL() << "truncated data_urls accepted";
  } catch (const atdata::DecodeError& e) {
    EXPECT_EQ(e.field(), "data_urls");
  }
  f[2].second = bytes_str(from_hex("91 c4 01 61"));  // a bin URL: Python would read bytes
  EXPECT_THROW(detail::decode_entry_fields(f), atdata::DecodeError);
  std::vector<detail::HashField> no_name{{"schema_ref", kRef}, {"data_urls", "\x90"}};
  try {
    detail::decode_entry_fields(no_name);
    FAIL();
  } catch (const atdata::DecodeError& e) {
    EXPECT_EQ(e.field(), "name");
  }
}

struct Sample {
  std::string name;
  std::int64_t value;
};
BOOST_DESCRIBE_STRUCT(Sample, (), (name, value))

struct Image {
  atdata::NDArray image;
  std::optional<std::string> caption;
  std::vector<std::string> tags;
};
BOOST_DESCRIBE_STRUCT(Image, (), (image, caption, tags))

TEST(LocalSchema, JsonIsPythonsLayout) {
  SchemaRecord r = schema_record_of<Sample>();
  r.name = "Sample";
  r.created_at = parse_datetime("2026-01-17T23:41:50.123456+00:00");
  EXPECT_EQ(local_schema_json(r),
            R"({"name": "Sample", "version": "1.0.0", "fields": [{"name": "name", "fieldType": {"$type": )"
            R"("local#primitive", "primitive": "str"}, "optional": false}, {"name": "value", "fieldType": )"
            R"({"$type": "local#primitive", "primitive": "int"}, "optional": false}], "description": null, )"
            R"("createdAt": "2026-01-17T23:41:50.123456+00:00"})");
  const SchemaRecord back = parse_local_schema_json(local_schema_json(r));
  EXPECT_EQ(back, r);

  SchemaRecord img = schema_record_of<Image>();
  img.description = "caf\xc3\xa9 \xf0\x9f\x98\x80";
  const std::string j = local_schema_json(img);
  EXPECT_NE(j.find(R"("description": "caf\u00e9 \ud83d\ude00")"), std::string::npos) << j;
  EXPECT_NE(j.find(R"({"$type": "local#ndarray", "dtype": )"), std::string::npos) << j;
  EXPECT_NE(j.find(R"({"$type": "local#array", "items": {"$type": "local#primitive", "primitive": "str"}})"),
            std::string::npos)
      << j;
  EXPECT_NE(j.find(R"("name": "caption", "fieldType": {"$type": "local#primitive", "primitive": "str"}, )"
                   R"("optional": true)"),
            std::string::npos)
      << j;
  EXPECT_EQ(parse_local_schema_json(j), img);
}

TEST(LocalSchema, PythonJsonDumpsNumbersAndEscapes) {
  auto d = [](const char* text) { return python_json_dumps(json::parse(text)); };
  EXPECT_EQ(d(R"({"a":[1,-2,1.0,0.5,1e16,1e-5,0.0001,123.456,1e22,-0.0],"b":{}})"),
            R"({"a": [1, -2, 1.0, 0.5, 1e+16, 1e-05, 0.0001, 123.456, 1e+22, -0.0], "b": {}})");
  EXPECT_EQ(d(R"(["\u0001\n\t\"\\/\u007f"])"), "[\"\\u0001\\n\\t\\\"\\\\/\x7f\"]");
  EXPECT_EQ(d("[100000.0, 1234567890123456.0, 12345678901234567.0]"),
            "[100000.0, 1234567890123456.0, 1.2345678901234568e+16]");
}

TEST(LocalSchema, RefsSplitAtTheLastAtWithPythonsMessages) {
  const auto r = LocalSchemaRef::parse("local://schemas/mylab.samples.ImageSample@2.0.0");
  EXPECT_EQ(r.kind(), "mylab.samples.ImageSample");
  EXPECT_EQ(r.version(), "2.0.0");
  EXPECT_EQ(r.key(), "mylab.samples.ImageSample@2.0.0");
  EXPECT_EQ(LocalSchemaRef::parse("local://schemas/test@1.0.0").kind(), "test");
  EXPECT_EQ(LocalSchemaRef::parse("local://schemas/a@b@c").version(), "c");
  try {
    LocalSchemaRef::parse("at://did:plc:x/y/z");
    FAIL();
  } catch (const atdata::InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "Invalid local schema reference: at://did:plc:x/y/z");
  }
  try {
    LocalSchemaRef::parse("local://schemas/noversion");
    FAIL();
  } catch (const atdata::InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "Schema reference must include version (@version): local://schemas/noversion");
  }
}

LocalIndexConfig memory() {
  return LocalIndexConfig().with_in_memory(true);
}

struct FakeDataset {
  using sample_type = Sample;
  std::string url() const { return "https://example.org/data-{000000..000003}.tar"; }
};

TEST(LocalIndexSqlite, InsertGetListThroughTheIndexInterface) {
  asio::io_context ioc;
  LocalIndex local(ioc.get_executor(), memory());
  Index& index = local;
  EXPECT_EQ(index.kind(), "local");
  EXPECT_EQ(local.backend(), "sqlite");

  DatasetPublishOptions o("features");
  o.metadata = version_map();
  IndexEntry e = run_io(ioc, index.insert_dataset(FakeDataset(), std::move(o)));
  // No schema_ref: the sample type's schema was published, so the ref resolves.
  EXPECT_EQ(e.schema_ref(), "local://schemas/Sample@1.0.0");
  EXPECT_EQ(e.data_urls(), std::vector<std::string>{"https://example.org/data-{000000..000003}.tar"});
  EXPECT_EQ(e.ref(), local_entry_cid(e.schema_ref(), e.data_urls()));
  SchemaRecord schema = run_io(ioc, index.get_schema(e.schema_ref()));
  EXPECT_EQ(schema.name, "Sample");
  ASSERT_EQ(schema.fields.size(), 2u);
  auto decoded = run_io(ioc, index.decode_schema(e.schema_ref()));
  EXPECT_EQ(decoded->field(1).name, "value");

  IndexEntry by_name = run_io(ioc, index.get_dataset("features"));
  IndexEntry by_cid = run_io(ioc, index.get_dataset(e.ref()));
  EXPECT_EQ(by_name, e);
  EXPECT_EQ(by_cid, e);
  std::vector<IndexEntry> all = run_io(ioc, index.list_datasets());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], e);
  try {
    run_io(ioc, index.get_dataset("nope"));
    FAIL();
  } catch (const atdata::NotFound& nf) {
    EXPECT_STREQ(nf.what(), "No entry with name: nope");
    EXPECT_EQ(nf.kind(), "dataset");
  }
  EXPECT_THROW(run_io(ioc, index.get_schema("local://schemas/Nope@1.0.0")), atdata::NotFound);
  EXPECT_THROW(run_io(ioc, index.get_schema("nope")), atdata::InvalidArgument);
}

TEST(LocalIndexSqlite, AReAddReplacesTheWholeEntry) {
  asio::io_context ioc;
  LocalIndex index(ioc.get_executor(), memory());
  run_io(ioc, index.add_entry(LocalDatasetEntry("v1", kRef, {"a.tar"}, version_map())));
  run_io(ioc, index.add_entry(LocalDatasetEntry("v2", kRef, {"a.tar"})));
  LocalDatasetEntry got =
      run_io(ioc, index.get_entry(local_entry_cid(kRef, std::vector<std::string>{"a.tar"})));
  EXPECT_EQ(got.name(), "v2");
  EXPECT_FALSE(got.metadata()) << "Python keeps the stale metadata; this index must not";
  EXPECT_EQ(run_io(ioc, index.entries()).size(), 1u);
}

TEST(LocalIndexSqlite, ASharedNameIsAnErrorNamingTheCids) {
  asio::io_context ioc;
  LocalIndex index(ioc.get_executor(), memory());
  auto a = run_io(ioc, index.add_entry(LocalDatasetEntry("same", kRef, {"a.tar"})));
  auto b = run_io(ioc, index.add_entry(LocalDatasetEntry("same", kRef, {"b.tar"})));
  try {
    run_io(ioc, index.get_entry_by_name("same"));
    FAIL();
  } catch (const atdata::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(a.cid()), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(b.cid()), std::string::npos);
  }
  // Listing order is deterministic: name, then CID.
  auto all = run_io(ioc, index.entries());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_LT(all[0].cid(), all[1].cid());
}

TEST(LocalIndexSqlite, SchemasUnderTheirKindAndVersion) {
  asio::io_context ioc;
  LocalIndex index(ioc.get_executor(), memory());
  SchemaPublishOptions o;
  o.name = "mylab.samples.Sample";
  o.version = "2.1.0";
  o.description = "two fields";
  const std::string ref = run_io(ioc, index.publish_schema<Sample>(std::move(o)));
  EXPECT_EQ(ref, "local://schemas/mylab.samples.Sample@2.1.0");
  const std::string stored = run_io(ioc, index.get_schema_json(ref));
  EXPECT_EQ(stored.rfind(R"({"name": "Sample", "version": "2.1.0", "fields": [)", 0), 0u) << stored;
  auto list = run_io(ioc, index.list_schemas());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].ref(), ref);
  EXPECT_EQ(list[0].record().description, "two fields");

  SchemaPublishOptions bad;
  bad.version = "1.0.0@rc1";
  EXPECT_THROW(run_io(ioc, index.publish_schema<Sample>(std::move(bad))), atdata::InvalidArgument);
}

fs::path temp_file(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("local-index-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

TEST(LocalIndexSqlite, AFileSurvivesReopenAndRefusesOtherDatabases) {
  const fs::path p = temp_file("reopen.sqlite");
  {
    asio::io_context ioc;
    LocalIndex index(ioc.get_executor(), LocalIndexConfig().with_path(p.string()));
    run_io(ioc, index.add_entry(LocalDatasetEntry("kept", kRef, {"a.tar"}, version_map())));
  }
  asio::io_context ioc;
  LocalIndex index(ioc.get_executor(), LocalIndexConfig().with_path(p.string()));
  auto e = run_io(ioc, index.get_entry_by_name("kept"));
  EXPECT_EQ(*e.metadata(), version_map());

  const fs::path other = temp_file("other.sqlite");
  {
    CatalogueOptions co;
    co.path = other.string();
    Catalogue catalogue(co);  // another SQLite database of ours
  }
  EXPECT_THROW(LocalIndex(ioc.get_executor(), LocalIndexConfig().with_path(other.string())),
               atdata::LocalIndexError);
}

// Two processes insert into one file at once, and a third is killed with
// SIGKILL in the middle of its inserts: every committed entry is there once,
// and the file still opens and lists without a skipped entry.
TEST(LocalIndexSqlite, ConcurrentProcessesAndAKillLoseNothing) {
  const fs::path p = temp_file("shared.sqlite");
  {
    asio::io_context ioc;
    LocalIndex init(ioc.get_executor(), LocalIndexConfig().with_path(p.string()));
  }
  constexpr int kPerProcess = 300;
  auto writer = [&](int id, bool batches) {
    asio::io_context ioc;
    LocalIndex index(ioc.get_executor(), LocalIndexConfig().with_path(p.string()));
    for (int i = 0; i < kPerProcess; ++i) {
      std::vector<LocalDatasetEntry> batch;
      for (int j = 0; j < (batches ? 10 : 1); ++j) {
        const std::string u =
            "p" + std::to_string(id) + "-" + std::to_string(i) + "-" + std::to_string(j) + ".tar";
        batch.emplace_back("entry-" + u, kRef, std::vector<std::string>{u});
      }
      run_io(ioc, index.add_entries(std::move(batch)));
    }
  };
  std::vector<pid_t> kids;
  for (int id = 0; id < 3; ++id) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        writer(id, id == 2);
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);
    }
    kids.push_back(pid);
  }
  // Let the batch writer commit a little, then kill it.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  ::kill(kids[2], SIGKILL);
  for (std::size_t i = 0; i < kids.size(); ++i) {
    int status = 0;
    ::waitpid(kids[i], &status, 0);
    if (i < 2) EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "writer " << i;
  }
  asio::io_context ioc;
  LocalIndex index(ioc.get_executor(), LocalIndexConfig().with_path(p.string()));
  auto all = run_io(ioc, index.entries());
  EXPECT_EQ(index.skipped(), 0u);
  std::set<std::string> names;
  std::size_t killed = 0;
  for (const auto& e : all) {
    names.insert(e.name());
    if (e.name().rfind("entry-p2-", 0) == 0) ++killed;
  }
  EXPECT_EQ(names.size(), all.size());
  for (int id = 0; id < 2; ++id) {
    for (int i = 0; i < kPerProcess; ++i) {
      const std::string n = "entry-p" + std::to_string(id) + "-" + std::to_string(i) + "-0.tar";
      ASSERT_TRUE(names.count(n)) << n;
    }
  }
  // The killed writer's batches are whole: a multiple of 10 entries.
  EXPECT_EQ(killed % 10, 0u);
}

}  // namespace
