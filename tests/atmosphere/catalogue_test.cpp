// Catalogue: what apply / replace_repo store and report, the queries, cursors
// kept in the same transaction as the entries (replays skipped, a SIGKILL
// never leaves half a batch), files (reopen, read-only beside a writer,
// newer schema versions refused).

#include "atdata/atmosphere/catalogue.hpp"
#include "atdata/atmosphere/datetime.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/lens_record.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/atmosphere/schema_record.hpp"
#include "atdata/error.hpp"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace atdata::atmosphere;
using atdata::atproto::RecordChange;
using atdata::atproto::RepoEvent;
using atdata::atproto::RepoOp;
using Kind = RecordKind;

constexpr const char* kAlice = "did:plc:alice";
constexpr const char* kBob = "did:plc:bob";
constexpr const char* kSource = "wss://relay.example";
const std::string kSchemaUri = "at://did:plc:alice/ac.foundation.dataset.sampleSchema/s1";

json::object dataset_record(const std::string& name, const std::string& description = "",
                            std::vector<std::string> tags = {}, const std::string& schema_ref = kSchemaUri) {
  DatasetRecord ds;
  ds.name = name;
  ds.schema_ref = schema_ref;
  ds.description = description;
  ds.tags = std::move(tags);
  ds.storage = StorageLocation::external({"https://example.com/d-000000.tar"});
  return ds.to_record();
}

json::object schema_record(const std::string& name, const std::string& version = "1.0.0") {
  SchemaRecord s;
  s.name = name;
  s.version = version;
  s.fields = {{"label", SchemaFieldType::of(Primitive::int_)}};
  return s.to_record();
}

json::object lens_record(const std::string& name) {
  LensRecord l;
  l.name = name;
  l.source_schema = kSchemaUri;
  l.target_schema = kSchemaUri;
  l.getter_code = CodeReference{"https://github.com/org/repo", "abc123", "m:get"};
  l.putter_code = CodeReference{"https://github.com/org/repo", "abc123", "m:put"};
  return l.to_record();
}

RecordChange change(RepoOp::Action action, std::string collection, std::string rkey, std::string cid,
                    json::object record = {}) {
  RecordChange c;
  c.action = action;
  c.collection = std::move(collection);
  c.rkey = std::move(rkey);
  c.cid = std::move(cid);
  c.record = std::move(record);
  return c;
}

RecordChange create_dataset(std::string rkey, std::string cid, json::object record) {
  return change(RepoOp::Action::create, std::string(nsid::kDatasetRecord), std::move(rkey), std::move(cid),
                std::move(record));
}

RepoEvent commit(std::int64_t cursor, std::string did, std::vector<RecordChange> changes,
                 std::string time = "2026-01-01T00:00:00.000Z", std::string source = kSource) {
  RepoEvent e;
  e.kind = RepoEvent::Kind::commit;
  e.source = std::move(source);
  e.cursor = cursor;
  e.did = std::move(did);
  e.time = std::move(time);
  e.changes = std::move(changes);
  return e;
}

CatalogueUpdate apply1(Catalogue& cat, RepoEvent ev) {
  std::vector<RepoEvent> v;
  v.push_back(std::move(ev));
  return cat.apply(v);
}

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("atdata-catalogue-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const char* name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

CatalogueOptions file_options(const std::string& path, bool read_only = false) {
  CatalogueOptions o;
  o.path = path;
  o.read_only = read_only;
  return o;
}

std::vector<std::string> names(const std::vector<CatalogueEntry>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.name);
  return out;
}

TEST(Catalogue, ToString) {
  EXPECT_EQ(to_string(Kind::schema), "schema");
  EXPECT_EQ(to_string(Kind::dataset), "dataset");
  EXPECT_EQ(to_string(Kind::lens), "lens");
  EXPECT_EQ(to_string(Discovered::Change::created), "created");
  EXPECT_EQ(to_string(Discovered::Change::updated), "updated");
  EXPECT_EQ(to_string(Discovered::Change::deleted), "deleted");
}

