#pragma once
// Where a LocalIndex keeps its entries and schemas: Redis (Python atdata's
// keyspace) or SQLite. Stores move raw hash fields and JSON text; encoding
// and every check live in LocalIndex, so both backends behave alike.

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "atdata/atmosphere/local_entry.hpp"

namespace atdata::atmosphere {
class LocalIndexConfig;
}

namespace atdata::atmosphere::detail {

struct StoredEntry {
  std::string cid;  // the key suffix
  std::vector<HashField> fields;
  std::string error;  // set when the key exists but cannot be read (WRONGTYPE)
};

struct StoredSchema {
  std::string key;  // "<kind>@<version>", the suffix after "LocalSchema:"
  std::string json;
  std::string error;
};

class LocalStore {
 public:
  virtual ~LocalStore() = default;
  virtual std::string_view backend() const noexcept = 0;  // "redis", "sqlite"

  // Each entry replaces whatever was stored under its CID (all fields: a
  // re-add without metadata drops the old metadata), all of them atomically.
  virtual boost::asio::awaitable<void> put_entries(std::span<const StoredEntry> entries) = 0;
  virtual boost::asio::awaitable<std::optional<StoredEntry>> get_entry(std::string cid) = 0;
  // Every entry once (Redis SCAN may repeat keys; the store removes repeats).
  virtual boost::asio::awaitable<std::vector<StoredEntry>> all_entries() = 0;
  virtual boost::asio::awaitable<std::vector<StoredEntry>> entries_named(std::string name) = 0;

  virtual boost::asio::awaitable<void> put_schema(StoredSchema schema) = 0;
  virtual boost::asio::awaitable<std::optional<std::string>> get_schema(std::string key) = 0;
  virtual boost::asio::awaitable<std::vector<StoredSchema>> all_schemas() = 0;
};

// The backends (src/atmosphere/local_store_*.cpp).
std::unique_ptr<LocalStore> open_sqlite_store(const LocalIndexConfig& config);
std::unique_ptr<LocalStore> open_redis_store(boost::asio::any_io_executor ex, const LocalIndexConfig& config);

}  // namespace atdata::atmosphere::detail
