#include "atdata/atmosphere/dataset_publisher.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "atdata/atmosphere/concurrency.hpp"
#include "atdata/atmosphere/metadata.hpp"
#include "atdata/atmosphere/record_io.hpp"
#include "atdata/error.hpp"
#include "atmosphere/publish_checks.hpp"

namespace atdata::atmosphere {

namespace asio = boost::asio;
namespace json = boost::json;

std::string get_storage_type(const DatasetRecord& rec) {
  switch (rec.storage.kind) {
    case StorageLocation::Kind::external:
      return "external";
    case StorageLocation::Kind::blobs:
      return "blobs";
    case StorageLocation::Kind::unknown:
      break;
  }
  throw RecordError("storage.$type", "Unknown storage type: " + rec.storage.type);
}

const std::vector<std::string>& get_urls(const DatasetRecord& rec) {
  if (get_storage_type(rec) == "blobs") {
    throw RecordError("storage",
                      "Dataset uses blob storage, not external URLs. Use get_blob_urls() instead.");
  }
  return rec.storage.urls;
}

const std::vector<BlobEntry>& get_blobs(const DatasetRecord& rec) {
  if (get_storage_type(rec) == "external") {
    throw RecordError("storage", "Dataset uses external URL storage, not blobs. Use get_urls() instead.");
  }
  return rec.storage.blobs;
}

std::optional<json::object> get_metadata(const DatasetRecord& rec) {
  if (rec.metadata) return decode_metadata(*rec.metadata);
  if (rec.metadata_object) return *rec.metadata_object;
  return std::nullopt;
}

DatasetRecord DatasetPublisher::make_record(std::string schema_uri, const DatasetPublishOptions& o) {
  if (o.name.empty()) throw InvalidArgument("dataset name is required");
  DatasetRecord rec;
  rec.name = o.name;
  rec.schema_ref = std::move(schema_uri);
  rec.description = o.description;
  rec.tags = o.tags;
  rec.license = o.license;
  if (o.metadata) rec.metadata = encode_metadata(*o.metadata);
  rec.metadata_url = o.metadata_url;
  return rec;
}

void DatasetPublisher::check_draft(DatasetRecord draft, std::optional<std::size_t> pending_blobs) {
  if (draft.schema_ref.empty()) draft.schema_ref = std::string(detail::kPlaceholderSchemaUri);
  if (pending_blobs) {
    std::vector<json::object> refs(*pending_blobs, detail::placeholder_blob_ref());
    draft.storage = StorageLocation::from_blob_refs(std::move(refs));
  }
  detail::check_before_write(nsid::kDatasetRecord, draft.to_record(), "the dataset record");
}

asio::awaitable<AtUri> DatasetPublisher::publish_record(DatasetRecord record, std::string rkey,
                                                        bool validate) {
  json::object value = record.to_record();
  if (validate) detail::check_before_write(nsid::kDatasetRecord, value, "the dataset record");
  atproto::CreateRecordOptions opt;
  opt.rkey = std::move(rkey);
  auto ref = co_await client_->create_record(std::string(nsid::kDatasetRecord), std::move(value), opt);
  co_return AtUri::parse(ref.uri);
}

asio::awaitable<AtUri> DatasetPublisher::publish_with_urls(std::vector<std::string> urls, AtUri schema_uri,
                                                           DatasetPublishOptions options) {
  DatasetRecord rec = make_record(schema_uri.str(), options);
  rec.storage = StorageLocation::external(std::move(urls));
  co_return co_await publish_record(std::move(rec), std::move(options.rkey), options.validate);
}

namespace {

asio::awaitable<std::vector<json::object>> upload_all(
    atproto::AtmosphereClient& client, std::size_t n, const DatasetPublishOptions& options,
    std::function<asio::awaitable<atproto::BlobRef>(std::size_t)> upload) {
  if (!client.is_authenticated()) throw AuthError("Client must be authenticated to perform this operation");
  std::vector<json::object> refs(n);
  std::size_t uploaded = 0;  // task bodies run on for_each_bounded's strand: no lock
  co_await detail::for_each_bounded(n, options.max_in_flight, [&](std::size_t i) -> asio::awaitable<void> {
    atproto::BlobRef ref = co_await upload(i);
    refs[i] = ref.to_json();
    if (options.on_progress) options.on_progress(++uploaded, n);
  });
  co_return refs;
}

}  // namespace

asio::awaitable<AtUri> DatasetPublisher::publish_with_blobs(std::vector<SharedBytes> blobs, AtUri schema_uri,
                                                            DatasetPublishOptions options) {
  DatasetRecord rec = make_record(schema_uri.str(), options);
  // Uploads are wasted when the record cannot be written: check it first.
  if (options.validate) check_draft(rec, blobs.size());
  auto refs = co_await upload_all(*client_, blobs.size(), options, [&](std::size_t i) {
    return client_->upload_blob(blobs[i], options.mime_type);
  });
  rec.storage = StorageLocation::from_blob_refs(std::move(refs));
  co_return co_await publish_record(std::move(rec), std::move(options.rkey), options.validate);
}

asio::awaitable<AtUri> DatasetPublisher::publish_with_blob_files(std::vector<std::string> paths,
                                                                 AtUri schema_uri,
                                                                 DatasetPublishOptions options) {
  DatasetRecord rec = make_record(schema_uri.str(), options);
  if (options.validate) check_draft(rec, paths.size());
  auto refs = co_await upload_all(*client_, paths.size(), options, [&](std::size_t i) {
    return client_->upload_blob_file(paths[i], options.mime_type);
  });
  rec.storage = StorageLocation::from_blob_refs(std::move(refs));
  co_return co_await publish_record(std::move(rec), std::move(options.rkey), options.validate);
}

}  // namespace atdata::atmosphere
