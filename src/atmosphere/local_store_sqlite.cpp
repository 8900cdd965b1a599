// The local index in one SQLite file. Entries keep Python's field encodings
// (data_urls and metadata as msgpack) so a row converts to the Redis hash and
// back without a second codec. WAL lets readers run beside a writer in
// another process; every write is one transaction, so a crash mid-insert
// leaves either the old entries or the new ones.

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "atdata/atmosphere/detail/local_store.hpp"
#include "atdata/atmosphere/local_index.hpp"
#include "atdata/error.hpp"
#include "detail/sqlite.hpp"

// GCC 12 reports a false -Wmismatched-new-delete on Asio coroutine frames
// (awaitable_frame_base has matching class-level new/delete; GCC PR 109224).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace atdata::atmosphere::detail {

namespace {

namespace asio = boost::asio;

[[noreturn]] void fail(sqlite3* db, const std::string& operation, const std::string& what) {
  const int code = db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  throw LocalIndexError(operation, "sqlite",
                        what + ": " + (db != nullptr ? sqlite3_errmsg(db) : "out of memory"), code);
}

using Stmt = BasicStmt<&fail>;
constexpr auto exec = &detail::exec<&fail>;

// 'atdl': tells our files from other SQLite databases (the catalogue is 'atdc').
constexpr int kApplicationId = 0x6174646c;
constexpr int kFormatVersion = 1;

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE entries(
  cid TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  schema_ref TEXT NOT NULL,
  data_urls BLOB NOT NULL,
  metadata BLOB,
  legacy_uuid TEXT,
  inserted_at_us INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX entries_name ON entries(name);
CREATE TABLE schemas(key TEXT PRIMARY KEY, json TEXT NOT NULL) WITHOUT ROWID;
)sql";

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SqliteStore final : public LocalStore {
 public:
  explicit SqliteStore(const LocalIndexConfig& c) {
    std::string target = ":memory:";
    if (!c.in_memory) {
      target = c.path.empty() ? LocalIndexConfig::default_path() : c.path;
      const std::filesystem::path parent = std::filesystem::path(target).parent_path();
      std::error_code ec;
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    }
    where_ = target;
    const int rc = sqlite3_open_v2(target.c_str(), &db_,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw LocalIndexError("open", "sqlite", "cannot open " + target + ": " + msg, rc);
    }
    try {
      setup(c);
    } catch (...) {
      close();
      throw;
    }
  }
  ~SqliteStore() override { close(); }

  std::string_view backend() const noexcept override { return "sqlite"; }

  asio::awaitable<void> put_entries(std::span<const StoredEntry> entries) override {
    exec(db_, "BEGIN IMMEDIATE", "insert");
    try {
      const std::int64_t t = now_us();
      for (const StoredEntry& e : entries) {
        auto& s = upsert_.use();
        const std::string* name = find_field(e.fields, "name");
        const std::string* ref = find_field(e.fields, "schema_ref");
        const std::string* urls = find_field(e.fields, "data_urls");
        const std::string* meta = find_field(e.fields, "metadata");
        const std::string* legacy = find_field(e.fields, "legacy_uuid");
        s.bind(e.cid).bind(name ? *name : "").bind(ref ? *ref : "").bind_blob(urls ? *urls : "");
        meta ? s.bind_blob(*meta) : s.bind_null();
        legacy ? s.bind(*legacy) : s.bind_null();
        s.bind(t);
        s.run("insert");
      }
      exec(db_, "COMMIT", "insert");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    co_return;
  }

  asio::awaitable<std::optional<StoredEntry>> get_entry(std::string cid) override {
    auto& s = get_.use().bind(cid);
    std::optional<StoredEntry> out;
    if (s.step("get")) out = read_row(s);
    s.done();
    co_return out;
  }

  asio::awaitable<std::vector<StoredEntry>> all_entries() override {
    auto& s = all_.use();
    std::vector<StoredEntry> out;
    while (s.step("list")) out.push_back(read_row(s));
    s.done();
    co_return out;
  }

  asio::awaitable<std::vector<StoredEntry>> entries_named(std::string name) override {
    auto& s = named_.use().bind(name);
    std::vector<StoredEntry> out;
    while (s.step("get")) out.push_back(read_row(s));
    s.done();
    co_return out;
  }

  asio::awaitable<void> put_schema(StoredSchema schema) override {
    upsert_schema_.use().bind(schema.key).bind(schema.json).run("publish schema");
    co_return;
  }

  asio::awaitable<std::optional<std::string>> get_schema(std::string key) override {
    auto& s = get_schema_.use().bind(key);
    std::optional<std::string> out;
    if (s.step("get schema")) out = s.text(0);
    s.done();
    co_return out;
  }

  asio::awaitable<std::vector<StoredSchema>> all_schemas() override {
    auto& s = all_schemas_.use();
    std::vector<StoredSchema> out;
    while (s.step("list schemas")) {
      StoredSchema schema;
      schema.key = s.text(0);
      schema.json = s.text(1);
      out.push_back(std::move(schema));
    }
    s.done();
    co_return out;
  }

 private:
  void setup(const LocalIndexConfig& c) {
    sqlite3_busy_timeout(db_, static_cast<int>(std::min<std::int64_t>(c.busy_timeout.count(), 1 << 30)));
    if (!c.in_memory) {
      exec(db_, "PRAGMA journal_mode=WAL", "open");
      exec(db_, "PRAGMA synchronous=NORMAL", "open");
    }
    exec(db_, "BEGIN IMMEDIATE", "open");
    try {
      Stmt app(db_, "PRAGMA application_id", "open", false);
      const std::int64_t app_id = app.use().step("open") ? app.int64(0) : 0;
      app.done();
      Stmt ver(db_, "PRAGMA user_version", "open", false);
      const std::int64_t version = ver.use().step("open") ? ver.int64(0) : 0;
      ver.done();
      Stmt tables(db_, "SELECT count(*) FROM sqlite_master", "open", false);
      const std::int64_t n = tables.use().step("open") ? tables.int64(0) : 0;
      tables.done();
      if (n == 0) {
        exec(db_, kSchemaSql, "open");
        exec(db_, ("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str(), "open");
        exec(db_, ("PRAGMA user_version=" + std::to_string(kFormatVersion)).c_str(), "open");
      } else if (app_id != kApplicationId) {
        throw LocalIndexError("open", "sqlite",
                              where_ + " is an SQLite database but not an atdata local index");
      } else if (version > kFormatVersion) {
        throw LocalIndexError("open", "sqlite",
                              where_ + " was written by a newer atdata (format " + std::to_string(version) +
                                  ", this one reads " + std::to_string(kFormatVersion) + ")");
      }
      exec(db_, "COMMIT", "open");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    upsert_ =
        Stmt(db_,
             "INSERT INTO entries(cid, name, schema_ref, data_urls, metadata, legacy_uuid, inserted_at_us) "
             "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(cid) DO UPDATE SET name=excluded.name, "
             "schema_ref=excluded.schema_ref, data_urls=excluded.data_urls, metadata=excluded.metadata, "
             "legacy_uuid=excluded.legacy_uuid",
             "open");
    constexpr const char* cols =
        "SELECT cid, name, schema_ref, data_urls, metadata, legacy_uuid FROM entries ";
    get_ = Stmt(db_, std::string(cols) + "WHERE cid = ?", "open");
    all_ = Stmt(db_, std::string(cols) + "ORDER BY name, cid", "open");
    named_ = Stmt(db_, std::string(cols) + "WHERE name = ? ORDER BY cid", "open");
    upsert_schema_ = Stmt(db_, "INSERT OR REPLACE INTO schemas(key, json) VALUES (?, ?)", "open");
    get_schema_ = Stmt(db_, "SELECT json FROM schemas WHERE key = ?", "open");
    all_schemas_ = Stmt(db_, "SELECT key, json FROM schemas ORDER BY key", "open");
  }

  static StoredEntry read_row(const Stmt& s) {
    StoredEntry e;
    e.cid = s.text(0);
    e.fields.reserve(6);
    e.fields.emplace_back("name", s.text(1));
    e.fields.emplace_back("schema_ref", s.text(2));
    e.fields.emplace_back("data_urls", s.blob(3));
    e.fields.emplace_back("cid", e.cid);
    if (!s.is_null(4)) e.fields.emplace_back("metadata", s.blob(4));
    if (!s.is_null(5)) e.fields.emplace_back("legacy_uuid", s.text(5));
    return e;
  }

  void close() {
    for (Stmt* s : {&upsert_, &get_, &all_, &named_, &upsert_schema_, &get_schema_, &all_schemas_})
      *s = Stmt();
    if (db_ != nullptr) sqlite3_close(db_);
    db_ = nullptr;
  }

  sqlite3* db_ = nullptr;
  std::string where_;
  Stmt upsert_, get_, all_, named_, upsert_schema_, get_schema_, all_schemas_;
};

}  // namespace

std::unique_ptr<LocalStore> open_sqlite_store(const LocalIndexConfig& config) {
  return std::make_unique<SqliteStore>(config);
}

}  // namespace atdata::atmosphere::detail
