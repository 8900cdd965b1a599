#include "atdata/atmosphere/dataset_loader.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "atdata/atmosphere/dataset_publisher.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/atmosphere/record_io.hpp"
#include "atdata/atmosphere/schema_publisher.hpp"
#include "atdata/error.hpp"

namespace atdata::atmosphere {

namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<DatasetRecord> DatasetLoader::get(AtUri uri) {
  auto rec = co_await detail::get_checked(*client_, uri, RecordKind::dataset);
  co_return DatasetRecord::from_record(rec.value);
}

asio::awaitable<std::vector<Listed<DatasetRecord>>> DatasetLoader::list_all(std::string repo,
                                                                            std::size_t max) {
  std::vector<Listed<DatasetRecord>> out;
  co_await detail::list_collection(
      *client_, std::string(nsid::kDatasetRecord), std::move(repo), max, [&](atproto::Record& r) {
        try {
          out.emplace_back(AtUri::parse(r.uri), r.cid, DatasetRecord::from_record(r.value));
        } catch (const Error&) {
          // Skip records this reader cannot interpret.
        }
      });
  co_return out;
}

asio::awaitable<std::string> DatasetLoader::get_storage_type(AtUri uri) {
  co_return atmosphere::get_storage_type(co_await get(uri));
}

asio::awaitable<std::vector<std::string>> DatasetLoader::get_urls(AtUri uri) {
  co_return atmosphere::get_urls(co_await get(uri));
}

asio::awaitable<std::vector<BlobEntry>> DatasetLoader::get_blobs(AtUri uri) {
  co_return atmosphere::get_blobs(co_await get(uri));
}

asio::awaitable<std::vector<std::string>> DatasetLoader::get_blob_urls(AtUri uri) {
  DatasetRecord rec = co_await get(uri);
  std::vector<std::string> out;
  for (const auto& b : atmosphere::get_blobs(rec)) {
    std::string cid = b.cid();
    if (cid.empty()) continue;
    out.push_back(co_await client_->get_blob_url(uri.authority, std::move(cid)));
  }
  co_return out;
}

asio::awaitable<std::optional<json::object>> DatasetLoader::get_metadata(AtUri uri) {
  co_return atmosphere::get_metadata(co_await get(uri));
}

asio::awaitable<std::vector<std::string>> DatasetLoader::get_shard_urls(AtUri uri) {
  DatasetRecord rec = co_await get(uri);
  co_return co_await get_shard_urls(std::move(uri), std::move(rec));
}

asio::awaitable<std::vector<std::string>> DatasetLoader::get_shard_urls(AtUri uri, DatasetRecord rec) {
  std::vector<std::string> out;
  if (atmosphere::get_storage_type(rec) == "external") {
    out = rec.storage.urls;
  } else {
    for (const auto& b : rec.storage.blobs) {
      std::string cid = b.cid();
      if (!cid.empty()) out.push_back(co_await client_->get_blob_url(uri.authority, std::move(cid)));
    }
  }
  if (out.empty()) throw RecordError("storage", "Dataset record has no storage URLs");
  co_return out;
}

asio::awaitable<DatasetSource> DatasetLoader::checked_source(AtUri uri, SampleSchema expected,
                                                             DatasetOptions options) {
  DatasetSource src = co_await dataset_source(*client_, uri, std::move(options));
  SchemaLoader schemas(*client_);
  std::shared_ptr<const SampleSchema> published = co_await schemas.decode(AtUri(src.record.schema_ref));
  if (auto diff = schema_mismatch(expected, *published)) {
    throw SchemaError("", "dataset " + uri.str() + " has schema " + published->name() + " (" +
                              src.record.schema_ref + "), which does not match " + expected.name() + ": " +
                              *diff);
  }
  co_return src;
}

asio::awaitable<DynamicDataset> DatasetLoader::to_dynamic_dataset(AtUri uri,
                                                                  std::shared_ptr<const SampleSchema> schema,
                                                                  DatasetOptions options) {
  DatasetSource src = co_await dataset_source(*client_, std::move(uri), std::move(options));
  if (!schema) {
    SchemaLoader schemas(*client_);
    schema = co_await schemas.decode(AtUri(src.record.schema_ref));
  }
  co_return DynamicDataset(std::move(src.url), std::move(schema), std::move(src.options));
}

asio::awaitable<DynamicDataset> to_dynamic_dataset(atproto::AtmosphereClient& client, AtUri uri,
                                                   std::shared_ptr<const SampleSchema> schema,
                                                   DatasetOptions options) {
  DatasetLoader loader(client);
  co_return co_await loader.to_dynamic_dataset(std::move(uri), std::move(schema), std::move(options));
}

}  // namespace atdata::atmosphere
