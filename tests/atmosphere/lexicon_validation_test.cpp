// The lexicon validator: every case of tests/data/lexicon/cases.jsonl (the
// same file the official @atproto/lexicon checks, see tools/lexicon-check),
// the shipped documents, catalog errors, limits on hostile input, and that
// what the record types write is valid.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/lens_record.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/atmosphere/lexicon_validation.hpp"
#include "atdata/atmosphere/schema_record.hpp"
#include "atdata/error.hpp"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace atdata::atmosphere;

const fs::path kCases = fs::path(ATDATA_TEST_DATA_DIR) / "lexicon" / "cases.jsonl";
const fs::path kLexiconDir = fs::path(ATDATA_TEST_DATA_DIR) / ".." / ".." / "lexicons";

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

LexiconCatalog with_shipped() {
  LexiconCatalog c;
  for (const auto& l : shipped_lexicons()) c.add(l.json);
  return c;
}

// ---------------------------------------------------------------- the cases file

TEST(LexiconValidation, EveryCaseOfTheSharedCasesFile) {
  std::ifstream in(kCases);
  ASSERT_TRUE(in) << kCases;
  LexiconCatalog cat = with_shipped();
  std::string line;
  std::size_t lineno = 0, cases = 0, invalid = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line.starts_with("//")) continue;
    json::object row = json::parse(line).as_object();
    if (const json::value* doc = row.if_contains("lexicon")) {
      cat.add(*doc);
      continue;
    }
    ++cases;
    const std::string name(row.at("name").as_string());
    const json::object& record = row.at("record").as_object();
    std::string nsid = row.contains("nsid") ? std::string(row.at("nsid").as_string())
                                            : std::string(record.at("$type").as_string());
    auto got = cat.check_record(nsid, record);
    const json::value* want = row.if_contains("error");
    SCOPED_TRACE("line " + std::to_string(lineno) + ": " + name);
    if (!want) {
      EXPECT_FALSE(got) << "unexpected: " << got->message;
      continue;
    }
    ++invalid;
    ASSERT_TRUE(got) << "accepted, expected: " << json::serialize(*want);
    EXPECT_EQ(got->message, want->as_string());
    if (const json::value* member = row.if_contains("member")) {
      EXPECT_EQ(got->member, member->as_string());
    }
    // The throwing form carries the same problem.
    try {
      cat.validate_record(nsid, record);
      ADD_FAILURE() << "validate_record did not throw";
    } catch (const atdata::RecordError& e) {
      EXPECT_EQ(std::string(e.what()), got->message);
      EXPECT_EQ(e.member(), got->member);
    }
  }
  // A file that lost its cases would make this test vacuous.
  EXPECT_GT(cases, 200u);
  EXPECT_GT(invalid, 100u);
  EXPECT_GT(cases - invalid, 80u);
}

// ---------------------------------------------------------------- the shipped lexicons

TEST(LexiconValidation, ShipsEveryDocumentOfLexiconsVerbatim) {
  std::vector<std::string> on_disk;
  for (const auto& e : fs::recursive_directory_iterator(kLexiconDir)) {
    if (e.path().extension() == ".json") on_disk.push_back(e.path().string());
  }
  ASSERT_EQ(shipped_lexicons().size(), on_disk.size());
  for (const auto& l : shipped_lexicons()) {
    std::string rel(l.id);
    std::replace(rel.begin(), rel.end(), '.', '/');
    fs::path file = kLexiconDir / (rel + ".json");
    ASSERT_TRUE(fs::exists(file)) << l.id;
    EXPECT_EQ(l.json, read_file(file)) << l.id;
  }
  const LexiconCatalog& cat = LexiconCatalog::shipped();
  for (std::string_view nsid : {nsid::kSampleSchema, nsid::kDatasetRecord, nsid::kLens}) {
    EXPECT_TRUE(cat.has_record(nsid)) << nsid;
  }
  EXPECT_TRUE(cat.has_record("science.alt.dataset.entry"));
  EXPECT_TRUE(cat.has_record("science.alt.dataset.schema"));
  EXPECT_TRUE(cat.has_record("science.alt.dataset.lensVerification"));
  EXPECT_FALSE(cat.has_record(nsid::kStorageExternal));  // an object, not a record
  EXPECT_FALSE(cat.has_record("ac.foundation.dataset.getLatestSchema"));
  EXPECT_FALSE(cat.has_record("app.bsky.feed.post"));
  EXPECT_EQ(cat.ids().size(), shipped_lexicons().size());
}

