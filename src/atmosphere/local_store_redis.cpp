// The local index in Redis, in Python atdata's keyspace: a hash
// `LocalDatasetEntry:<cid>` per entry, a JSON string `LocalSchema:<kind>@<version>`
// per schema. Writes replace a whole entry inside MULTI/EXEC (Python's HSET
// leaves stale fields behind); listings SCAN with a large COUNT and fetch the
// hashes pipelined, one round trip per SCAN page instead of one per key.

#include <algorithm>
#include <set>

#include "atdata/atmosphere/detail/local_store.hpp"
#include "atdata/atmosphere/local_index.hpp"
#include "atdata/error.hpp"
#include "atdata/net/redis.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace atdata::atmosphere::detail {

namespace {

namespace asio = boost::asio;
using net::RedisClient;
using net::RedisConfig;
using net::RedisRequest;
using net::RespValue;

constexpr std::string_view kEntryPrefix = "LocalDatasetEntry:";
constexpr std::string_view kSchemaPrefix = "LocalSchema:";
constexpr const char* kScanCount = "1000";

[[noreturn]] void bad_reply(const std::string& operation, const std::string& key, const RespValue& v) {
  throw LocalIndexError(
      operation, "redis",
      key + ": unexpected reply" + (v.is_error() ? ": " + std::string(v.str()) : std::string()));
}

std::vector<HashField> hash_fields(const std::string& key, const RespValue& v) {
  if (v.type() != RespValue::Type::array) bad_reply("get", key, v);
  const auto& a = v.array();
  std::vector<HashField> out;
  out.reserve(a.size() / 2);
  for (std::size_t i = 0; i + 1 < a.size(); i += 2)
    out.emplace_back(std::string(a[i].str()), std::string(a[i + 1].str()));
  return out;
}

class RedisStore final : public LocalStore {
 public:
  RedisStore(asio::any_io_executor ex, const LocalIndexConfig& c)
      : client_(std::move(ex), RedisConfig::from_url(c.redis_url)) {}

  std::string_view backend() const noexcept override { return "redis"; }

  asio::awaitable<void> put_entries(std::span<const StoredEntry> entries) override {
    // Batches of a few thousand keep one request's buffers bounded; each
    // batch is one MULTI/EXEC, so a reader never sees a half-written entry.
    constexpr std::size_t kBatch = 2000;
    for (std::size_t at = 0; at < entries.size(); at += kBatch) {
      const std::size_t end = std::min(entries.size(), at + kBatch);
      RedisRequest req;
      req.push("MULTI");
      for (std::size_t i = at; i < end; ++i) {
        const std::string key = std::string(kEntryPrefix) + entries[i].cid;
        req.push("DEL", key);
        req.push_range("HSET", key, entries[i].fields);
      }
      req.push("EXEC");
      std::vector<RespValue> replies = co_await client_.exec(req);
      const RespValue& exec = replies.back();
      // Errors inside a transaction are queued replies ("-ERR" at EXEC time
      // or an EXECABORT); either way nothing may be reported as stored.
      for (const RespValue& r : replies) {
        if (r.is_error()) throw LocalIndexError("insert", "redis", std::string(r.str()));
      }
      if (exec.type() != RespValue::Type::array) bad_reply("insert", "EXEC", exec);
      for (const RespValue& r : exec.array()) {
        if (r.is_error()) throw LocalIndexError("insert", "redis", std::string(r.str()));
      }
    }
  }

  asio::awaitable<std::optional<StoredEntry>> get_entry(std::string cid) override {
    const std::string key = std::string(kEntryPrefix) + cid;
    RedisRequest req;
    req.push("HGETALL", key);
    std::vector<RespValue> r = co_await client_.exec(req);
    std::vector<HashField> fields = hash_fields(key, r.at(0));
    if (fields.empty()) co_return std::nullopt;
    StoredEntry e;
    e.cid = std::move(cid);
    e.fields = std::move(fields);
    co_return e;
  }