TEST(Catalogue, CreateUpdateDeleteAndNotifications) {
  auto cat = Catalogue::in_memory();
  json::object published = dataset_record("mnist", "digits", {"vision"});
  auto u = apply1(cat, commit(1, kAlice, {create_dataset("d1", "cid1", published)}));
  ASSERT_EQ(u.discovered.size(), 1u);
  EXPECT_EQ(u.discovered[0].change, Discovered::Change::created);
  EXPECT_EQ(u.discovered[0].kind, Kind::dataset);
  EXPECT_EQ(u.discovered[0].uri.str(), "at://did:plc:alice/ac.foundation.dataset.record/d1");
  EXPECT_EQ(u.discovered[0].entry.name, "mnist");
  EXPECT_EQ(u.discovered[0].entry.cid, "cid1");
  EXPECT_EQ(cat.size(), 1u);

  auto got = cat.get(AtUri("at://did:plc:alice/ac.foundation.dataset.record/d1"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->did, kAlice);
  EXPECT_EQ(got->collection, nsid::kDatasetRecord);
  EXPECT_EQ(got->rkey, "d1");
  EXPECT_EQ(got->kind, Kind::dataset);
  EXPECT_EQ(got->description, "digits");
  EXPECT_EQ(got->tags, std::vector<std::string>{"vision"});
  EXPECT_EQ(got->schema_ref, kSchemaUri);
  EXPECT_EQ(got->time, parse_datetime("2026-01-01T00:00:00.000Z"));
  EXPECT_GT(got->indexed_at.time_since_epoch().count(), 0);
  EXPECT_EQ(json::serialize(got->record), json::serialize(published));

  // Same cid again: nothing changed, nothing reported.
  u = apply1(
      cat, commit(2, kAlice, {create_dataset("d1", "cid1", dataset_record("mnist", "digits", {"vision"}))}));
  EXPECT_TRUE(u.discovered.empty());

  // A create of an existing uri with another cid is an update.
  u = apply1(cat,
             commit(3, kAlice, {create_dataset("d1", "cid2", dataset_record("mnist2", "digits", {"ocr"}))}));
  ASSERT_EQ(u.discovered.size(), 1u);
  EXPECT_EQ(u.discovered[0].change, Discovered::Change::updated);
  EXPECT_EQ(cat.get(AtUri("at://did:plc:alice/ac.foundation.dataset.record/d1"))->name, "mnist2");
  CatalogueQuery q;
  q.tag = "vision";
  EXPECT_TRUE(cat.search(q).empty());
  q.tag = "ocr";
  EXPECT_EQ(cat.search(q).size(), 1u);
  CatalogueQuery t;
  t.text = "mnist";
  EXPECT_EQ(names(cat.search(t)), std::vector<std::string>{"mnist2"});  // FTS follows the update

  u = apply1(cat, commit(4, kAlice,
                         {change(RepoOp::Action::update, std::string(nsid::kDatasetRecord), "d1", "cid3",
                                 dataset_record("mnist3"))}));
  ASSERT_EQ(u.discovered.size(), 1u);
  EXPECT_EQ(u.discovered[0].change, Discovered::Change::updated);

  u = apply1(
      cat, commit(5, kAlice, {change(RepoOp::Action::remove, std::string(nsid::kDatasetRecord), "d1", "")}));
  ASSERT_EQ(u.discovered.size(), 1u);
  EXPECT_EQ(u.discovered[0].change, Discovered::Change::deleted);
  EXPECT_EQ(u.discovered[0].kind, Kind::dataset);
  EXPECT_EQ(u.discovered[0].entry.did, kAlice);
  EXPECT_EQ(cat.size(), 0u);
  EXPECT_FALSE(cat.get(AtUri("at://did:plc:alice/ac.foundation.dataset.record/d1")));

  // Deleting what never existed reports nothing.
  u = apply1(
      cat, commit(6, kAlice, {change(RepoOp::Action::remove, std::string(nsid::kDatasetRecord), "zz", "")}));
  EXPECT_TRUE(u.discovered.empty());
  EXPECT_TRUE(cat.search(t).empty());  // and the delete
}

TEST(Catalogue, KindsFromCollectionsAndOtherCollectionsIgnored) {
  auto cat = Catalogue::in_memory();
  auto u = apply1(
      cat,
      commit(
          1, kAlice,
          {change(RepoOp::Action::create, "ac.foundation.dataset.sampleSchema", "s1", "c1",
                  schema_record("S", "2.0.0")),
           change(RepoOp::Action::create, "science.alt.dataset.schema", "s2", "c2", schema_record("S2")),
           change(RepoOp::Action::create, "ac.foundation.dataset.lens", "l1", "c3", lens_record("L")),
           change(RepoOp::Action::create, "science.alt.dataset.entry", "e1", "c4", dataset_record("E")),
           change(RepoOp::Action::create, "app.bsky.feed.post", "p1", "c5", json::object{{"text", "hi"}}),
           change(RepoOp::Action::create, "ac.foundation.dataset.storageExternal", "x", "c6",
                  dataset_record("X")),
           change(RepoOp::Action::create, "ac.foundation.datasetX.record", "y", "c7", dataset_record("Y"))}));
  EXPECT_EQ(u.discovered.size(), 4u);
  EXPECT_TRUE(u.invalid.empty());
  EXPECT_EQ(cat.size(), 4u);
  EXPECT_EQ(cat.counts().schemas, 2u);
  EXPECT_EQ(cat.counts().lenses, 1u);
  EXPECT_EQ(cat.counts().datasets, 1u);
  auto s = cat.get(AtUri("at://did:plc:alice/ac.foundation.dataset.sampleSchema/s1"));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->schema_version, "2.0.0");
  EXPECT_EQ(s->name, "S");
  EXPECT_EQ(cat.get(AtUri("at://did:plc:alice/ac.foundation.dataset.lens/l1"))->name, "L");
}

