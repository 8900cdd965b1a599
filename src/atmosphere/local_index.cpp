#include "atdata/atmosphere/local_index.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "atdata/atmosphere/detail/local_store.hpp"
#include "atdata/atmosphere/schema_mapping.hpp"
#include "atdata/atproto/cid.hpp"
#include "atdata/error.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace atdata::atmosphere {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kEntryPrefix = "LocalDatasetEntry:";
constexpr std::string_view kSchemaPrefix = "LocalSchema:";

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

detail::StoredEntry to_stored(const LocalDatasetEntry& e) {
  detail::StoredEntry s;
  s.cid = e.cid();
  s.fields = detail::encode_entry_fields(e);
  return s;
}

bool looks_like_cid(std::string_view s) {
  return s.size() > 1 && s[0] == 'b' && atproto::parse_cid_v1_sha256(s).has_value();
}

}  // namespace

std::string LocalIndexConfig::default_path() {
  if (std::string p = env_or_empty("ATDATA_LOCAL_INDEX"); !p.empty()) return p;
  if (std::string x = env_or_empty("XDG_DATA_HOME"); !x.empty()) return x + "/atdata/local-index.sqlite";
  if (std::string h = env_or_empty("HOME"); !h.empty()) return h + "/.local/share/atdata/local-index.sqlite";
  return "atdata-local-index.sqlite";
}

LocalIndexConfig LocalIndexConfig::from_environment() {
  LocalIndexConfig c;
  c.redis_url = env_or_empty("ATDATA_REDIS_URL");
  return c;
}

LocalIndex::LocalIndex(asio::any_io_executor ex, LocalIndexConfig config) : config_(std::move(config)) {
  store_ = config_.redis_url.empty() ? detail::open_sqlite_store(config_)
                                     : detail::open_redis_store(std::move(ex), config_);
}

LocalIndex::~LocalIndex() = default;

std::string_view LocalIndex::backend() const noexcept {
  return store_->backend();
}

void LocalIndex::skip(const std::string& key, const std::string& problem) {
  ++skipped_;
  report(key, "skipped: " + problem);
}

void LocalIndex::report(const std::string& key, const std::string& problem) {
  if (config_.on_problem) config_.on_problem(key, problem);
}

asio::awaitable<LocalDatasetEntry> LocalIndex::add_entry(LocalDatasetEntry entry) {
  const detail::StoredEntry stored = to_stored(entry);
  co_await store_->put_entries(std::span<const detail::StoredEntry>(&stored, 1));
  co_return entry;
}

asio::awaitable<void> LocalIndex::add_entries(std::vector<LocalDatasetEntry> entries) {
  std::vector<detail::StoredEntry> stored;
  stored.reserve(entries.size());
  for (const auto& e : entries) stored.push_back(to_stored(e));
  co_await store_->put_entries(stored);
}

LocalDatasetEntry LocalIndex::decode_stored(const detail::StoredEntry& s, const char* operation) const {
  const std::string key = std::string(kEntryPrefix) + s.cid;
  if (!s.error.empty())
    throw LocalIndexError(operation, std::string(store_->backend()), key + ": " + s.error);
  try {
    return detail::decode_entry_fields(s.fields);
  } catch (const DecodeError& e) {
    throw LocalIndexError(operation, std::string(store_->backend()), key + " cannot be read: " + e.what());
  }
}

asio::awaitable<LocalDatasetEntry> LocalIndex::get_entry(std::string cid) {
  std::optional<detail::StoredEntry> s = co_await store_->get_entry(cid);
  if (!s) throw NotFound("dataset", cid, "LocalDatasetEntry not found: " + cid);
  co_return decode_stored(*s, "get");
}

asio::awaitable<LocalDatasetEntry> LocalIndex::get_entry_by_name(std::string name) {
  std::vector<detail::StoredEntry> found = co_await store_->entries_named(name);
  std::vector<LocalDatasetEntry> entries;
  for (auto& s : found) {
    if (!s.error.empty()) continue;
    try {
      entries.push_back(detail::decode_entry_fields(s.fields));
    } catch (const DecodeError& e) {
      skip(std::string(kEntryPrefix) + s.cid, e.what());
    }
  }
  if (entries.empty()) throw NotFound("dataset", name, "No entry with name: " + name);
  if (entries.size() > 1) {
    std::string cids;
    for (const auto& e : entries) cids += (cids.empty() ? "" : ", ") + e.cid();
    throw InvalidArgument(std::to_string(entries.size()) + " entries are named '" + name +
                          "'; get one by its CID: " + cids);
  }
  co_return std::move(entries.front());
}

asio::awaitable<std::vector<LocalDatasetEntry>> LocalIndex::entries() {
  std::vector<detail::StoredEntry> all = co_await store_->all_entries();
  std::vector<LocalDatasetEntry> out;
  out.reserve(all.size());
  for (auto& s : all) {
    if (!s.error.empty()) {
      skip(std::string(kEntryPrefix) + s.cid, s.error);
      continue;
    }
    try {
      LocalDatasetEntry e = detail::decode_entry_fields(s.fields);
      if (e.cid() != s.cid) {
        // Python trusts the stored cid field; the key is what get_entry
        // finds, so the entry is listed under it, and the difference reported.
        report(std::string(kEntryPrefix) + s.cid,
               "its cid field says " + e.cid() + "; listed under the key's CID");
        e = LocalDatasetEntry::stored(s.cid, e.name(), e.schema_ref(), e.data_urls(), e.metadata(),
                                      e.legacy_uuid());
      }
      out.push_back(std::move(e));
    } catch (const DecodeError& e) {
      skip(std::string(kEntryPrefix) + s.cid, e.what());
    }
  }
  std::sort(out.begin(), out.end(), [](const LocalDatasetEntry& a, const LocalDatasetEntry& b) {
    return a.name() != b.name() ? a.name() < b.name() : a.cid() < b.cid();
  });
  co_return out;
}

