// Every JSON record example of docs/format.md round-trips through the typed records;
// omit-empty rules; malformed records name the offending member.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/lens_record.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/atmosphere/schema_record.hpp"
#include "atdata/error.hpp"

namespace {

namespace json = boost::json;
using namespace atdata::atmosphere;

// The sampleSchema example Python atdata 0.2 writes, verbatim.
constexpr const char* kSchemaExample = R"({
  "$type": "ac.foundation.dataset.sampleSchema",
  "name": "FeatureSample",
  "version": "1.0.0",
  "fields": [
    {"name": "features",
     "fieldType": {"$type": "ac.foundation.dataset.schemaType#ndarray", "dtype": "float32"},
     "optional": false},
    {"name": "label",
     "fieldType": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "int"},
     "optional": false},
    {"name": "source",
     "fieldType": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "str"},
     "optional": false},
    {"name": "tags",
     "fieldType": {"$type": "ac.foundation.dataset.schemaType#array",
                   "items": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "str"}},
     "optional": false},
    {"name": "note",
     "fieldType": {"$type": "ac.foundation.dataset.schemaType#primitive", "primitive": "str"},
     "optional": true}
  ],
  "createdAt": "2026-01-17T23:41:50.123456+00:00",
  "description": "Feature vectors with labels",
  "metadata": {"source": "training"}
})";

// Dataset record examples as Python atdata 0.2 writes them, verbatim.
constexpr const char* kDatasetExternalExample = R"({
  "$type": "ac.foundation.dataset.record",
  "name": "synthetic-features-v1",
  "schemaRef": "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k",
  "storage": {
    "$type": "ac.foundation.dataset.storageExternal",
    "urls": ["https://example.com/features-{000000..000009}.tar"]
  },
  "createdAt": "2026-01-17T23:41:50.123456+00:00",
  "description": "Synthetic features",
  "tags": ["features", "synthetic"],
  "license": "MIT"
})";

constexpr const char* kDatasetBlobsExample = R"({
  "$type": "ac.foundation.dataset.record",
  "name": "small-dataset",
  "schemaRef": "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k",
  "storage": {
    "$type": "ac.foundation.dataset.storageBlobs",
    "blobs": [
      {"$type": "blob",
       "ref": {"$link": "bafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz4"},
       "mimeType": "application/x-tar",
       "size": 10240}
    ]
  },
  "createdAt": "2026-01-17T23:41:50.123456+00:00"
})";

// The lens record example, verbatim.
constexpr const char* kLensExample = R"({
  "$type": "ac.foundation.dataset.lens",
  "name": "simplify",
  "sourceSchema": "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k",
  "targetSchema": "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q8aaaab2k",
  "createdAt": "2026-01-17T23:41:50.123456+00:00",
  "description": "Extract label only",
  "getterCode": {"repository": "https://github.com/org/repo", "commit": "abc123def456",
                 "path": "transforms.simplify:simplify_getter"},
  "putterCode": {"repository": "https://github.com/org/repo", "commit": "abc123def456",
                 "path": "transforms.simplify:simplify_putter"}
})";

const Timestamp kCreated = parse_datetime("2026-01-17T23:41:50.123456+00:00");