TEST(Catalogue, CursorPerSourceAndReplaySkipped) {
  auto cat = Catalogue::in_memory();
  EXPECT_FALSE(cat.cursor(kSource));
  std::vector<RepoEvent> batch;
  batch.push_back(commit(10, kAlice, {create_dataset("a", "c1", dataset_record("a"))}));
  batch.push_back(commit(12, kAlice, {create_dataset("b", "c2", dataset_record("b"))}));
  batch.push_back(commit(11, kAlice, {}));
  batch.push_back(commit(500, kBob, {create_dataset("x", "c3", dataset_record("x"))}, "t", "jetstream"));
  RepoEvent info;
  info.kind = RepoEvent::Kind::info;
  info.source = kSource;
  info.info_name = "OutdatedCursor";
  batch.push_back(info);
  auto u = cat.apply(batch);
  EXPECT_EQ(u.discovered.size(), 3u);
  EXPECT_EQ(u.skipped_events, 0u);
  EXPECT_EQ(cat.cursor(kSource), 12);
  EXPECT_EQ(cat.cursor("jetstream"), 500);

  // Replay, with one new event: only the new one applies.
  batch.push_back(commit(13, kAlice, {create_dataset("c", "c4", dataset_record("c"))}));
  cat.apply(std::vector<RepoEvent>{
      commit(12, kAlice, {change(RepoOp::Action::remove, std::string(nsid::kDatasetRecord), "a", "")})});
  EXPECT_EQ(cat.size(), 3u) << "a remove at an already applied cursor must be skipped";
  u = cat.apply(batch);
  EXPECT_EQ(u.skipped_events, 4u);
  ASSERT_EQ(u.discovered.size(), 1u);
  EXPECT_EQ(u.discovered[0].entry.name, "c");
  EXPECT_EQ(cat.cursor(kSource), 13);

  // Events without changes (identity, account, rejected) move the cursor only.
  RepoEvent id;
  id.kind = RepoEvent::Kind::identity;
  id.source = kSource;
  id.cursor = 20;
  id.did = kAlice;
  RepoEvent rej;
  rej.kind = RepoEvent::Kind::rejected;
  rej.source = kSource;
  rej.cursor = 21;
  rej.message = "bad signature";
  u = cat.apply(std::vector<RepoEvent>{id, rej});
  EXPECT_TRUE(u.discovered.empty());
  EXPECT_EQ(cat.cursor(kSource), 21);
  EXPECT_EQ(cat.size(), 4u);

  cat.set_cursor(kSource, 5);
  EXPECT_EQ(cat.cursor(kSource), 5);
}

