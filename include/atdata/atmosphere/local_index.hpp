#pragma once
// LocalIndex: Python atdata's local index (`atdata.local.Index`) in C++, over
// Redis — the same keys and bytes, so a Python user's index is readable here
// and the other way round — or over one SQLite file, the embedded default
// when no Redis URL is given. It implements `Index`, so code written against
// that interface works with this index and with AtmosphereIndex alike.
//
// Where Python's index misbehaves, this one does not (docs/local-index.md):
// a re-add replaces the whole entry (no stale metadata), listings skip and
// report entries they cannot decode instead of failing, a name shared by
// several entries is an error naming them, a version containing '@' is
// refused, and an insert without a schema_ref publishes the sample schema.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "atdata/atmosphere/abstract_index.hpp"
#include "atdata/atmosphere/local_entry.hpp"
#include "atdata/atmosphere/local_schema.hpp"
#include "atdata/core/detail/chained_options.hpp"

namespace atdata::atmosphere {

namespace detail {
class LocalStore;
struct StoredEntry;
}  // namespace detail

// Not an aggregate (see docs/gcc12.md).
class LocalIndexConfig : public atdata::detail::ChainedOptions<LocalIndexConfig> {
 public:
  LocalIndexConfig() = default;

  // redis://[user:password@]host[:port][/db]: the Redis backend. Empty = SQLite.
  std::string redis_url;
  // The SQLite file (created with its directory when missing). Empty =
  // default_path(). Ignored with a redis_url or in_memory.
  std::string path;
  // SQLite in memory: nothing persists (tests, embedding).
  bool in_memory = false;
  // How long a SQLite write waits for another process's transaction.
  std::chrono::milliseconds busy_timeout{10000};
  // Listings skip an entry or schema they cannot decode, and list an entry
  // whose `cid` field disagrees with its key under the key; each time this is
  // called with the key ("LocalDatasetEntry:<cid>") and what was wrong
  // ("skipped: …" for a skip). Unset = silently.
  std::function<void(const std::string& key, const std::string& problem)> on_problem;

  // $ATDATA_LOCAL_INDEX, else $XDG_DATA_HOME/atdata/local-index.sqlite, else
  // ~/.local/share/atdata/local-index.sqlite.
  static std::string default_path();
  // redis_url from $ATDATA_REDIS_URL when set, else SQLite at default_path().
  static LocalIndexConfig from_environment();

  LocalIndexConfig&& with_redis_url(std::string v) && { return set(redis_url, std::move(v)); }
  LocalIndexConfig&& with_path(std::string v) && { return set(path, std::move(v)); }
  LocalIndexConfig&& with_in_memory(bool v) && { return set(in_memory, v); }
};

class LocalIndex final : public Index {
 public:
  // Opens (or creates) the SQLite file now; a Redis connection is made on
  // first use. Throws LocalIndexError / InvalidArgument.
  explicit LocalIndex(boost::asio::any_io_executor ex, LocalIndexConfig config = LocalIndexConfig());
  ~LocalIndex() override;
  LocalIndex(const LocalIndex&) = delete;
  LocalIndex& operator=(const LocalIndex&) = delete;

  std::string_view kind() const noexcept override { return "local"; }
  std::string_view backend() const noexcept;  // "redis" or "sqlite"

  // Python's add_entry: stores the entry under its CID, replacing any entry
  // with the same CID (same schema_ref and URLs) entirely.
  boost::asio::awaitable<LocalDatasetEntry> add_entry(LocalDatasetEntry entry);
  // Many at once: one Redis round trip (pipelined) or one SQLite transaction.
  boost::asio::awaitable<void> add_entries(std::vector<LocalDatasetEntry> entries);

  // Throws NotFound ("LocalDatasetEntry not found: <cid>").
  boost::asio::awaitable<LocalDatasetEntry> get_entry(std::string cid);
  // Throws NotFound ("No entry with name: <name>") or, when several entries
  // share the name, InvalidArgument listing their CIDs.
  boost::asio::awaitable<LocalDatasetEntry> get_entry_by_name(std::string name);
  // By CID, else by name (as get_dataset, with the richer entry).
  boost::asio::awaitable<LocalDatasetEntry> find(std::string cid_or_name);
  // Every entry, each once, sorted by name then CID (Redis' SCAN order is
  // arbitrary); undecodable ones are skipped and reported (on_problem).
  boost::asio::awaitable<std::vector<LocalDatasetEntry>> entries();

  // The stored JSON text of a schema (Python's `json.dumps` layout).
  boost::asio::awaitable<std::string> get_schema_json(std::string ref);

  // Entries and schemas skipped by listings since this index was opened.
  std::size_t skipped() const noexcept { return skipped_; }

 private:
  boost::asio::awaitable<IndexEntry> do_insert_dataset(std::vector<std::string> urls,
                                                       DatasetPublishOptions options,
                                                       std::optional<SampleSchema> sample_schema) override;
  boost::asio::awaitable<IndexEntry> do_get_dataset(std::string ref_or_name) override;
  boost::asio::awaitable<std::vector<IndexEntry>> do_list_datasets() override;
  boost::asio::awaitable<std::string> do_publish_schema(SampleSchema schema,
                                                        SchemaPublishOptions options) override;
  boost::asio::awaitable<SchemaRecord> do_get_schema(std::string ref) override;
  boost::asio::awaitable<std::vector<IndexedSchema>> do_list_schemas() override;
  boost::asio::awaitable<std::shared_ptr<const SampleSchema>> do_decode_schema(std::string ref) override;

  // Throws LocalIndexError naming the key when the stored entry cannot be read.
  LocalDatasetEntry decode_stored(const detail::StoredEntry& s, const char* operation) const;
  void skip(const std::string& key, const std::string& problem);
  void report(const std::string& key, const std::string& problem);

  LocalIndexConfig config_;
  std::unique_ptr<detail::LocalStore> store_;
  std::size_t skipped_ = 0;
};

}  // namespace atdata::atmosphere