std::vector<std::byte> bytes_of(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

// msgpack of {"split":"train","samples":10000}, as Python msgpack.packb writes it.
std::vector<std::byte> split_metadata() {
  std::vector<std::byte> out = bytes_of({0x82, 0xa5});
  for (char c : std::string_view("split")) out.push_back(static_cast<std::byte>(c));
  out.push_back(std::byte{0xa5});
  for (char c : std::string_view("train")) out.push_back(static_cast<std::byte>(c));
  out.push_back(std::byte{0xa7});
  for (char c : std::string_view("samples")) out.push_back(static_cast<std::byte>(c));
  for (int b : {0xcd, 0x27, 0x10}) out.push_back(static_cast<std::byte>(b));
  return out;
}

// The seed form of a written schema record: without the members the lexicon
// requires (schemaType, schema), which to_record adds.
json::value seed_form(json::object o) {
  EXPECT_EQ(o.erase("schemaType"), 1u);
  EXPECT_EQ(o.erase("schema"), 1u);
  return o;
}

template <class Fn>
std::string member_of_error(Fn&& fn) {
  try {
    fn();
  } catch (const atdata::RecordError& e) {
    return e.member();
  }
  return "<no RecordError>";
}

// ---------------------------------------------------------------- schema

TEST(SchemaRecord, SpecExampleRoundTrips) {
  json::value doc = json::parse(kSchemaExample);
  SchemaRecord rec = SchemaRecord::from_record(doc);
  EXPECT_EQ(rec.name, "FeatureSample");
  EXPECT_EQ(rec.version, "1.0.0");
  EXPECT_EQ(rec.created_at, kCreated);
  EXPECT_EQ(rec.description, "Feature vectors with labels");
  ASSERT_EQ(rec.fields.size(), 5u);
  EXPECT_EQ(rec.fields[0].name, "features");
  EXPECT_EQ(rec.fields[0].field_type, SchemaFieldType::ndarray("float32"));
  EXPECT_EQ(rec.fields[1].field_type, SchemaFieldType::of(Primitive::int_));
  EXPECT_EQ(rec.fields[3].field_type, SchemaFieldType::array(SchemaFieldType::of(Primitive::str)));
  EXPECT_FALSE(rec.fields[3].optional);
  EXPECT_TRUE(rec.fields[4].optional);
  EXPECT_EQ(rec.metadata, (json::object{{"source", "training"}}));
  EXPECT_EQ(seed_form(rec.to_record()), doc);
}

TEST(SchemaRecord, WritesTheLexiconsJsonSchemaOfTheSameFields) {
  SchemaRecord rec = SchemaRecord::from_record(json::parse(kSchemaExample));
  json::object out = rec.to_record();
  EXPECT_EQ(out.at("schemaType"), "jsonSchema");
  EXPECT_EQ(out.at("schema"), json::parse(R"({
    "$type": "ac.foundation.dataset.sampleSchema#jsonSchemaFormat",
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
      "features": {"$ref": "https://foundation.ac/schemas/atdata-ndarray-bytes/1.0.0#/$defs/ndarray", "dtype": "float32"},
      "label": {"type": "integer"},
      "source": {"type": "string"},
      "tags": {"type": "array", "items": {"type": "string"}},
      "note": {"type": "string"}},
    "required": ["features", "label", "source", "tags"],
    "arrayFormatVersions": {"ndarrayBytes": "1.0.0"}})"));
  // A reader of the JSON-Schema form alone gets the same fields back.
  json::object json_only = out;
  json_only.erase("fields");
  SchemaRecord back = SchemaRecord::from_record(json_only);
  EXPECT_EQ(back.format, SchemaFormat::json_schema);
  EXPECT_EQ(back.fields, rec.fields);
  // With both forms present, readers use `fields` (the seed's reader does too).
  EXPECT_EQ(SchemaRecord::from_record(out).format, SchemaFormat::fields);

  // Every field kind maps to a property that reads back as that kind.
  SchemaRecord all;
  all.name = "All";
  all.fields = {
      {"s", SchemaFieldType::of(Primitive::str)},
      {"i", SchemaFieldType::of(Primitive::int_), true},
      {"f", SchemaFieldType::of(Primitive::float_), false, "a float"},
      {"b", SchemaFieldType::of(Primitive::bool_)},
      {"raw", SchemaFieldType::of(Primitive::bytes)},
      {"nd", SchemaFieldType::ndarray(std::nullopt)},
      {"list", SchemaFieldType::array(SchemaFieldType::array(SchemaFieldType::of(Primitive::int_)))},
      {"any", SchemaFieldType::array(SchemaFieldType::of(Primitive::str))}};
  json::object a = all.to_record();
  a.erase("fields");
  EXPECT_EQ(SchemaRecord::from_record(a).fields, all.fields);
  // No ndarray, no arrayFormatVersions; no required field, no `required`.
  SchemaRecord plain;
  plain.name = "Plain";
  plain.fields = {{"x", SchemaFieldType::of(Primitive::str), true}};
  EXPECT_EQ(plain.to_record().at("schema"), json::parse(R"({
    "$type": "ac.foundation.dataset.sampleSchema#jsonSchemaFormat",
    "$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
    "properties": {"x": {"type": "string"}}})"));
}

TEST(SchemaRecord, BuiltByHandMatchesSpecExample) {
  SchemaRecord rec;
  rec.name = "FeatureSample";
  rec.fields = {{"features", SchemaFieldType::ndarray("float32")},
                {"label", SchemaFieldType::of(Primitive::int_)},
                {"source", SchemaFieldType::of(Primitive::str)},
                {"tags", SchemaFieldType::array(SchemaFieldType::of(Primitive::str))},
                {"note", SchemaFieldType::of(Primitive::str), true}};
  rec.created_at = kCreated;
  rec.description = "Feature vectors with labels";
  rec.metadata = {{"source", "training"}};
  json::object out = rec.to_record();
  EXPECT_EQ(seed_form(out), json::parse(kSchemaExample));
  // Seed member order (JSON text order is irrelevant to a PDS, but match anyway).
  std::vector<std::string> keys;
  for (const auto& kv : out) keys.emplace_back(kv.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"$type", "name", "version", "fields", "schemaType", "schema",
                                            "createdAt", "description", "metadata"}));
  EXPECT_EQ(SchemaRecord::from_record(out), rec);
}