TEST(Catalogue, InvalidRecordReportedOthersStored) {
  auto cat = Catalogue::in_memory();
  std::vector<RepoEvent> batch;
  batch.push_back(commit(1, kAlice, {create_dataset("good1", "c1", dataset_record("good1"))}));
  batch.push_back(commit(2, kAlice, {create_dataset("bad", "c2", json::object{{"name", 42}})}));
  batch.push_back(commit(3, kAlice, {create_dataset("good2", "c3", dataset_record("good2"))}));
  auto u = cat.apply(batch);
  ASSERT_EQ(u.invalid.size(), 1u);
  EXPECT_EQ(u.invalid[0].uri, "at://did:plc:alice/ac.foundation.dataset.record/bad");
  EXPECT_FALSE(u.invalid[0].error.empty());
  EXPECT_EQ(u.discovered.size(), 2u);
  EXPECT_EQ(cat.size(), 2u);
  EXPECT_EQ(cat.cursor(kSource), 3);

  // An update to an invalid record: the old entry no longer describes what
  // is published there, so it goes.
  u = apply1(cat, commit(4, kAlice, {create_dataset("good1", "c9", json::object{{"name", 1}})}));
  ASSERT_EQ(u.invalid.size(), 1u);
  ASSERT_EQ(u.discovered.size(), 1u);
  EXPECT_EQ(u.discovered[0].change, Discovered::Change::deleted);
  EXPECT_EQ(cat.size(), 1u);

  // Too large.
  CatalogueOptions o;
  o.max_record_bytes = 64;
  Catalogue small(o);
  u = apply1(small, commit(1, kAlice, {create_dataset("big", "c", dataset_record(std::string(100, 'x')))}));
  ASSERT_EQ(u.invalid.size(), 1u);
  EXPECT_EQ(small.size(), 0u);
}

class CatalogueQueries : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<RepoEvent> b;
    b.push_back(commit(1, kAlice,
                       {change(RepoOp::Action::create, std::string(nsid::kSampleSchema), "s1", "c0",
                               schema_record("ImageSample"))},
                       "2026-01-01T00:00:00Z"));
    b.push_back(commit(
        2, kAlice,
        {create_dataset("d1", "c1", dataset_record("mnist", "handwritten digits", {"vision", "small"}))},
        "2026-01-02T00:00:00Z"));
    b.push_back(commit(3, kBob,
                       {create_dataset("d2", "c2", dataset_record("cifar10", "tiny images", {"vision"}))},
                       "2026-01-03T00:00:00Z"));
    b.push_back(
        commit(4, kBob,
               {create_dataset("d3", "c3",
                               dataset_record("wikitext", "wikipedia text", {"nlp"},
                                              "at://did:plc:bob/ac.foundation.dataset.sampleSchema/other"))},
               "2026-01-04T00:00:00Z"));
    b.push_back(commit(
        5, kBob,
        {change(RepoOp::Action::create, std::string(nsid::kLens), "l1", "c4", lens_record("image2text"))},
        "2026-01-05T00:00:00Z"));
    cat.apply(b);
  }
  Catalogue cat = Catalogue::in_memory();
};

