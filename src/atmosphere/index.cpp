#include "atdata/atmosphere/index.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "atdata/atmosphere/discovery.hpp"
#include "atdata/atmosphere/metadata.hpp"
#include "atdata/error.hpp"

namespace atdata::atmosphere {

namespace asio = boost::asio;

std::vector<std::string> AtmosphereIndexEntry::data_urls() const {
  if (record_.storage.kind == StorageLocation::Kind::external) return record_.storage.urls;
  return {};
}

std::optional<boost::json::object> AtmosphereIndexEntry::metadata() const {
  return get_metadata(record_);
}

asio::awaitable<AtmosphereIndexEntry> AtmosphereIndex::insert_dataset_urls(
    std::vector<std::string> urls, DatasetPublishOptions o, std::optional<SampleSchema> sample_schema) {
  if (o.name.empty()) throw InvalidArgument("dataset name is required");
  std::string schema_ref = std::move(o.schema_ref);
  if (schema_ref.empty() && !o.auto_publish_schema) {
    throw InvalidArgument("schema_uri is required when auto_publish_schema=False");
  }
  if (schema_ref.empty() && !sample_schema) {
    throw InvalidArgument("schema_ref is required when no sample type is known");
  }
  if (o.validate) {
    // Before anything is written: an invalid dataset leaves no schema behind,
    // and a schema_ref that is not an AT-URI is named by the lexicon check.
    DatasetRecord draft = DatasetPublisher::make_record(schema_ref, o);
    draft.storage = StorageLocation::external(urls);
    DatasetPublisher::check_draft(std::move(draft));
  }
  if (schema_ref.empty()) {
    SchemaPublishOptions so;
    so.version = o.schema_version;
    so.validate = o.validate;
    schema_ref = (co_await schema_publisher_.publish(*sample_schema, std::move(so))).str();
  }
  AtUri uri = co_await dataset_publisher_.publish_with_urls(std::move(urls), AtUri(schema_ref), std::move(o));
  // Re-read, as Python atdata does: the entry reflects what the PDS stored.
  DatasetRecord stored = co_await dataset_loader_.get(uri);
  co_return AtmosphereIndexEntry(std::move(uri), std::move(stored));
}

asio::awaitable<AtmosphereIndexEntry> AtmosphereIndex::get_dataset(AtUri uri) {
  DatasetRecord rec = co_await dataset_loader_.get(uri);
  co_return AtmosphereIndexEntry(uri, std::move(rec));
}

asio::awaitable<std::vector<AtmosphereIndexEntry>> AtmosphereIndex::list_datasets(std::string repo) {
  auto listed = co_await dataset_loader_.list_all(std::move(repo));
  std::vector<AtmosphereIndexEntry> out;
  out.reserve(listed.size());
  for (auto& l : listed) out.emplace_back(l.uri(), std::move(l).record());
  co_return out;
}

std::unique_ptr<Discovery> AtmosphereIndex::watch(Catalogue& catalogue) {
  return watch(catalogue, DiscoveryConfig());
}

std::unique_ptr<Discovery> AtmosphereIndex::watch(Catalogue& catalogue, DiscoveryConfig config) {
  if (config.hosts.empty() && config.jetstreams.empty()) config.hosts.push_back(client_->service_url());
  return std::make_unique<Discovery>(*client_, catalogue, std::move(config));
}

}  // namespace atdata::atmosphere