TEST(SchemaRecord, OmitsEmptyOptionalMembers) {
  SchemaRecord rec;
  rec.name = "Empty";
  rec.created_at = parse_datetime("2026-01-17T23:41:50Z");
  json::object out = rec.to_record();
  EXPECT_EQ(json::value(out), json::parse(R"({"$type":"ac.foundation.dataset.sampleSchema","name":"Empty",
      "version":"1.0.0","fields":[],"schemaType":"jsonSchema",
      "schema":{"$type":"ac.foundation.dataset.sampleSchema#jsonSchemaFormat",
                "$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{}},
      "createdAt":"2026-01-17T23:41:50+00:00"})"));
}

TEST(SchemaRecord, FieldTypeVariantsSerialize) {
  SchemaFieldDef described{"x", SchemaFieldType::of(Primitive::bytes), false, "raw bytes"};
  EXPECT_EQ(json::value(described.field_type.to_json()),
            json::parse(R"({"$type":"ac.foundation.dataset.schemaType#primitive","primitive":"bytes"})"));
  EXPECT_EQ(
      json::value(SchemaFieldType::ndarray("float32", std::vector<std::optional<std::int64_t>>{224, 224, 3})
                      .to_json()),
      json::parse(
          R"({"$type":"ac.foundation.dataset.schemaType#ndarray","dtype":"float32","shape":[224,224,3]})"));
  EXPECT_EQ(
      json::value(SchemaFieldType::ndarray("uint8", std::vector<std::optional<std::int64_t>>{std::nullopt, 3})
                      .to_json()),
      json::parse(
          R"({"$type":"ac.foundation.dataset.schemaType#ndarray","dtype":"uint8","shape":[null,3]})"));
  // A hand-built ndarray without dtype/shape writes neither (spec: SHOULD omit).
  EXPECT_EQ(json::value(
                SchemaFieldType::ndarray(std::nullopt, std::vector<std::optional<std::int64_t>>{}).to_json()),
            json::parse(R"({"$type":"ac.foundation.dataset.schemaType#ndarray"})"));
  EXPECT_EQ(
      json::value(
          SchemaFieldType::reference("at://did:plc:a/ac.foundation.dataset.sampleSchema/x").to_json()),
      json::parse(
          R"({"$type":"ac.foundation.dataset.schemaType#ref","ref":"at://did:plc:a/ac.foundation.dataset.sampleSchema/x"})"));
  EXPECT_EQ(
      json::value(SchemaFieldType::array(SchemaFieldType::of(Primitive::int_)).to_json()),
      json::parse(
          R"({"$type":"ac.foundation.dataset.schemaType#array","items":{"$type":"ac.foundation.dataset.schemaType#primitive","primitive":"int"}})"));
  EXPECT_EQ(json::value(SchemaFieldType::array_of_any().to_json()),
            json::parse(R"({"$type":"ac.foundation.dataset.schemaType#array"})"));

  SchemaRecord rec;
  rec.name = "All";
  rec.created_at = kCreated;
  rec.fields = {
      described,
      {"img", SchemaFieldType::ndarray("float32", std::vector<std::optional<std::int64_t>>{224, 224, 3}),
       true},
      {"r", SchemaFieldType::reference("at://x/y/z")},
      {"nested", SchemaFieldType::array(SchemaFieldType::array(SchemaFieldType::of(Primitive::float_)))},
      {"any", SchemaFieldType::array_of_any()},
      {"b", SchemaFieldType::of(Primitive::bool_)}};
  json::object out = rec.to_record();
  EXPECT_EQ(out.at("fields").at(0).at("description"), "raw bytes");
  EXPECT_EQ(out.at("fields").at(1).at("optional"), true);
  EXPECT_EQ(SchemaRecord::from_record(out), rec);
}

TEST(SchemaRecord, ReaderAcceptsAnyTypePrefixAndKindMember) {
  json::value doc = json::parse(R"({"$type":"ac.foundation.dataset.sampleSchema","name":"L","version":"2.0.0",
    "createdAt":"2026-01-17T23:41:50Z","fields":[
      {"name":"a","fieldType":{"$type":"local#primitive","primitive":"float"},"optional":false},
      {"name":"b","fieldType":{"kind":"ndarray"}},
      {"name":"c","fieldType":{"$type":"science.alt.dataset.schemaType#array"}},
      {"name":"d","fieldType":{"$type":"x#primitive"}}]})");
  SchemaRecord rec = SchemaRecord::from_record(doc);
  ASSERT_EQ(rec.fields.size(), 4u);
  EXPECT_EQ(rec.fields[0].field_type, SchemaFieldType::of(Primitive::float_));
  EXPECT_EQ(rec.fields[1].field_type, SchemaFieldType::ndarray(std::nullopt));
  EXPECT_FALSE(rec.fields[1].optional);  // default
  EXPECT_EQ(rec.fields[2].field_type, SchemaFieldType::array_of_any());
  EXPECT_EQ(rec.fields[3].field_type, SchemaFieldType::of(Primitive::str));  // Python 0.2 reader default
}

TEST(SchemaRecord, ReadsLaterNamespacesAndJsonSchemaForm) {
  // science.alt.dataset.schema as later upstream writes it (flattened schema body).
  json::value doc =
      json::parse(R"({"$type":"science.alt.dataset.schema","name":"FeatureSample","version":"1.0.0",
    "schemaType":"jsonSchema","atdataSchemaVersion":1,"createdAt":"2026-02-21T10:00:00.5Z",
    "schema":{"$type":"science.alt.dataset.schema#jsonSchemaFormat","$schema":"http://json-schema.org/draft-07/schema#",
      "type":"object","arrayFormatVersions":{"ndarrayBytes":"1.0.0"},"required":["features","label","source","tags","blob"],
      "properties":{
        "features":{"$ref":"https://foundation.ac/schemas/atdata-ndarray-bytes/1.0.0#/$defs/ndarray"},
        "label":{"type":"integer"},"score":{"type":"number"},"source":{"type":"string"},
        "tags":{"type":"array","items":{"type":"string"}},"flag":{"type":"boolean"},
        "blob":{"type":"string","format":"byte","contentEncoding":"base64"},"note":{"type":"string"}}}})");
  SchemaRecord rec = SchemaRecord::from_record(doc);
  EXPECT_EQ(rec.format, SchemaFormat::json_schema);
  ASSERT_EQ(rec.fields.size(), 8u);
  auto field = [&](std::string_view n) -> const SchemaFieldDef& {
    for (const auto& f : rec.fields) {
      if (f.name == n) return f;
    }
    throw std::runtime_error("no field " + std::string(n));
  };
  EXPECT_EQ(field("features").field_type.kind, SchemaFieldKind::ndarray);
  EXPECT_FALSE(field("features").optional);
  EXPECT_EQ(field("label").field_type, SchemaFieldType::of(Primitive::int_));
  EXPECT_EQ(field("score").field_type, SchemaFieldType::of(Primitive::float_));
  EXPECT_TRUE(field("score").optional);
  EXPECT_EQ(field("tags").field_type, SchemaFieldType::array(SchemaFieldType::of(Primitive::str)));
  EXPECT_EQ(field("flag").field_type, SchemaFieldType::of(Primitive::bool_));
  EXPECT_EQ(field("blob").field_type, SchemaFieldType::of(Primitive::bytes));
  EXPECT_TRUE(field("note").optional);

  // The interim ac.foundation.dataset.schema with a nested schemaBody.
  json::value nested = json::parse(R"({"$type":"ac.foundation.dataset.schema","name":"N","version":"1.0.0",
    "schemaType":"jsonSchema","createdAt":"2026-02-02T00:00:00Z",
    "schema":{"schemaBody":{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}}})");
  SchemaRecord n = SchemaRecord::from_record(nested);
  ASSERT_EQ(n.fields.size(), 1u);
  EXPECT_EQ(n.fields[0].field_type, SchemaFieldType::of(Primitive::int_));
  EXPECT_FALSE(n.fields[0].optional);

  json::value future = doc;
  future.as_object()["atdataSchemaVersion"] = 2;
  EXPECT_EQ(member_of_error([&] { SchemaRecord::from_record(future); }), "atdataSchemaVersion");
}

TEST(SchemaRecord, MalformedRecordsNameTheMember) {
  json::value good = json::parse(kSchemaExample);
  auto with = [&](auto&& edit) {
    json::value v = good;
    edit(v.as_object());
    return member_of_error([&] { SchemaRecord::from_record(v); });
  };
  EXPECT_EQ(with([](json::object& o) { o.erase("name"); }), "name");
  EXPECT_EQ(with([](json::object& o) { o["name"] = 5; }), "name");
  EXPECT_EQ(with([](json::object& o) { o.erase("$type"); }), "$type");
  EXPECT_EQ(with([](json::object& o) { o["$type"] = "app.bsky.feed.post"; }), "$type");
  EXPECT_EQ(with([](json::object& o) { o["$type"] = "ac.foundation.dataset.record"; }), "$type");
  EXPECT_EQ(with([](json::object& o) { o.erase("version"); }), "version");
  EXPECT_EQ(with([](json::object& o) { o.erase("createdAt"); }), "createdAt");
  EXPECT_EQ(with([](json::object& o) { o["createdAt"] = "yesterday"; }), "createdAt");
  EXPECT_EQ(with([](json::object& o) { o.erase("fields"); }), "fields");
  EXPECT_EQ(with([](json::object& o) { o["fields"] = "x"; }), "fields");
  EXPECT_EQ(with([](json::object& o) { o["fields"].as_array()[1] = 3; }), "fields[1]");
  EXPECT_EQ(with([](json::object& o) { o["fields"].as_array()[1].as_object().erase("name"); }),
            "fields[1].name");
  EXPECT_EQ(with([](json::object& o) { o["fields"].as_array()[1].as_object().erase("fieldType"); }),
            "fields[1].fieldType");
  EXPECT_EQ(with([](json::object& o) { o["fields"].as_array()[1].as_object()["optional"] = "no"; }),
            "fields[1].optional");
  EXPECT_EQ(with([](json::object& o) {
              o["fields"].as_array()[2].as_object()["fieldType"].as_object()["primitive"] = "complex";
            }),
            "fields[2].fieldType.primitive");
  EXPECT_EQ(with([](json::object& o) {
              o["fields"].as_array()[2].as_object()["fieldType"].as_object()["$type"] = "x#tensor";
            }),
            "fields[2].fieldType.$type");
  EXPECT_EQ(with([](json::object& o) {
              o["fields"].as_array()[2].as_object()["fieldType"].as_object()["$type"] = "nohash";
            }),
            "fields[2].fieldType.$type");
  EXPECT_EQ(
      with([](json::object& o) {
        o["fields"].as_array()[3].as_object()["fieldType"].as_object()["items"] = json::object{{"$type", 7}};
      }),
      "fields[3].fieldType.items.$type");
  EXPECT_EQ(with([](json::object& o) {
              o["fields"].as_array()[0].as_object()["fieldType"].as_object()["shape"] = json::array{1, "x"};
            }),
            "fields[0].fieldType.shape[1]");
  EXPECT_EQ(with([](json::object& o) { o["metadata"] = "m"; }), "metadata");
  EXPECT_EQ(with([](json::object& o) { o["description"] = false; }), "description");
  EXPECT_EQ(member_of_error([] { SchemaRecord::from_record(json::value(3)); }), "");

  try {
    json::value v = good;
    v.as_object()["fields"].as_array()[1].as_object().erase("name");
    SchemaRecord::from_record(v);
  } catch (const atdata::RecordError& e) {
    EXPECT_STREQ(e.what(), "schema record: member 'fields[1].name' is missing");
  }
}

TEST(SchemaRecord, DeeplyNestedItemsAreRejectedNotRecursedForever) {
  json::value ft = json::object{{"$type", "x#primitive"}};
  for (int i = 0; i < 200; ++i) ft = json::object{{"$type", "x#array"}, {"items", ft}};
  EXPECT_THROW(SchemaFieldType::from_json(ft, "fieldType"), atdata::RecordError);
  // A realistic depth is fine.
  json::value ok = json::object{{"$type", "x#primitive"}};
  for (int i = 0; i < 5; ++i) ok = json::object{{"$type", "x#array"}, {"items", ok}};
  EXPECT_EQ(SchemaFieldType::from_json(ok, "fieldType").kind, SchemaFieldKind::array);
}

TEST(SchemaRecord, FloatsInMetadataAreRefusedBeforeSending) {
  SchemaRecord rec;
  rec.name = "F";
  rec.metadata = {{"nested", json::object{{"list", json::array{1, 2.5}}}}};
  try {
    rec.to_record();
    FAIL();
  } catch (const atdata::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("metadata.nested.list[1]"), std::string::npos) << e.what();
  }
  rec.metadata = {{"author", "test"}, {"tags", json::array{"demo"}}, {"n", 3}};
  EXPECT_EQ(rec.to_record().at("metadata"), json::parse(R"({"author":"test","tags":["demo"],"n":3})"));
}

// ---------------------------------------------------------------- dataset

TEST(DatasetRecord, ExternalExampleRoundTrips) {
  json::value doc = json::parse(kDatasetExternalExample);
  DatasetRecord rec = DatasetRecord::from_record(doc);
  EXPECT_EQ(rec.name, "synthetic-features-v1");
  EXPECT_EQ(rec.storage.kind, StorageLocation::Kind::external);
  EXPECT_EQ(rec.storage.urls, std::vector<std::string>{"https://example.com/features-{000000..000009}.tar"});
  EXPECT_EQ(rec.tags, (std::vector<std::string>{"features", "synthetic"}));
  EXPECT_EQ(rec.license, "MIT");
  EXPECT_FALSE(rec.metadata.has_value());
  EXPECT_EQ(json::value(rec.to_record()), doc);

  DatasetRecord built;
  built.name = "synthetic-features-v1";
  built.schema_ref = "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k";
  built.storage = StorageLocation::external({"https://example.com/features-{000000..000009}.tar"});
  built.created_at = kCreated;
  built.description = "Synthetic features";
  built.tags = {"features", "synthetic"};
  built.license = "MIT";
  EXPECT_EQ(json::value(built.to_record()), doc);
  EXPECT_EQ(DatasetRecord::from_record(built.to_record()), built);
}

TEST(DatasetRecord, BlobExampleRoundTrips) {
  json::value doc = json::parse(kDatasetBlobsExample);
  DatasetRecord rec = DatasetRecord::from_record(doc);
  ASSERT_EQ(rec.storage.kind, StorageLocation::Kind::blobs);
  ASSERT_EQ(rec.storage.blobs.size(), 1u);
  EXPECT_EQ(rec.storage.blobs[0].cid(), "bafkreifkcb4scjqe7pqotfx6da2h6stq7j4bzhwpfhia6dnm26u6dhduz4");
  EXPECT_EQ(rec.storage.blobs[0].ref.at("size"), 10240);
  EXPECT_EQ(json::value(rec.to_record()), doc);

  DatasetRecord built;
  built.name = "small-dataset";
  built.schema_ref = "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k";
  built.storage = StorageLocation::from_blob_refs({doc.at("storage").at("blobs").at(0).as_object()});
  built.created_at = kCreated;
  EXPECT_EQ(json::value(built.to_record()), doc);
}

TEST(DatasetRecord, MetadataIsWrittenAsBytesObject) {
  DatasetRecord rec = DatasetRecord::from_record(json::parse(kDatasetBlobsExample));
  rec.metadata = split_metadata();
  json::object out = rec.to_record();
  EXPECT_EQ(out.at("metadata"), json::parse(R"({"$bytes":"gqVzcGxpdKV0cmFpbqdzYW1wbGVzzScQ"})"));
  EXPECT_EQ(DatasetRecord::from_record(out).metadata, split_metadata());
}

TEST(DatasetRecord, MetadataBase64AcceptsPaddedAndUnpadded) {
  DatasetRecord rec = DatasetRecord::from_record(json::parse(kDatasetExternalExample));
  // Every tail length 0..2 mod 3, with and without '=' padding.
  for (std::size_t n = 1; n <= 7; ++n) {
    std::vector<std::byte> raw;
    for (std::size_t i = 0; i < n; ++i) raw.push_back(static_cast<std::byte>(0x80 + 37 * i));
    rec.metadata = raw;
    json::object out = rec.to_record();
    std::string padded(out.at("metadata").at("$bytes").as_string());
    EXPECT_EQ(padded.size() % 4, 0u);
    EXPECT_EQ(DatasetRecord::from_record(out).metadata, raw) << n;
    std::string unpadded = padded.substr(0, padded.find('='));
    out["metadata"] = json::object{{"$bytes", unpadded}};
    EXPECT_EQ(DatasetRecord::from_record(out).metadata, raw) << n;
  }
  // Known vector: Python base64.b64encode(b"\x81\xa1a\x01") == "gaFhAQ==".
  json::object out = rec.to_record();
  out["metadata"] = json::object{{"$bytes", "gaFhAQ=="}};
  EXPECT_EQ(DatasetRecord::from_record(out).metadata, bytes_of({0x81, 0xa1, 'a', 0x01}));
  out["metadata"] = json::object{{"$bytes", "gaFhAQ"}};
  EXPECT_EQ(DatasetRecord::from_record(out).metadata, bytes_of({0x81, 0xa1, 'a', 0x01}));
  for (const char* bad : {"gaFhAQ=", "ga!hAQ==", "g", "gaFhAR==", "ga=FhAQ", "gaFhAQ==="}) {
    out["metadata"] = json::object{{"$bytes", bad}};
    EXPECT_EQ(member_of_error([&] { DatasetRecord::from_record(out); }), "metadata.$bytes") << bad;
  }
}

TEST(DatasetRecord, OmitsEmptyOptionalMembersButKeepsEmptyStorageLists) {
  DatasetRecord rec;
  rec.name = "n";
  rec.schema_ref = "at://a/b/c";
  rec.created_at = parse_datetime("2026-01-17T23:41:50Z");
  rec.metadata = std::vector<std::byte>{};  // present but empty → omitted
  EXPECT_EQ(json::value(rec.to_record()), json::parse(R"({"$type":"ac.foundation.dataset.record","name":"n",
      "schemaRef":"at://a/b/c","storage":{"$type":"ac.foundation.dataset.storageExternal","urls":[]},
      "createdAt":"2026-01-17T23:41:50+00:00"})"));
  rec.storage = StorageLocation::from_blob_refs({});
  EXPECT_EQ(rec.to_record().at("storage"),
            json::parse(R"({"$type":"ac.foundation.dataset.storageBlobs","blobs":[]})"));
  // Non-standard blob refs are written verbatim, like Python atdata 0.2.
  rec.storage = StorageLocation::from_blob_refs({json::object{{"cid", "bafytest"}}});
  EXPECT_EQ(rec.to_record().at("storage").at("blobs"), json::parse(R"([{"cid":"bafytest"}])"));
  EXPECT_EQ(DatasetRecord::from_record(rec.to_record()).storage.blobs[0].cid(), "");
}

TEST(DatasetRecord, ReadsLaterEntryNamespaceAndStorageShapes) {
  json::value http = json::parse(R"({"$type":"science.alt.dataset.entry","name":"e",
    "schemaRef":"at://did:plc:x/science.alt.dataset.schema/s","createdAt":"2026-02-21T00:00:00Z",
    "storage":{"$type":"science.alt.dataset.storageHttp","shards":[
      {"url":"https://h/a-000000.tar","checksum":{"algorithm":"sha256","digest":"ab"}},
      {"url":"https://h/a-000001.tar","checksum":{"algorithm":"sha256","digest":"cd"}}]},
    "size":{"samples":10,"shards":2},"metadata":{"split":"train"}})");
  DatasetRecord rec = DatasetRecord::from_record(http);
  EXPECT_EQ(rec.storage.kind, StorageLocation::Kind::external);
  EXPECT_EQ(rec.storage.urls, (std::vector<std::string>{"https://h/a-000000.tar", "https://h/a-000001.tar"}));
  ASSERT_EQ(rec.storage.url_checksums.size(), 2u);
  EXPECT_EQ(rec.storage.url_checksums[1], (ShardChecksum{"sha256", "cd"}));
  EXPECT_FALSE(rec.metadata);
  EXPECT_EQ(rec.metadata_object, (json::object{{"split", "train"}}));

  json::value blobs = json::parse(R"({"$type":"ac.foundation.dataset.entry","name":"e","schemaRef":"s",
    "createdAt":"2026-02-21T00:00:00Z","storage":{"$type":"science.alt.dataset.storageBlobs","blobs":[
      {"blob":{"$type":"blob","ref":{"$link":"bafkreia"},"mimeType":"application/x-tar","size":1},
       "checksum":{"algorithm":"sha256","digest":"00"}},
      {"$type":"blob","ref":{"$link":"bafkreib"},"mimeType":"application/x-tar","size":2}]}})");
  DatasetRecord b = DatasetRecord::from_record(blobs);
  ASSERT_EQ(b.storage.kind, StorageLocation::Kind::blobs);
  ASSERT_EQ(b.storage.blobs.size(), 2u);
  EXPECT_EQ(b.storage.blobs[0].cid(), "bafkreia");
  EXPECT_EQ(b.storage.blobs[0].checksum, (ShardChecksum{"sha256", "00"}));
  EXPECT_EQ(b.storage.blobs[1].cid(), "bafkreib");
  // Written back in Python atdata 0.2's shape.
  EXPECT_EQ(
      b.to_record().at("storage").at("blobs").at(0),
      json::parse(R"({"$type":"blob","ref":{"$link":"bafkreia"},"mimeType":"application/x-tar","size":1})"));

  json::value s3 = json::parse(R"({"$type":"science.alt.dataset.entry","name":"e","schemaRef":"s",
    "createdAt":"2026-02-21T00:00:00Z","storage":{"$type":"science.alt.dataset.storageS3","bucket":"b","shards":[]}})");
  DatasetRecord u = DatasetRecord::from_record(s3);
  EXPECT_EQ(u.storage.kind, StorageLocation::Kind::unknown);
  EXPECT_EQ(u.storage.type, "science.alt.dataset.storageS3");
  EXPECT_EQ(json::value(u.to_record()).at("storage"), s3.at("storage"));
}

TEST(DatasetRecord, MalformedRecordsNameTheMember) {
  json::value good = json::parse(kDatasetExternalExample);
  auto with = [&](auto&& edit) {
    json::value v = good;
    edit(v.as_object());
    return member_of_error([&] { DatasetRecord::from_record(v); });
  };
  EXPECT_EQ(with([](json::object& o) { o["$type"] = "ac.foundation.dataset.sampleSchema"; }), "$type");
  EXPECT_EQ(with([](json::object& o) { o.erase("name"); }), "name");
  EXPECT_EQ(with([](json::object& o) { o.erase("schemaRef"); }), "schemaRef");
  EXPECT_EQ(with([](json::object& o) { o["schemaRef"] = json::array{}; }), "schemaRef");
  EXPECT_EQ(with([](json::object& o) { o.erase("storage"); }), "storage");
  EXPECT_EQ(with([](json::object& o) { o["storage"] = "s3://x"; }), "storage");
  EXPECT_EQ(with([](json::object& o) {
              o["storage"].as_object()["urls"] = json::array{"a", 1};
            }),
            "storage.urls[1]");
  EXPECT_EQ(with([](json::object& o) { o["storage"].as_object()["urls"] = "a"; }), "storage.urls");
  EXPECT_EQ(with([](json::object& o) { o["tags"] = json::array{"a", nullptr}; }), "tags[1]");
  EXPECT_EQ(with([](json::object& o) { o["license"] = 1; }), "license");
  EXPECT_EQ(with([](json::object& o) { o["createdAt"] = "2026-01-17"; }), "createdAt");
  EXPECT_EQ(with([](json::object& o) { o["metadata"] = json::object{{"$bytes", 1}}; }), "metadata.$bytes");
  EXPECT_EQ(with([](json::object& o) { o["metadata"] = "raw"; }), "metadata");
  EXPECT_EQ(with([](json::object& o) {
              o["storage"] = json::object{{"$type", "x.storageBlobs"}, {"blobs", json::array{1}}};
            }),
            "storage.blobs[0]");
  EXPECT_EQ(
      with([](json::object& o) {
        o["storage"] = json::object{{"$type", "x.storageHttp"}, {"shards", json::array{json::object{}}}};
      }),
      "storage.shards[0].url");
  EXPECT_EQ(
      with([](json::object& o) {
        o["storage"] = json::object{
            {"$type", "x.storageHttp"},
            {"shards", json::array{json::object{{"url", "u"}, {"checksum", json::object{{"digest", "d"}}}}}}};
      }),
      "storage.shards[0].checksum.algorithm");
}

// ---------------------------------------------------------------- lens

TEST(LensRecord, SpecExampleRoundTrips) {
  json::value doc = json::parse(kLensExample);
  LensRecord rec = LensRecord::from_record(doc);
  EXPECT_EQ(rec.name, "simplify");
  ASSERT_TRUE(rec.getter_code);
  EXPECT_EQ(rec.getter_code->path, "transforms.simplify:simplify_getter");
  ASSERT_TRUE(rec.putter_code);
  EXPECT_EQ(rec.putter_code->commit, "abc123def456");
  EXPECT_EQ(json::value(rec.to_record()), doc);

  LensRecord built;
  built.name = "simplify";
  built.source_schema = "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q7xyzab2k";
  built.target_schema = "at://did:plc:abc123/ac.foundation.dataset.sampleSchema/3lc2q8aaaab2k";
  built.created_at = kCreated;
  built.description = "Extract label only";
  built.getter_code =
      CodeReference{"https://github.com/org/repo", "abc123def456", "transforms.simplify:simplify_getter"};
  built.putter_code =
      CodeReference{"https://github.com/org/repo", "abc123def456", "transforms.simplify:simplify_putter"};
  EXPECT_EQ(json::value(built.to_record()), doc);
  EXPECT_EQ(LensRecord::from_record(built.to_record()), built);
}

TEST(LensRecord, OmitsAbsentCodeAndReadsLaterNamespace) {
  LensRecord rec;
  rec.name = "l";
  rec.source_schema = "at://a/b/c";
  rec.target_schema = "at://a/b/d";
  rec.created_at = parse_datetime("2026-01-17T23:41:50Z");
  EXPECT_EQ(json::value(rec.to_record()), json::parse(R"({"$type":"ac.foundation.dataset.lens","name":"l",
      "sourceSchema":"at://a/b/c","targetSchema":"at://a/b/d","createdAt":"2026-01-17T23:41:50+00:00"})"));

  json::value later = json::parse(R"({"$type":"science.alt.dataset.lens","name":"l","sourceSchema":"a",
    "targetSchema":"b","createdAt":"2026-02-25T00:00:00Z","sourceSchemaVersion":"1.0.0","language":"python",
    "getterCode":{"repository":"r","commit":"c","path":"p","branch":"main","language":"python"}})");
  LensRecord l = LensRecord::from_record(later);
  EXPECT_EQ(l.source_schema_version, "1.0.0");
  EXPECT_EQ(l.getter_code, (CodeReference{"r", "c", "p"}));
  EXPECT_FALSE(l.putter_code);
}

TEST(LensRecord, MalformedRecordsNameTheMember) {
  json::value good = json::parse(kLensExample);
  auto with = [&](auto&& edit) {
    json::value v = good;
    edit(v.as_object());
    return member_of_error([&] { LensRecord::from_record(v); });
  };
  EXPECT_EQ(with([](json::object& o) { o["$type"] = "ac.foundation.dataset.record"; }), "$type");
  EXPECT_EQ(with([](json::object& o) { o.erase("sourceSchema"); }), "sourceSchema");
  EXPECT_EQ(with([](json::object& o) { o.erase("targetSchema"); }), "targetSchema");
  EXPECT_EQ(with([](json::object& o) { o["getterCode"] = "x"; }), "getterCode");
  EXPECT_EQ(with([](json::object& o) { o["putterCode"].as_object().erase("commit"); }), "putterCode.commit");
}

TEST(Lexicon, ClassifiesEveryNamespaceGeneration) {
  EXPECT_EQ(LEXICON_NAMESPACE, "ac.foundation.dataset");
  EXPECT_EQ(classify_record_type("ac.foundation.dataset.sampleSchema"), RecordKind::schema);
  EXPECT_EQ(classify_record_type("ac.foundation.dataset.schema"), RecordKind::schema);
  EXPECT_EQ(classify_record_type("science.alt.dataset.schema"), RecordKind::schema);
  EXPECT_EQ(classify_record_type("ac.foundation.dataset.record"), RecordKind::dataset);
  EXPECT_EQ(classify_record_type("ac.foundation.dataset.entry"), RecordKind::dataset);
  EXPECT_EQ(classify_record_type("science.alt.dataset.entry"), RecordKind::dataset);
  EXPECT_EQ(classify_record_type("science.alt.dataset.lens"), RecordKind::lens);
  EXPECT_EQ(classify_record_type("ac.foundation.dataset.storageBlobs"), std::nullopt);
  EXPECT_EQ(classify_record_type("app.bsky.feed.post"), std::nullopt);
  EXPECT_EQ(collection_for(RecordKind::dataset), "ac.foundation.dataset.record");
}

}  // namespace
