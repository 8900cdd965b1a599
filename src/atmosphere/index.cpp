#include "atdata/atmosphere/index.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "atdata/atmosphere/metadata.hpp"
#include "atdata/error.hpp"

namespace atdata::atmosphere {

namespace asio = boost::asio;

std::vector<std::string> AtmosphereIndexEntry::data_urls() const {
  if (record_.storage.kind == StorageLocation::Kind::external) return record_.storage.urls;
  return {};
}

std::optional<boost::json::object> AtmosphereIndexEntry::metadata() const {
  return metadata_of(record_);
}

asio::awaitable<AtmosphereIndexEntry> AtmosphereIndex::insert_dataset_urls(
    std::vector<std::string> urls, InsertDatasetOptions o, std::optional<SampleSchema> sample_schema) {
  if (o.name.empty()) throw InvalidArgument("dataset name is required");
  std::string schema_ref = std::move(o.schema_ref);
  DatasetPublishOptions po;
  po.name = std::move(o.name);
  po.description = std::move(o.description);
  po.tags = std::move(o.tags);
  po.license = std::move(o.license);
  po.metadata = std::move(o.metadata);
  po.metadata_url = std::move(o.metadata_url);
  po.validate = o.validate;
  if (schema_ref.empty()) {
    if (!sample_schema) throw InvalidArgument("schema_ref is required when no sample type is known");
    if (o.validate) {
      // Before the schema is published: an invalid dataset leaves nothing behind.
      DatasetRecord draft;
      draft.name = po.name;
      draft.description = po.description;
      draft.tags = po.tags;
      draft.license = po.license;
      if (po.metadata) draft.metadata = encode_metadata(*po.metadata);
      draft.metadata_url = po.metadata_url;
      draft.storage = StorageLocation::external(urls);
      DatasetPublisher::check_draft(std::move(draft));
    }
    SchemaPublishOptions so;
    so.version = o.schema_version;
    so.validate = o.validate;
    schema_ref = (co_await schema_publisher_.publish(*sample_schema, std::move(so))).str();
  }
  AtUri uri =
      co_await dataset_publisher_.publish_with_urls(std::move(urls), std::move(schema_ref), std::move(po));
  // Re-read, as the seed does: the entry reflects what the PDS stored.
  DatasetRecord stored = co_await dataset_loader_.get(uri);
  co_return AtmosphereIndexEntry(std::move(uri), std::move(stored));
}

asio::awaitable<std::string> AtmosphereIndex::uri_text(asio::awaitable<AtUri> a) {
  AtUri uri = co_await std::move(a);
  co_return uri.str();
}

asio::awaitable<AtmosphereIndexEntry> AtmosphereIndex::get_dataset(AtUri uri) {
  DatasetRecord rec = co_await dataset_loader_.get(uri);
  co_return AtmosphereIndexEntry(uri, std::move(rec));
}

asio::awaitable<std::vector<AtmosphereIndexEntry>> AtmosphereIndex::list_datasets(std::string repo) {
  auto listed = co_await dataset_loader_.list_all(std::move(repo));
  std::vector<AtmosphereIndexEntry> out;
  out.reserve(listed.size());
  for (auto& l : listed) out.emplace_back(std::move(l.uri), std::move(l.record));
  co_return out;
}

}  // namespace atdata::atmosphere