TEST_F(CatalogueQueries, Filters) {
  CatalogueQuery q;
  EXPECT_EQ(names(cat.search(q)),
            (std::vector<std::string>{"image2text", "wikitext", "cifar10", "mnist", "ImageSample"}));
  q.did = kBob;
  EXPECT_EQ(names(cat.search(q)), (std::vector<std::string>{"image2text", "wikitext", "cifar10"}));
  q.kind = Kind::dataset;
  EXPECT_EQ(names(cat.search(q)), (std::vector<std::string>{"wikitext", "cifar10"}));
  q.tag = "vision";
  EXPECT_EQ(names(cat.search(q)), (std::vector<std::string>{"cifar10"}));

  CatalogueQuery s;
  s.schema_uri = kSchemaUri;
  EXPECT_EQ(names(cat.search(s)), (std::vector<std::string>{"cifar10", "mnist"}));
  CatalogueQuery tag;
  tag.tag = "vision";
  EXPECT_EQ(names(cat.search(tag)), (std::vector<std::string>{"cifar10", "mnist"}));
  tag.tag = "visio";  // exact, not prefix
  EXPECT_TRUE(cat.search(tag).empty());
  CatalogueQuery n;
  n.name = "mnist";
  EXPECT_EQ(names(cat.search(n)), (std::vector<std::string>{"mnist"}));
  CatalogueQuery k;
  k.kind = Kind::schema;
  EXPECT_EQ(names(cat.search(k)), (std::vector<std::string>{"ImageSample"}));
  CatalogueQuery lim;
  lim.limit = 2;
  EXPECT_EQ(names(cat.search(lim)), (std::vector<std::string>{"image2text", "wikitext"}));
  lim.limit = 0;  // no limit
  EXPECT_EQ(cat.search(lim).size(), cat.size());
}

TEST_F(CatalogueQueries, FullText) {
  auto text = [&](std::string t) {
    CatalogueQuery q;
    q.text = std::move(t);
    return names(cat.search(q));
  };
  EXPECT_EQ(text("digits"), std::vector<std::string>{"mnist"});
  EXPECT_EQ(text("dig"), std::vector<std::string>{"mnist"});                  // last word a prefix
  EXPECT_EQ(text("tiny IMAGES"), std::vector<std::string>{"cifar10"});        // all words, any case
  EXPECT_TRUE(text("tiny digits").empty());                                   // AND
  EXPECT_EQ(text("vision"), (std::vector<std::string>{"cifar10", "mnist"}));  // tags
  EXPECT_EQ(text("wiki"), std::vector<std::string>{"wikitext"});
  CatalogueQuery both;
  both.text = "vision";
  both.did = kAlice;
  EXPECT_EQ(names(cat.search(both)), std::vector<std::string>{"mnist"});
  // Hostile input never errors and is never FTS syntax.
  for (const char* hostile : {"foo\"bar", "AND", "*", "NEAR(", "\"", "name:mnist", "mnist OR cifar10", "(",
                              "-", "^x", "a\"\"b", "''", "NOT digits", "\xff\xfe"}) {
    EXPECT_NO_THROW(text(hostile)) << hostile;
  }
  EXPECT_TRUE(text("mnist OR cifar10").empty());  // OR is a word here, not an operator
  EXPECT_TRUE(text("AND").empty());
  EXPECT_TRUE(text("NEAR(").empty());
  EXPECT_EQ(text("handwritten\"").size(), 1u);  // the quote is dropped by the tokenizer, not parsed
}

