// The C++ blocks of docs/atmosphere.md and docs/gcc12.md, compiled and run
// against the real PDS (CTest: snippet_atmosphere; tools/pds/with-env.sh
// exports the ATDATA_* variables). Everything runs inside one coroutine, the
// way the docs show it, so the GCC 12 co_await forms are exercised under
// ASan+UBSan in CI.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <filesystem>
#include <future>
#include <iostream>
#include <string>
#include <vector>

#include "atdata/atdata.hpp"
#include "snippet_support.hpp"

namespace asio = boost::asio;

namespace {

std::size_t batches_seen = 0;
std::string indexed_uri;  // the demo's dataset (other programs index datasets of the same name)
void train_on(const atdata::NDArray& features) {
  snippet::check(features.ndim() == 2 && features.shape()[1] == 4, "features stack to (n, 4)");
  ++batches_seen;
}

}  // namespace

// [snippet atmosphere-sample]
#include <atdata/atdata.hpp>

namespace atmo = atdata::atmosphere;

struct FeatureSample {
  atdata::NDArrayOf<float> features;  // published as ndarray, dtype float32
  std::int64_t label = 0;
  std::string source;
};
BOOST_DESCRIBE_STRUCT(FeatureSample, (), (features, label, source))
// [end atmosphere-sample]

struct LabelOnly {
  std::int64_t label = 0;
};
BOOST_DESCRIBE_STRUCT(LabelOnly, (), (label))

