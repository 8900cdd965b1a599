#pragma once
// The small SQLite layer shared by the discovery catalogue and the local
// index: prepared statements compiled once and reset between uses. `Fail`
// turns the connection's last error into the caller's exception type; it
// must not return.

#include <sqlite3.h>

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace atdata::atmosphere::detail {

using SqliteFail = void (*)(sqlite3* db, const std::string& operation, const std::string& what);

// A prepared statement, reset (not finalized) between uses: every statement
// of the write path is compiled once per Catalogue.
template <SqliteFail Fail>
class BasicStmt {
 public:
  BasicStmt() = default;
  BasicStmt(sqlite3* db, std::string_view sql, const char* operation, bool persistent = true) : db_(db) {
    const unsigned flags = persistent ? SQLITE_PREPARE_PERSISTENT : 0;
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), flags, &stmt_, nullptr) !=
        SQLITE_OK) {
      Fail(db, operation, "cannot prepare `" + std::string(sql) + "`");
    }
  }
  BasicStmt(BasicStmt&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}
  BasicStmt& operator=(BasicStmt&& o) noexcept {
    if (this != &o) {
      sqlite3_finalize(stmt_);
      db_ = o.db_;
      stmt_ = std::exchange(o.stmt_, nullptr);
    }
    return *this;
  }
  ~BasicStmt() { sqlite3_finalize(stmt_); }

  // Binds in order (1-based), after a reset.
  BasicStmt& use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    next_ = 1;
    return *this;
  }
  BasicStmt& bind(std::string_view s) {
    check(sqlite3_bind_text(stmt_, next_++, s.data() ? s.data() : "", static_cast<int>(s.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  BasicStmt& bind(std::int64_t v) {
    check(sqlite3_bind_int64(stmt_, next_++, v));
    return *this;
  }
  BasicStmt& bind_blob(std::string_view b) {
    check(sqlite3_bind_blob(stmt_, next_++, b.data() ? b.data() : "", static_cast<int>(b.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  BasicStmt& bind_null() {
    check(sqlite3_bind_null(stmt_, next_++));
    return *this;
  }
  // true: a row is available; false: done.
  bool step(const char* operation) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string sql = sqlite3_sql(stmt_) != nullptr ? sqlite3_sql(stmt_) : "";
    sqlite3_reset(stmt_);
    Fail(db_, operation, "`" + sql.substr(0, 80) + (sql.size() > 80 ? "…" : "") + "` failed");
    std::terminate();  // Fail throws
  }
  void run(const char* operation) {
    while (step(operation)) {
    }
    sqlite3_reset(stmt_);
  }
  void done() { sqlite3_reset(stmt_); }

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p == nullptr ? std::string()
                        : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
  }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p == nullptr ? std::string()
                        : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) Fail(db_, "bind", "cannot bind parameter " + std::to_string(next_ - 1));
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int next_ = 1;
};

template <SqliteFail Fail>
void exec(sqlite3* db, const char* sql, const std::string& operation) {
  // sqlite3_errmsg holds the same text as sqlite3_exec's message until the
  // next call on this connection, which Fail reads first.
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    Fail(db, operation, "cannot run `" + std::string(sql).substr(0, 60) + "`");
  }
}

template <SqliteFail Fail>
std::int64_t pragma_int(sqlite3* db, const char* pragma) {
  BasicStmt<Fail> s(db, std::string("PRAGMA ") + pragma, "open", false);
  s.use();
  const std::int64_t v = s.step("open") ? s.int64(0) : 0;
  s.done();
  return v;
}

}  // namespace atdata::atmosphere::detail