TEST(Catalogue, ReplaceRepoDiffs) {
  auto cat = Catalogue::in_memory();
  cat.apply(std::vector<RepoEvent>{commit(1, kAlice,
                                          {create_dataset("keep", "k1", dataset_record("keep")),
                                           create_dataset("change", "c1", dataset_record("change")),
                                           create_dataset("gone", "g1", dataset_record("gone"))}),
                                   commit(2, kBob, {create_dataset("bobs", "b1", dataset_record("bobs"))})});
  EXPECT_FALSE(cat.known_repo(kAlice));
  std::vector<RecordChange> records{
      create_dataset("keep", "k1", dataset_record("keep")),
      create_dataset("change", "c2", dataset_record("changed")),
      create_dataset("new", "n1", dataset_record("new")),
      create_dataset("invalid", "i1", json::object{{"bad", true}}),
      change(RepoOp::Action::create, "app.bsky.feed.post", "p", "p1", json::object{})};
  auto u = cat.replace_repo(kAlice, records);
  std::map<std::string, Discovered::Change> seen;
  for (const auto& d : u.discovered) seen[d.uri.rkey] = d.change;
  EXPECT_EQ(seen, (std::map<std::string, Discovered::Change>{{"change", Discovered::Change::updated},
                                                             {"new", Discovered::Change::created},
                                                             {"gone", Discovered::Change::deleted}}));
  ASSERT_EQ(u.invalid.size(), 1u);
  EXPECT_TRUE(cat.known_repo(kAlice));
  EXPECT_FALSE(cat.known_repo(kBob));
  CatalogueQuery q;
  q.did = kAlice;
  auto n = names(cat.search(q));
  std::sort(n.begin(), n.end());
  EXPECT_EQ(n, (std::vector<std::string>{"changed", "keep", "new"}));
  EXPECT_EQ(cat.size(), 4u);  // bob untouched
}

TEST(Catalogue, SyncNeedsBackfill) {
  auto cat = Catalogue::in_memory();
  RepoEvent s;
  s.kind = RepoEvent::Kind::sync;
  s.source = kSource;
  s.cursor = 7;
  s.did = kAlice;
  auto u = cat.apply(std::vector<RepoEvent>{s, commit(8, kBob, {})});
  EXPECT_EQ(u.needs_backfill, std::vector<std::string>{kAlice});
  EXPECT_EQ(cat.cursor(kSource), 8);
}

TEST(Catalogue, PersistsAcrossReopen) {
  TempDir dir;
  std::string path = dir.file("cat.db");
  {
    Catalogue cat(file_options(path));
    cat.apply(std::vector<RepoEvent>{
        commit(42, kAlice, {create_dataset("d", "c", dataset_record("persisted", "", {"t"}))})});
    cat.replace_repo(kBob, {});
  }
  Catalogue cat(file_options(path));
  EXPECT_EQ(cat.size(), 1u);
  EXPECT_EQ(cat.cursor(kSource), 42);
  EXPECT_TRUE(cat.known_repo(kBob));
  CatalogueQuery q;
  q.text = "persis";
  EXPECT_EQ(names(cat.search(q)), std::vector<std::string>{"persisted"});
  q = CatalogueQuery();
  q.tag = "t";
  EXPECT_EQ(cat.search(q).size(), 1u);
  // Read-only with no writer around (no -wal / -shm files left).
  Catalogue reader(file_options(path, true));
  EXPECT_EQ(reader.size(), 1u);
  EXPECT_EQ(reader.cursor(kSource), 42);
}

TEST(Catalogue, ReadOnlyBesideAWriter) {
  TempDir dir;
  std::string path = dir.file("cat.db");
  Catalogue writer(file_options(path));
  writer.apply(std::vector<RepoEvent>{commit(1, kAlice, {create_dataset("a", "c1", dataset_record("a"))})});
  Catalogue reader(file_options(path, true));
  EXPECT_EQ(reader.size(), 1u);
  writer.apply(std::vector<RepoEvent>{commit(2, kAlice, {create_dataset("b", "c2", dataset_record("b"))})});
  EXPECT_EQ(reader.size(), 2u);
  EXPECT_EQ(reader.cursor(kSource), 2);
  EXPECT_THROW(reader.apply(std::vector<RepoEvent>{commit(3, kAlice, {})}), atdata::CatalogueError);
  EXPECT_THROW(reader.set_cursor(kSource, 1), atdata::CatalogueError);
  // A missing file is not created by a read-only open.
  EXPECT_THROW(Catalogue(file_options(dir.file("missing.db"), true)), atdata::CatalogueError);
  EXPECT_FALSE(fs::exists(dir.file("missing.db")));
}