namespace {

void write_shards(const std::filesystem::path& dir) {
  atdata::ShardWriterOptions so;
  so.maxcount = 25;
  atdata::ShardWriter w((dir / "features-%06d.tar").string(), so);
  for (int i = 0; i < 100; ++i) {
    std::vector<float> f{float(i), 1, 2, 3};
    FeatureSample s{atdata::NDArray::from_span(std::span<const float>(f)), i % 10, "synthetic"};
    atdata::write_sample(w, s);
  }
  w.close();
}

asio::awaitable<void> demo(asio::io_context& io, std::string url, std::vector<std::string> shard_paths) {
  // [snippet atmosphere-index]
  auto client = co_await atmo::AtmosphereClient::from_env(io.get_executor());
  atmo::AtmosphereIndex index(*client);

  // Publish the schema of FeatureSample (version, description).
  atmo::AtUri schema = co_await index.publish_schema<FeatureSample>("1.0.0", "Feature vectors with labels");

  // Index a dataset: its URL is stored verbatim (brace patterns unexpanded).
  atdata::Dataset<FeatureSample> ds(url);
  auto entry = co_await index.insert_dataset(ds, atmo::DatasetPublishOptions("synthetic-features-v1")
                                                     .with_schema_ref(schema)
                                                     .with_tags("features", "synthetic")
                                                     .with_license("MIT")
                                                     .with_metadata("split", "train"));
  std::cout << "indexed " << entry.name() << " as " << entry.uri() << "\n";

  // Discover: list (each entry carries its URI), then load with the type
  // checked against the published schema before any shard is read.
  for (const auto& e : co_await index.list_datasets()) std::cout << e.uri() << "  " << e.name() << "\n";
  atdata::Dataset<FeatureSample> back =
      co_await index.dataset_loader().to_dataset<FeatureSample>(entry.uri());
  auto loader = back.ordered(32);
  while (auto batch = co_await loader.next()) train_on(batch->stacked<&FeatureSample::features>());
  // [end atmosphere-index]
  snippet::check(batches_seen == 4, "100 samples in batches of 32");
  indexed_uri = entry.uri().str();

  // [snippet atmosphere-dynamic]
  // Without a C++ type: the published schema becomes a run-time sample type.
  auto sample_type = co_await index.decode_schema(entry.schema_ref());
  atdata::DynamicDataset dyn = co_await index.dataset_loader().to_dynamic_dataset(entry.uri(), sample_type);
  auto rows = dyn.ordered(atdata::unbatched);
  while (auto s = co_await rows.next()) std::cout << s->get<std::int64_t>("label") << " ";
  // [end atmosphere-dynamic]
  std::cout << "\n";

  // [snippet atmosphere-mismatch]
  try {
    co_await index.dataset_loader().to_dataset<LabelOnly>(entry.uri());
  } catch (const atdata::SchemaError& e) {
    // "dataset at://… has schema FeatureSample (at://…), which does not match
    //  LabelOnly: field 'features' is in FeatureSample but not in LabelOnly"
    std::cerr << e.what() << "\n";
  }
  // [end atmosphere-mismatch]
  bool refused = false;
  try {
    co_await index.dataset_loader().to_dataset<LabelOnly>(entry.uri());
  } catch (const atdata::SchemaError& e) {
    refused = std::string(e.what()).find("field 'features' is in FeatureSample but not in LabelOnly") !=
              std::string::npos;
  }
  snippet::check(refused, "a type that does not match the published schema is refused");

  // [snippet atmosphere-publishers]
  atmo::SchemaPublisher sp(*client);
  atmo::AtUri s = co_await sp.publish<FeatureSample>(
      atmo::SchemaPublishOptions().with_version("1.1.0").with_metadata("source", "training"));

  atmo::DatasetPublisher dp(*client);
  // External URLs, stored verbatim.
  std::vector<std::string> urls{"https://data.example.com/f-{000000..000003}.tar"};
  atmo::AtUri d1 = co_await dp.publish_with_urls(urls, s, "features-by-url");
  // PDS blobs: the files are uploaded (4 at a time), then one record lists them.
  atmo::AtUri d2 = co_await dp.publish_with_blob_files(
      shard_paths, s, atmo::DatasetPublishOptions("features-as-blobs").with_max_in_flight(4));
  // A Dataset object: [ds.url()], its sample type's schema published first.
  atmo::AtUri d3 = co_await dp.publish(ds, "features-auto-schema");

  atmo::DatasetLoader& dl = index.dataset_loader();
  std::string kind = co_await dl.get_storage_type(d2);  // "blobs" ("external" for d1)
  auto blob_urls = co_await dl.get_blob_urls(d2);       // getBlob URLs on the owner's PDS
  auto shard_urls = co_await dl.get_shard_urls(d1);     // what a Dataset reads, any storage
  auto md = co_await dl.get_metadata(entry.uri());      // optional<boost::json::object>
  atmo::DatasetRecord rec =
      co_await dl.get("at://" + client->did() + "/ac.foundation.dataset.record/" + d3.rkey);
  // [end atmosphere-publishers]
  snippet::check(kind == "blobs" && blob_urls.size() == shard_paths.size(), "blob storage");
  snippet::check(shard_urls == urls, "external URLs verbatim");
  snippet::check(md && md->at("split") == "train", "metadata round trip");
  snippet::check(rec.name == "features-auto-schema", "get by text");

  // [snippet atmosphere-lens]
  atmo::LensPublisher lp(*client);
  atmo::AtUri lens =
      co_await lp.publish(atmo::LensPublishOptions("label-only", s, schema)
                              .with_description("Keep the label")
                              .with_getter_code(atmo::CodeReference("https://github.com/org/lenses", "abc123",
                                                                    "lenses:get_label"))
                              .with_putter_code(atmo::CodeReference("https://github.com/org/lenses", "abc123",
                                                                    "lenses:put_label")));
  atmo::LensLoader ll(*client);
  auto found = co_await ll.find_by_schemas(s);  // lenses from s, all pages
  // [end atmosphere-lens]
  snippet::check(found.size() == 1 && found.front().uri() == lens, "lens found by its source schema");

  // [snippet atmosphere-bulk]
  std::vector<atmo::DatasetRecord> records;
  for (int i = 0; i < 300; ++i) {
    atmo::DatasetRecord r;
    r.name = "bulk-" + std::to_string(i);
    r.schema_ref = s.str();
    std::vector<std::string> one{"https://data.example.com/bulk-" + std::to_string(i) + ".tar"};
    r.storage = atmo::StorageLocation::external(one);
    records.push_back(std::move(r));
  }
  atmo::BulkPublisher bulk(*client);
  atmo::BulkResult result = co_await bulk.publish_datasets(
      records, atmo::BulkOptions().with_max_in_flight(4).with_on_progress([](const atmo::BulkProgress& p) {
        std::cerr << p.skipped + p.written << "/" << p.total << "\r";
      }));
  // A second run of the same call writes nothing: the job resumes.
  atmo::BulkResult again = co_await bulk.publish_datasets(records);
  // [end atmosphere-bulk]
  snippet::check(result.written == 300 && again.written == 0 && again.skipped == 300, "bulk resumes");
  snippet::check(again.uris == result.uris, "same URIs on the re-run");
}

// [snippet gcc12-blocking]
// Scripts: the same calls, blocking. run_blocking takes any awaitable.
void blocking_form(std::string uri) {
  asio::io_context io;
  auto client = atdata::run_blocking(io, atmo::AtmosphereClient::from_env(io.get_executor()));
  atmo::DatasetLoader loader(*client);
  atdata::Dataset<FeatureSample> ds = atdata::run_blocking(io, loader.to_dataset<FeatureSample>(uri));
  for (const auto& batch : ds.ordered(32)) train_on(batch.stacked<&FeatureSample::features>());
}
// [end gcc12-blocking]

// [snippet gcc12-future]
// Any Asio completion token through co_spawn, e.g. a std::future.
std::size_t count_datasets(asio::io_context& io, atmo::AtmosphereIndex& index) {
  std::future<std::vector<atmo::AtmosphereIndexEntry>> f =
      asio::co_spawn(io, index.list_datasets(), asio::use_future);
  while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io.run_one();
  return f.get().size();
}
// [end gcc12-future]

}  // namespace

