#include "atdata/atmosphere/index.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include "atdata/atmosphere/discovery.hpp"
#include "atdata/atmosphere/metadata.hpp"
#include "atdata/error.hpp"

namespace atdata::atmosphere {

namespace asio = boost::asio;

namespace {

std::vector<std::string> external_urls(const DatasetRecord& r) {
  if (r.storage.kind == StorageLocation::Kind::external) return r.storage.urls;
  return {};
}

// Through Index, a missing record is NotFound, as in the local index.
bool is_not_found(const XrpcError& e) {
  return e.error() == "RecordNotFound";
}

}  // namespace

AtmosphereIndexEntry::AtmosphereIndexEntry(AtUri uri, DatasetRecord record)
    : IndexEntry(record.name, record.schema_ref, external_urls(record), get_metadata(record), uri.str()),
      uri_(std::move(uri)),
      record_(std::move(record)) {}

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

asio::awaitable<IndexEntry> AtmosphereIndex::do_insert_dataset(std::vector<std::string> urls,
                                                               DatasetPublishOptions options,
                                                               std::optional<SampleSchema> sample_schema) {
  co_return co_await insert_dataset_urls(std::move(urls), std::move(options), std::move(sample_schema));
}

asio::awaitable<IndexEntry> AtmosphereIndex::do_get_dataset(std::string ref_or_name) {
  if (ref_or_name.rfind("at://", 0) == 0) {
    AtUri uri(ref_or_name);
    try {
      co_return co_await get_dataset(std::move(uri));
    } catch (const XrpcError& e) {
      if (!is_not_found(e)) throw;
      throw NotFound("dataset", ref_or_name, ref_or_name + ": " + e.what());
    }
  }
  std::vector<AtmosphereIndexEntry> all = co_await list_datasets();
  std::vector<AtmosphereIndexEntry*> named;
  for (auto& e : all) {
    if (e.name() == ref_or_name) named.push_back(&e);
  }
  if (named.empty()) throw NotFound("dataset", ref_or_name, "No dataset record named: " + ref_or_name);
  if (named.size() > 1) {
    std::string uris;
    for (const auto* e : named) uris += (uris.empty() ? "" : ", ") + e->uri().str();
    throw InvalidArgument(std::to_string(named.size()) + " dataset records are named '" + ref_or_name +
                          "'; get one by its AT-URI: " + uris);
  }
  co_return std::move(*named.front());
}

asio::awaitable<std::vector<IndexEntry>> AtmosphereIndex::do_list_datasets() {
  std::vector<AtmosphereIndexEntry> all = co_await list_datasets();
  co_return std::vector<IndexEntry>(std::make_move_iterator(all.begin()), std::make_move_iterator(all.end()));
}

asio::awaitable<std::string> AtmosphereIndex::do_publish_schema(SampleSchema schema,
                                                                SchemaPublishOptions options) {
  AtUri uri = co_await schema_publisher_.publish(schema, std::move(options));
  co_return uri.str();
}

asio::awaitable<SchemaRecord> AtmosphereIndex::do_get_schema(std::string ref) {
  AtUri uri(ref);
  try {
    co_return co_await get_schema(std::move(uri));
  } catch (const XrpcError& e) {
    if (!is_not_found(e)) throw;
    throw NotFound("schema", ref, ref + ": " + e.what());
  }
}

asio::awaitable<std::vector<IndexedSchema>> AtmosphereIndex::do_list_schemas() {
  std::vector<Listed<SchemaRecord>> all = co_await list_schemas();
  std::vector<IndexedSchema> out;
  out.reserve(all.size());
  for (auto& l : all) out.emplace_back(l.uri().str(), std::move(l).record());
  co_return out;
}

asio::awaitable<std::shared_ptr<const SampleSchema>> AtmosphereIndex::do_decode_schema(std::string ref) {
  AtUri uri(ref);
  try {
    co_return co_await decode_schema(std::move(uri));
  } catch (const XrpcError& e) {
    if (!is_not_found(e)) throw;
    throw NotFound("schema", ref, ref + ": " + e.what());
  }
}

}  // namespace atdata::atmosphere