TEST(Catalogue, NewerVersionAndForeignFilesRejected) {
  TempDir dir;
  std::string path = dir.file("cat.db");
  { Catalogue cat(file_options(path)); }
  {
    // user_version: big-endian at offset 60 of the database header.
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(60);
    const char v[4] = {0, 0, 0, 99};
    f.write(v, 4);
  }
  try {
    Catalogue cat(file_options(path));
    FAIL() << "opened a newer catalogue";
  } catch (const atdata::CatalogueError& e) {
    EXPECT_NE(std::string(e.what()).find("newer version"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Catalogue(file_options(path, true)), atdata::CatalogueError);

  std::string junk = dir.file("junk.db");
  std::ofstream(junk) << std::string(4096, 'x');
  EXPECT_THROW(Catalogue(file_options(junk)), atdata::CatalogueError);
}

// A child applies batches in a loop until SIGKILLed at a random moment; the
// file then holds exactly the events up to its stored cursor.
TEST(Catalogue, KilledWriterLeavesWholeBatches) {
  TempDir dir;
  std::string path = dir.file("crash.db");
  constexpr int K = 25;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ready[0]);
    try {
      Catalogue cat(file_options(path));
      for (std::int64_t i = 0;; ++i) {
        std::vector<RepoEvent> batch;
        for (std::int64_t j = 1; j <= K; ++j) {
          std::int64_t c = i * K + j;
          batch.push_back(commit(
              c, kAlice, {create_dataset("r" + std::to_string(c), "c", dataset_record(std::to_string(c)))}));
        }
        cat.apply(batch);
        if (i == 0) {
          char x = 1;
          if (::write(ready[1], &x, 1) != 1) ::_exit(3);
        }
      }
    } catch (...) {
      ::_exit(2);
    }
  }
  ::close(ready[1]);
  char x = 0;
  ASSERT_EQ(::read(ready[0], &x, 1), 1) << "child failed before its first batch";
  ::close(ready[0]);
  std::mt19937 rng(std::random_device{}());
  std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 200)(rng)));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited by itself, status " << status;

  Catalogue cat(file_options(path));
  auto n = cat.cursor(kSource);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n % K, 0) << "a partial batch was committed";
  EXPECT_EQ(cat.size(), static_cast<std::size_t>(*n));
  CatalogueQuery q;
  q.limit = static_cast<std::size_t>(*n) + 10;
  std::set<std::int64_t> seen;
  for (const auto& e : cat.search(q)) seen.insert(std::stoll(e.name));
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(*n));
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), *n);
  std::printf("[ info ] killed writer after %lld events\n", static_cast<long long>(*n));
}

TEST(Catalogue, EmptyCommitBatchTiming) {
  TempDir dir;
  Catalogue cat(file_options(dir.file("t.db")));
  constexpr int kBatches = 20;
  std::vector<RepoEvent> batch;
  for (int j = 0; j < 1000; ++j) batch.push_back(commit(0, "did:plc:" + std::to_string(j), {}));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kBatches; ++i) {
    for (int j = 0; j < 1000; ++j) batch[j].cursor = i * 1000 + j + 1;
    cat.apply(batch);
  }
  auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(cat.cursor(kSource), kBatches * 1000);
  std::printf("[ info ] 1000 empty commits: %.3f ms per batch\n", us / 1000.0 / kBatches);

  // And with one dataset record per event (the JSON is parsed and checked).
  std::vector<RepoEvent> records;
  for (int j = 0; j < 1000; ++j)
    records.push_back(
        commit(kBatches * 1000 + j + 1, kAlice,
               {create_dataset("r" + std::to_string(j), "c", dataset_record("r" + std::to_string(j)))}));
  start = std::chrono::steady_clock::now();
  auto u = cat.apply(records);
  us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(u.discovered.size(), 1000u);
  std::printf("[ info ] 1000 commits of one dataset record: %.3f ms\n", us / 1000.0);
}

}  // namespace