  asio::awaitable<std::vector<StoredEntry>> all_entries() override {
    std::vector<std::string> keys = co_await scan(std::string(kEntryPrefix) + "*");
    std::vector<StoredEntry> out;
    out.reserve(keys.size());
    constexpr std::size_t kBatch = 1000;
    for (std::size_t at = 0; at < keys.size(); at += kBatch) {
      const std::size_t end = std::min(keys.size(), at + kBatch);
      RedisRequest req;
      for (std::size_t i = at; i < end; ++i) req.push("HGETALL", keys[i]);
      std::vector<RespValue> r = co_await client_.exec(req);
      for (std::size_t i = at; i < end; ++i) {
        const RespValue& v = r.at(i - at);
        // A key of another type under our prefix (WRONGTYPE), or one deleted
        // between SCAN and HGETALL: not an entry.
        if (v.is_error()) {
          StoredEntry bad;
          bad.cid = keys[i].substr(kEntryPrefix.size());
          bad.error = std::string(v.str());
          out.push_back(std::move(bad));
          continue;
        }
        std::vector<HashField> fields = hash_fields(keys[i], v);
        if (fields.empty()) continue;
        StoredEntry e;
        e.cid = keys[i].substr(kEntryPrefix.size());
        e.fields = std::move(fields);
        out.push_back(std::move(e));
      }
    }
    co_return out;
  }

  asio::awaitable<std::vector<StoredEntry>> entries_named(std::string name) override {
    std::vector<StoredEntry> all = co_await all_entries();
    std::vector<StoredEntry> out;
    for (auto& e : all) {
      for (const auto& [k, v] : e.fields) {
        if (k == "name" && v == name) {
          out.push_back(std::move(e));
          break;
        }
      }
    }
    co_return out;
  }

  asio::awaitable<void> put_schema(StoredSchema schema) override {
    RedisRequest req;
    req.push("SET", std::string(kSchemaPrefix) + schema.key, schema.json);
    std::vector<RespValue> r = co_await client_.exec(req);
    if (r.at(0).is_error()) throw LocalIndexError("publish schema", "redis", std::string(r.at(0).str()));
  }

  asio::awaitable<std::optional<std::string>> get_schema(std::string key) override {
    RedisRequest req;
    req.push("GET", std::string(kSchemaPrefix) + key);
    std::vector<RespValue> r = co_await client_.exec(req);
    const RespValue& v = r.at(0);
    if (v.is_null()) co_return std::nullopt;
    if (v.is_error())
      throw LocalIndexError("get schema", "redis",
                            std::string(kSchemaPrefix) + key + ": " + std::string(v.str()));
    co_return std::string(v.str());
  }

  asio::awaitable<std::vector<StoredSchema>> all_schemas() override {
    std::vector<std::string> keys = co_await scan(std::string(kSchemaPrefix) + "*");
    std::vector<StoredSchema> out;
    if (keys.empty()) co_return out;
    RedisRequest req;
    for (const auto& k : keys) req.push("GET", k);
    std::vector<RespValue> r = co_await client_.exec(req);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const RespValue& v = r.at(i);
      if (v.is_null()) continue;  // deleted since the SCAN
      // WRONGTYPE: listed as an unreadable schema (LocalIndex skips it).
      StoredSchema schema;
      schema.key = keys[i].substr(kSchemaPrefix.size());
      (v.is_error() ? schema.error : schema.json) = std::string(v.str());
      out.push_back(std::move(schema));
    }
    co_return out;
  }

 private:
  // Every key matching `pattern`, each once (SCAN may return a key twice).
  asio::awaitable<std::vector<std::string>> scan(std::string pattern) {
    std::set<std::string> seen;
    std::string cursor = "0";
    do {
      RedisRequest req;
      req.push("SCAN", cursor, "MATCH", pattern, "COUNT", kScanCount);
      std::vector<RespValue> r = co_await client_.exec(req);
      const RespValue& v = r.at(0);
      if (v.type() != RespValue::Type::array || v.array().size() != 2) bad_reply("list", "SCAN", v);
      cursor = std::string(v.array()[0].str());
      for (const RespValue& k : v.array()[1].array()) seen.emplace(k.str());
    } while (cursor != "0");
    co_return std::vector<std::string>(seen.begin(), seen.end());
  }

  RedisClient client_;
};

}  // namespace

std::unique_ptr<LocalStore> open_redis_store(asio::any_io_executor ex, const LocalIndexConfig& config) {
  return std::make_unique<RedisStore>(std::move(ex), config);
}

}  // namespace atdata::atmosphere::detail