namespace lexicon_demo {

// A lexicon of the reader's own, for the catalog example.
const char* my_lexicon_json = R"({"lexicon": 1, "id": "com.example.thing", "defs": {"main": {
  "type": "record", "key": "tid", "record": {"type": "object", "required": ["dataset"],
  "properties": {"dataset": {"type": "ref", "ref": "lex:ac.foundation.dataset.record"}}}}}})";

void run(const boost::json::object& record) {
  // [snippet atmosphere-lexicon]
  using namespace atdata::atmosphere;
  validate_record(record);  // collection from $type; throws RecordError
  validate_record("ac.foundation.dataset.record", record);
  if (auto p = check_record(record)) std::cerr << p->member << ": " << p->message << "\n";

  LexiconCatalog mine;  // your own lexicons (and refs between them)
  for (const auto& l : shipped_lexicons()) mine.add(l.json);
  mine.add(my_lexicon_json);
  mine.validate_record("com.example.thing", record);
  // [end atmosphere-lexicon]
}

void check() {
  atmo::DatasetRecord rec;
  rec.name = "lexicon-demo";
  rec.schema_ref = "at://did:plc:abcdefghijklmnopqrstuvwx/ac.foundation.dataset.sampleSchema/3kxyz";
  std::vector<std::string> urls{"https://data.example.com/f-{000000..000003}.tar"};
  rec.storage = atmo::StorageLocation::external(urls);
  // The catalog example validates a "thing" whose dataset member is the record.
  boost::json::object valid = rec.to_record();
  bool refused = false;
  try {
    run(valid);  // a dataset record is not a com.example.thing (no `dataset` member)
  } catch (const atdata::RecordError& e) {
    refused = std::string(e.what()).find("dataset") != std::string::npos;
  }
  snippet::check(refused, "the catalog refuses a record of the wrong shape");
  std::vector<std::string> bad_urls{"features.tar"};
  rec.storage = atmo::StorageLocation::external(bad_urls);
  auto p = atmo::check_record(rec.to_record());
  snippet::check(p && p->member == "storage.urls[0]", "a bare path is not a shard URL");
}

}  // namespace lexicon_demo

int main() {
  return snippet::run("snippet_atmosphere", [] {
    lexicon_demo::check();
    snippet::ScratchDir dir;
    write_shards(dir.path());
    std::vector<std::string> paths;
    for (int i = 0; i < 4; ++i)
      paths.push_back((dir.path() / ("features-00000" + std::to_string(i) + ".tar")).string());
    const std::string url = "file://localhost" + (dir.path() / "features-{000000..000003}.tar").string();
    asio::io_context io;
    atdata::run_blocking(io, demo(io, url, paths));

    // The blocking and future forms, on a dataset the demo indexed.
    asio::io_context io2;
    auto client = atdata::run_blocking(io2, atmo::AtmosphereClient::from_env(io2.get_executor()));
    atmo::AtmosphereIndex index(*client);
    auto all = atdata::run_blocking(io2, index.list_datasets());
    bool listed = false;
    for (const auto& e : all) listed = listed || e.uri() == indexed_uri;
    snippet::check(listed, "the demo's dataset is listed");
    batches_seen = 0;
    blocking_form(indexed_uri);
    snippet::check(batches_seen == 4, "blocking iteration");
    asio::io_context io3;
    auto client3 = atdata::run_blocking(io3, atmo::AtmosphereClient::from_env(io3.get_executor()));
    atmo::AtmosphereIndex index3(*client3);
    io3.restart();
    snippet::check(count_datasets(io3, index3) >= 4, "future form lists the datasets");
  });
}