TEST(LexiconValidation, FreeFunctionsUseTheShippedLexiconsAndTheTypeMember) {
  json::object rec = json::parse(R"({"$type":"ac.foundation.dataset.record","name":"n",
      "schemaRef":"at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k",
      "storage":{"$type":"ac.foundation.dataset.storageExternal","urls":["features.tar"]},
      "createdAt":"2026-01-17T23:41:50+00:00"})")
                         .as_object();
  try {
    validate_record(rec);
    FAIL() << "accepted";
  } catch (const atdata::RecordError& e) {
    EXPECT_EQ(std::string(e.what()), "Record/storage/urls/0 must be a uri");
    EXPECT_EQ(e.member(), "storage.urls[0]");
  }
  auto p = check_record(nsid::kDatasetRecord, rec);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->message, "Record/storage/urls/0 must be a uri");
  rec["storage"].as_object()["urls"].as_array()[0] = "https://example.com/features.tar";
  EXPECT_FALSE(check_record(rec));
  EXPECT_NO_THROW(validate_record(nsid::kDatasetRecord, rec));

  json::object untyped = rec;
  untyped.erase("$type");
  auto q = check_record(untyped);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->message, "Record/$type must be a string");
  EXPECT_EQ(q->member, "$type");
  json::object other = rec;
  other["$type"] = "app.bsky.feed.post";
  auto r = check_record(other);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->message, "Lexicon not found: lex:app.bsky.feed.post");
  EXPECT_EQ(r->member, "");
}

// ---------------------------------------------------------------- what the library writes

TEST(LexiconValidation, RecordsTheTypesWriteAreValid) {
  SchemaRecord schema;
  schema.name = "FeatureSample";
  schema.fields = {{"features", SchemaFieldType::ndarray("float32")},
                   {"label", SchemaFieldType::of(Primitive::int_)},
                   {"blob", SchemaFieldType::of(Primitive::bytes), true, "raw bytes"},
                   {"tags", SchemaFieldType::array(SchemaFieldType::of(Primitive::str))},
                   {"any", SchemaFieldType::array_of_any()},
                   {"r", SchemaFieldType::reference("at://did:plc:a/ac.foundation.dataset.sampleSchema/x")}};
  schema.description = "d";
  schema.metadata = {{"license", "MIT"}, {"tags", json::array{"a"}}, {"other", json::object{{"k", 1}}}};
  EXPECT_FALSE(check_record(schema.to_record())) << check_record(schema.to_record())->message;
  SchemaRecord empty;
  empty.name = "Empty";
  EXPECT_FALSE(check_record(empty.to_record()));

  DatasetRecord ds;
  ds.name = "d";
  ds.schema_ref = "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k";
  ds.storage = StorageLocation::external({"https://example.com/d-{000000..000009}.tar", "s3://b/k.tar"});
  ds.tags = {"t"};
  ds.license = "MIT";
  ds.metadata = std::vector<std::byte>{std::byte{0x80}};
  ds.metadata_url = "https://example.com/meta.msgpack";
  EXPECT_FALSE(check_record(ds.to_record())) << check_record(ds.to_record())->message;
  ds.storage = StorageLocation::from_blob_refs({json::parse(R"({"$type":"blob",
      "ref":{"$link":"bafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz4"},
      "mimeType":"application/x-tar","size":10240})")
                                                    .as_object()});
  EXPECT_FALSE(check_record(ds.to_record())) << check_record(ds.to_record())->message;

  LensRecord lens;
  lens.name = "l";
  lens.source_schema = ds.schema_ref;
  lens.target_schema = ds.schema_ref;
  lens.getter_code = CodeReference{"https://github.com/org/repo", "abc123", "m:get"};
  lens.putter_code = CodeReference{"https://github.com/org/repo", "abc123", "atdata.lens:_trivial_put"};
  EXPECT_FALSE(check_record(lens.to_record()));
  lens.putter_code.reset();
  auto p = check_record(lens.to_record());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->message, "Record must have the property \"putterCode\"");
}

// ---------------------------------------------------------------- catalogs

TEST(LexiconValidation, CatalogRefusesWhatIsNotALexiconDocument) {
  LexiconCatalog c;
  auto refused = [&](std::string_view text) {
    try {
      c.add(text);
    } catch (const atdata::InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("<accepted>");
  };
  EXPECT_EQ(refused("[1]"), "a lexicon document must be a JSON object");
  EXPECT_EQ(refused("{"), "lexicon document is not JSON: incomplete JSON");
  EXPECT_EQ(refused(R"({"lexicon":2,"id":"a.b.c","defs":{}})"),
            "not a lexicon document: 'lexicon' must be 1");
  EXPECT_EQ(refused(R"({"lexicon":1,"id":"nope","defs":{}})"), "lexicon document has no valid NSID 'id'");
  EXPECT_EQ(refused(R"({"lexicon":1,"id":"a.b.c"})"), "lexicon a.b.c has no 'defs' object");
  EXPECT_EQ(refused(R"({"lexicon":1,"id":"a.b.c","defs":{"main":5}})"),
            "lexicon a.b.c: definition 'main' must be an object with a 'type'");
  EXPECT_EQ(refused(R"({"lexicon":1,"id":"a.b.c","defs":{"main":{"type":"union","refs":[1]}}})"),
            "lexicon union refs must be strings");
  EXPECT_EQ(refused(R"({"lexicon":1,"id":"a.b.c","defs":{"main":{"type":"ref","ref":"a.b.c#x#y"}}})"),
            "lexicon document: Uri can only have one hash segment");
  std::string deep = R"({"lexicon":1,"id":"a.b.c","defs":{"main":{"type":"object","x":)";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}}}";
  json::parse_options po;
  po.max_depth = 200;
  EXPECT_THROW(c.add(json::parse(deep, {}, po)), atdata::InvalidArgument);
  EXPECT_EQ(refused(R"({"lexicon":1,"id":"a.b.c","defs":{"main":{"type":"token"}}})"), "<accepted>");
  EXPECT_EQ(refused(R"({"lexicon":1,"id":"a.b.c","defs":{}})"), "lexicon a.b.c has already been added");
  EXPECT_EQ(c.ids(), std::vector<std::string>{"a.b.c"});
  EXPECT_FALSE(c.has_record("a.b.c"));
  // A definition that is not a record cannot validate a record.
  auto p = c.check_record("a.b.c", json::object{{"$type", "a.b.c"}});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->message, "Not a record lexicon: lex:a.b.c");
}