asio::awaitable<IndexEntry> LocalIndex::do_insert_dataset(std::vector<std::string> urls,
                                                          DatasetPublishOptions o,
                                                          std::optional<SampleSchema> sample_schema) {
  if (o.name.empty()) throw InvalidArgument("dataset name is required");
  if (urls.empty()) throw InvalidArgument("a dataset needs at least one data URL");
  std::string schema_ref = std::move(o.schema_ref);
  if (schema_ref.empty()) {
    if (!sample_schema || !o.auto_publish_schema) {
      throw InvalidArgument(
          "schema_ref is required when no sample type is known (or auto_publish_schema is off)");
    }
    // Python makes up `local://schemas/<module.Class>@1.0.0` without storing
    // it; publishing makes the reference resolvable.
    SchemaPublishOptions so;
    so.version = o.schema_version;
    schema_ref = co_await do_publish_schema(std::move(*sample_schema), std::move(so));
  }
  LocalDatasetEntry entry(std::move(o.name), std::move(schema_ref), std::move(urls), std::move(o.metadata));
  co_return co_await add_entry(std::move(entry));
}

asio::awaitable<LocalDatasetEntry> LocalIndex::find(std::string cid_or_name) {
  if (looks_like_cid(cid_or_name)) {
    std::optional<detail::StoredEntry> s = co_await store_->get_entry(cid_or_name);
    if (s) co_return decode_stored(*s, "get");
  }
  co_return co_await get_entry_by_name(std::move(cid_or_name));
}

asio::awaitable<IndexEntry> LocalIndex::do_get_dataset(std::string ref_or_name) {
  co_return co_await find(std::move(ref_or_name));
}

asio::awaitable<std::vector<IndexEntry>> LocalIndex::do_list_datasets() {
  std::vector<LocalDatasetEntry> all = co_await entries();
  co_return std::vector<IndexEntry>(std::make_move_iterator(all.begin()), std::make_move_iterator(all.end()));
}

asio::awaitable<std::string> LocalIndex::do_publish_schema(SampleSchema schema,
                                                           SchemaPublishOptions options) {
  std::string kind = options.name.empty() ? schema.name() : options.name;
  if (kind.empty()) throw InvalidArgument("a local schema needs a name (SchemaPublishOptions::name)");
  if (options.version.empty() || options.version.find('@') != std::string::npos) {
    // Python stores such a version under a key its own get_schema cannot find.
    throw InvalidArgument("schema version '" + options.version + "' must be non-empty and contain no '@'");
  }
  SchemaRecord record = schema_record_from(schema, options);
  // Python stores the bare class name; the kind (module.Class) is in the key.
  const std::size_t dot = kind.rfind('.');
  record.name = dot == std::string::npos ? kind : kind.substr(dot + 1);
  LocalSchemaRef ref(std::move(kind), record.version);
  detail::StoredSchema stored;  // named: no aggregate temporary inside co_await (GCC 12)
  stored.key = ref.key();
  stored.json = local_schema_json(record);
  co_await store_->put_schema(std::move(stored));
  co_return ref.str();
}

asio::awaitable<std::string> LocalIndex::get_schema_json(std::string ref) {
  const LocalSchemaRef r = LocalSchemaRef::parse(ref);
  std::optional<std::string> json = co_await store_->get_schema(r.key());
  if (!json) throw NotFound("schema", ref, "Schema not found: " + ref);
  co_return std::move(*json);
}

asio::awaitable<SchemaRecord> LocalIndex::do_get_schema(std::string ref) {
  const std::string json = co_await get_schema_json(ref);
  try {
    co_return parse_local_schema_json(json);
  } catch (const Error& e) {
    throw LocalIndexError(
        "get schema", std::string(store_->backend()),
        std::string(kSchemaPrefix) + LocalSchemaRef::parse(ref).key() + " cannot be read: " + e.what());
  }
}

asio::awaitable<std::vector<IndexedSchema>> LocalIndex::do_list_schemas() {
  std::vector<detail::StoredSchema> all = co_await store_->all_schemas();
  std::vector<IndexedSchema> out;
  out.reserve(all.size());
  for (auto& s : all) {
    if (!s.error.empty()) {
      skip(std::string(kSchemaPrefix) + s.key, s.error);
      continue;
    }
    try {
      out.emplace_back("local://schemas/" + s.key, parse_local_schema_json(s.json));
    } catch (const Error& e) {
      skip(std::string(kSchemaPrefix) + s.key, e.what());
    }
  }
  std::sort(out.begin(), out.end(),
            [](const IndexedSchema& a, const IndexedSchema& b) { return a.ref() < b.ref(); });
  co_return out;
}

asio::awaitable<std::shared_ptr<const SampleSchema>> LocalIndex::do_decode_schema(std::string ref) {
  SchemaRecord record = co_await do_get_schema(std::move(ref));
  co_return std::make_shared<const SampleSchema>(to_sample_schema(record));
}

}  // namespace atdata::atmosphere