// ---------------------------------------------------------------- hostile input

const char* kTree = R"({"lexicon":1,"id":"test.atdata.tree","defs":{
  "main":{"type":"record","key":"tid","record":{"type":"object","properties":{"root":{"type":"ref","ref":"#node"},
    "blob":{"type":"unknown"}}}},
  "node":{"type":"object","properties":{"children":{"type":"array","items":{"type":"ref","ref":"#node"}}}}}})";

TEST(LexiconValidation, DeepRecordsAreRefusedWithoutDeepRecursion) {
  LexiconCatalog c;
  c.add(std::string_view(kTree));
  auto tree = [](int depth) {
    json::value node = json::object{};
    for (int i = 0; i < depth; ++i) {
      json::object parent;
      parent["children"] = json::array{std::move(node)};
      node = std::move(parent);
    }
    return json::object{{"$type", "test.atdata.tree"}, {"root", std::move(node)}};
  };
  EXPECT_FALSE(c.check_record("test.atdata.tree", tree(50)));
  auto p = c.check_record("test.atdata.tree", tree(500));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->message.ends_with(" is nested too deeply (more than 128 levels)")) << p->message;
  EXPECT_TRUE(p->message.starts_with("Record/root/children/0/children/0/")) << p->message;
  EXPECT_TRUE(p->member.starts_with("root.children[0].children[0]")) << p->member;

  // Undeclared depth (an `unknown` member) costs heap, not stack, in the data-model pass.
  json::value deep = json::array{};
  for (int i = 0; i < 5000; ++i) deep = json::array{std::move(deep)};
  json::object rec{{"$type", "test.atdata.tree"}, {"blob", json::object{{"x", std::move(deep)}}}};
  EXPECT_FALSE(c.check_record("test.atdata.tree", rec));
  // A float at the bottom is still found.
  json::value* cur = &rec["blob"].as_object()["x"];
  while (!cur->as_array().empty()) cur = &cur->as_array()[0];
  cur->as_array().emplace_back(0.5);
  auto f = c.check_record("test.atdata.tree", rec);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->message.ends_with(
      "/0 must not be a floating-point number (the ATProto data model has only integers)"));
}

TEST(LexiconValidation, TextThatIsNotUtf8IsRefused) {
  json::object rec = json::parse(R"({"$type":"ac.foundation.dataset.lens","name":"l","sourceSchema":"a",
      "targetSchema":"b","createdAt":"2026-01-17T23:41:50Z",
      "getterCode":{"repository":"r","commit":"c","path":"p"},"putterCode":{"repository":"r","commit":"c","path":"p"}})")
                         .as_object();
  EXPECT_FALSE(check_record(rec));
  rec["description"] = std::string("caf\xc3", 4);  // truncated UTF-8
  auto p = check_record(rec);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->message, "Record/description must be valid UTF-8");
  EXPECT_EQ(p->member, "description");
  rec.erase("description");
  rec[std::string("\xff", 1)] = 1;
  auto q = check_record(rec);
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->message.ends_with(" has a member name that is not valid UTF-8")) << q->message;
}

TEST(LexiconValidation, LongInputsStayCheap) {
  // Formats with quadratic decoders (base58 CIDs) and every length check run
  // on megabyte strings without trouble; a megabyte is far past every limit.
  LexiconCatalog c = with_shipped();
  c.add(std::string_view(R"({"lexicon":1,"id":"test.atdata.long","defs":{"main":{"type":"record","key":"tid",
      "record":{"type":"object","properties":{"cid":{"type":"string","format":"cid"},
      "g":{"type":"string","maxGraphemes":5},"u":{"type":"string","format":"uri"},
      "a":{"type":"string","format":"at-uri"},"l":{"type":"string","format":"language"}}}}}})"));
  const std::string big(1 << 20, 'z');
  for (std::string_view key : {"cid", "g", "u", "a", "l"}) {
    json::object rec{{"$type", "test.atdata.long"}, {key, "z" + big}};
    auto p = c.check_record("test.atdata.long", rec);
    if (key == "u") {
      EXPECT_TRUE(p) << "a 1 MiB string without a scheme is not a uri";
    } else {
      EXPECT_TRUE(p) << key;
    }
  }
}

}  // namespace
