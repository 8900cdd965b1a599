#include "atdata/atmosphere/catalogue.hpp"

#include <sqlite3.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <map>
#include <new>
#include <set>
#include <utility>

#include "atdata/atmosphere/dataset_record.hpp"
#include "atdata/atmosphere/lens_record.hpp"
#include "atdata/atmosphere/schema_record.hpp"
#include "atdata/error.hpp"
#include "detail/sqlite.hpp"

namespace atdata::atmosphere {

namespace json = boost::json;

namespace {

// 'atdc': tells our files from other SQLite databases.
constexpr int kApplicationId = 0x61746463;

[[noreturn]] void fail(sqlite3* db, const std::string& operation, const std::string& what) {
  const int code = db != nullptr ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  throw CatalogueError(operation, db != nullptr ? sqlite3_errmsg(db) : "out of memory", what, code);
}

using Stmt = detail::BasicStmt<&fail>;
constexpr auto exec = &detail::exec<&fail>;
constexpr auto pragma_int = &detail::pragma_int<&fail>;

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE entries(
  id INTEGER PRIMARY KEY,
  did TEXT NOT NULL, collection TEXT NOT NULL, rkey TEXT NOT NULL,
  cid TEXT NOT NULL, kind TEXT NOT NULL,
  name TEXT NOT NULL, description TEXT NOT NULL, tags TEXT NOT NULL,
  schema_ref TEXT NOT NULL, schema_version TEXT NOT NULL,
  lens_source TEXT NOT NULL, lens_target TEXT NOT NULL,
  record TEXT NOT NULL, time_us INTEGER NOT NULL, indexed_at_us INTEGER NOT NULL,
  UNIQUE(did, collection, rkey));
CREATE INDEX entries_newest ON entries(time_us DESC, indexed_at_us DESC, id DESC);
CREATE INDEX entries_schema_ref ON entries(schema_ref) WHERE schema_ref <> '';
CREATE INDEX entries_name ON entries(name);
CREATE TABLE entry_tags(tag TEXT NOT NULL, entry_id INTEGER NOT NULL, PRIMARY KEY(tag, entry_id)) WITHOUT ROWID;
CREATE INDEX entry_tags_entry ON entry_tags(entry_id);
CREATE VIRTUAL TABLE entries_fts USING fts5(name, description, tags, content='entries', content_rowid='id');
CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN
  INSERT INTO entries_fts(rowid, name, description, tags) VALUES (new.id, new.name, new.description, new.tags);
  INSERT OR IGNORE INTO entry_tags(tag, entry_id) SELECT value, new.id FROM json_each(new.tags);
END;
CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN
  INSERT INTO entries_fts(entries_fts, rowid, name, description, tags)
    VALUES ('delete', old.id, old.name, old.description, old.tags);
  DELETE FROM entry_tags WHERE entry_id = old.id;
END;
CREATE TRIGGER entries_au AFTER UPDATE ON entries BEGIN
  INSERT INTO entries_fts(entries_fts, rowid, name, description, tags)
    VALUES ('delete', old.id, old.name, old.description, old.tags);
  INSERT INTO entries_fts(rowid, name, description, tags) VALUES (new.id, new.name, new.description, new.tags);
  DELETE FROM entry_tags WHERE entry_id = old.id;
  INSERT OR IGNORE INTO entry_tags(tag, entry_id) SELECT value, new.id FROM json_each(new.tags);
END;
CREATE TABLE cursors(source TEXT PRIMARY KEY, cursor INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE repos(did TEXT PRIMARY KEY, backfilled_at_us INTEGER, rev TEXT NOT NULL DEFAULT '',
                   source TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
CREATE TABLE accounts(did TEXT PRIMARY KEY, active INTEGER NOT NULL, status TEXT) WITHOUT ROWID;
)sql";

constexpr const char* kEntryColumns =
    "did, collection, rkey, cid, kind, name, description, tags, schema_ref, schema_version, lens_source, "
    "lens_target, record, time_us, indexed_at_us";

std::int64_t to_us(Timestamp t) {
  return t.time_since_epoch().count();
}
Timestamp from_us(std::int64_t us) {
  return Timestamp(std::chrono::microseconds(us));
}

RecordKind kind_from_text(const std::string& s) {
  if (s == "schema") return RecordKind::schema;
  if (s == "lens") return RecordKind::lens;
  if (s == "dataset") return RecordKind::dataset;
  throw CatalogueError("read", "", "stored entry has unknown kind '" + s + "'");
}

// Reads the columns of kEntryColumns starting at `c`.
CatalogueEntry read_entry(const Stmt& s, int c = 0) {
  CatalogueEntry e;
  e.did = s.text(c + 0);
  e.collection = s.text(c + 1);
  e.rkey = s.text(c + 2);
  e.uri = AtUri(e.did, e.collection, e.rkey);
  e.cid = s.text(c + 3);
  e.kind = kind_from_text(s.text(c + 4));
  e.name = s.text(c + 5);
  e.description = s.text(c + 6);
  const std::string tags = s.text(c + 7);
  const std::string record = s.text(c + 12);
  boost::system::error_code ec;
  json::value tv = json::parse(tags, ec);
  if (!ec && tv.is_array()) {
    for (const json::value& t : tv.as_array()) {
      if (t.is_string()) e.tags.emplace_back(t.as_string());
    }
  }
  json::value rv = json::parse(record, ec);
  if (ec || !rv.is_object()) {
    throw CatalogueError("read", "", "stored record of " + e.uri.str() + " is not a JSON object");
  }
  e.record = std::move(rv.as_object());
  e.schema_ref = s.text(c + 8);
  e.schema_version = s.text(c + 9);
  e.lens_source = s.text(c + 10);
  e.lens_target = s.text(c + 11);
  e.time = from_us(s.int64(c + 13));
  e.indexed_at = from_us(s.int64(c + 14));
  return e;
}

// What the typed reader of the record's kind takes out of it; throws what
// the reader throws when the record does not read as that kind.
struct Extracted {
  std::string name, description, schema_ref, schema_version, lens_source, lens_target;
  std::vector<std::string> tags;
  Timestamp created_at{};
};

Extracted extract(RecordKind kind, const json::object& record) {
  const json::value v(record);
  Extracted x;
  // What every kind has.
  const auto common = [&x](auto& r) {
    x.name = std::move(r.name);
    x.description = std::move(r.description);
    x.created_at = r.created_at;
  };
  switch (kind) {
    case RecordKind::schema: {
      SchemaRecord r = SchemaRecord::from_record(v);
      common(r);
      x.schema_version = std::move(r.version);
      break;
    }
    case RecordKind::dataset: {
      DatasetRecord r = DatasetRecord::from_record(v);
      common(r);
      x.schema_ref = std::move(r.schema_ref);
      x.tags = std::move(r.tags);
      break;
    }
    case RecordKind::lens: {
      LensRecord r = LensRecord::from_record(v);
      common(r);
      x.lens_source = std::move(r.source_schema);
      x.lens_target = std::move(r.target_schema);
      break;
    }
  }
  return x;
}

// Each word becomes a quoted FTS5 phrase ("" escapes a quote), so that no
// user text is FTS5 syntax; the phrases are ANDed.
std::string fts_query(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    if (i >= text.size()) break;
    if (!out.empty()) out += ' ';
    out += '"';
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') {
      if (text[i] == '"') out += '"';
      out += text[i++];
    }
    out += '"';
  }
  // The last word is a prefix ("dig" finds "digits"): what a user typing a
  // query expects.
  if (!out.empty()) out += '*';
  return out;
}

// The smallest string greater than every string starting with `prefix`
// (bytewise, as SQLite's BINARY collation compares); empty when none.
std::string prefix_upper_bound(std::string prefix) {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xFF) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

}  // namespace

bool is_catalogue_collection(std::string_view collection) noexcept {
  return classify_record_type(collection).has_value();
}

struct Catalogue::Impl {
  CatalogueOptions options;
  sqlite3* db = nullptr;

  Stmt begin, commit, rollback;
  Stmt sel_cursor, max_cursor, set_cursor;
  Stmt sel_existing, ins_entry, upd_entry, del_entry, sel_entry, sel_did_entries;
  Stmt mark_repo, sel_repo, upsert_account, sel_account;
  Stmt count_all, count_kinds;

  explicit Impl(const CatalogueOptions& o) : options(o) {
    if (o.read_only && o.path.empty()) throw InvalidArgument("CatalogueOptions.read_only needs a path");
    const std::string target = o.path.empty() ? std::string(":memory:") : o.path;
    const int flags = (o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX;
    const int rc = sqlite3_open_v2(target.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      db = nullptr;
      throw CatalogueError("open", msg, "cannot open " + target, rc);
    }
    try {
      setup();
    } catch (...) {
      close();
      throw;
    }
  }
  ~Impl() { close(); }

  void close() {
    // Statements first: sqlite3_close refuses while any is alive.
    for (Stmt* s : {&begin, &commit, &rollback, &sel_cursor, &max_cursor, &set_cursor, &sel_existing,
                    &ins_entry, &upd_entry, &del_entry, &sel_entry, &sel_did_entries, &mark_repo, &sel_repo,
                    &upsert_account, &sel_account, &count_all, &count_kinds}) {
      *s = Stmt();
    }
    if (db != nullptr) sqlite3_close(db);
    db = nullptr;
  }

  void setup() {
    const std::string where = options.path.empty() ? std::string("in-memory catalogue") : options.path;
    sqlite3_busy_timeout(db, static_cast<int>(std::min<std::int64_t>(options.busy_timeout.count(), 1 << 30)));
    if (sqlite3_compileoption_used("ENABLE_FTS5") == 0) {
      throw CatalogueError("open", "",
                           "the SQLite library in use was built without FTS5, which the catalogue needs");
    }
    if (options.read_only) {
      // Nothing to create or configure: the writer made the file WAL.
      if (check_format(where, false)) {
        throw CatalogueError("open", "", where + " is not an atdata catalogue yet (nothing has written it)");
      }
      prepare();
      return;
    }
    if (!options.path.empty()) {
      // WAL: readers (a `search` beside a `watch`) do not block the writer, and
      // with synchronous=NORMAL a commit costs no fsync yet survives SIGKILL.
      exec(db, "PRAGMA journal_mode=WAL", "open");
    }
    switch (options.synchronous) {
      case CatalogueOptions::Synchronous::off:
        exec(db, "PRAGMA synchronous=OFF", "open");
        break;
      case CatalogueOptions::Synchronous::normal:
        exec(db, "PRAGMA synchronous=NORMAL", "open");
        break;
      case CatalogueOptions::Synchronous::full:
        exec(db, "PRAGMA synchronous=FULL", "open");
        break;
    }
    check_format(where, false);
    exec(db, "BEGIN IMMEDIATE", "open");
    try {
      // Another process may have created the schema while we waited.
      if (check_format(where, true)) {
        exec(db, kSchemaSql, "open");
        exec(db, ("PRAGMA application_id=" + std::to_string(kApplicationId)).c_str(), "open");
        exec(db, ("PRAGMA user_version=" + std::to_string(kFormatVersion)).c_str(), "open");
      }
      exec(db, "COMMIT", "open");
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
    prepare();
  }

  // true when the file is new (must be created); throws when it is not ours
  // or newer.
  bool check_format(const std::string& where, bool in_tx) {
    const std::int64_t app = pragma_int(db, "application_id");
    const std::int64_t version = pragma_int(db, "user_version");
    if (app != 0 && app != kApplicationId) {
      throw CatalogueError("open", "",
                           where + " is an SQLite database of another application, not an atdata catalogue");
    }
    if (version > Catalogue::kFormatVersion) {
      throw CatalogueError("open", "",
                           where + " has catalogue format version " + std::to_string(version) +
                               "; this atdata reads up to version " +
                               std::to_string(Catalogue::kFormatVersion) +
                               " (written by a newer version of atdata: upgrade, or use another file)");
    }
    if (app == 0 && version == 0) {
      if (in_tx) {
        Stmt s(db, "SELECT count(*) FROM sqlite_schema", "open", false);
        s.use();
        const std::int64_t n = s.step("open") ? s.int64(0) : 0;
        s.done();
        if (n != 0)
          throw CatalogueError("open", "", where + " is an SQLite database that is not an atdata catalogue");
      }
      return true;
    }
    if (version == 0 || app == 0) {
      throw CatalogueError("open", "", where + " is not an atdata catalogue (format marks missing)");
    }
    return false;
  }

  void prepare() {
    begin = Stmt(db, "BEGIN IMMEDIATE", "prepare");
    commit = Stmt(db, "COMMIT", "prepare");
    rollback = Stmt(db, "ROLLBACK", "prepare");
    sel_cursor = Stmt(db, "SELECT cursor FROM cursors WHERE source = ?", "prepare");
    max_cursor = Stmt(db,
                      "INSERT INTO cursors(source, cursor) VALUES (?, ?) "
                      "ON CONFLICT(source) DO UPDATE SET cursor = max(cursor, excluded.cursor)",
                      "prepare");
    set_cursor = Stmt(db,
                      "INSERT INTO cursors(source, cursor) VALUES (?, ?) "
                      "ON CONFLICT(source) DO UPDATE SET cursor = excluded.cursor",
                      "prepare");
    sel_existing =
        Stmt(db, "SELECT id, cid FROM entries WHERE did = ? AND collection = ? AND rkey = ?", "prepare");
    ins_entry = Stmt(db,
                     std::string("INSERT INTO entries(") + kEntryColumns +
                         ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "prepare");
    upd_entry =
        Stmt(db,
             "UPDATE entries SET cid = ?, kind = ?, name = ?, description = ?, tags = ?, schema_ref = ?, "
             "schema_version = ?, lens_source = ?, lens_target = ?, record = ?, time_us = ?, "
             "indexed_at_us = ? WHERE id = ?",
             "prepare");
    del_entry =
        Stmt(db,
             std::string("DELETE FROM entries WHERE did = ? AND collection = ? AND rkey = ? RETURNING ") +
                 kEntryColumns,
             "prepare");
    sel_entry = Stmt(db,
                     std::string("SELECT ") + kEntryColumns +
                         " FROM entries WHERE did = ? AND collection = ? AND rkey = ?",
                     "prepare");
    sel_did_entries =
        Stmt(db, std::string("SELECT ") + kEntryColumns + " FROM entries WHERE did = ?", "prepare");
    mark_repo = Stmt(db,
                     "INSERT INTO repos(did, backfilled_at_us, rev, source) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT(did) DO UPDATE SET backfilled_at_us = excluded.backfilled_at_us, "
                     "rev = excluded.rev, source = excluded.source",
                     "prepare");
    sel_repo = Stmt(db, "SELECT backfilled_at_us FROM repos WHERE did = ?", "prepare");
    upsert_account = Stmt(db,
                          "INSERT INTO accounts(did, active, status) VALUES (?, ?, ?) "
                          "ON CONFLICT(did) DO UPDATE SET active = excluded.active, status = excluded.status",
                          "prepare");
    sel_account = Stmt(db, "SELECT active FROM accounts WHERE did = ?", "prepare");
    count_all = Stmt(db, "SELECT count(*) FROM entries", "prepare");
    count_kinds = Stmt(db, "SELECT kind, count(*) FROM entries GROUP BY kind", "prepare");
  }

  // One write transaction; rolled back unless commit() is reached.
  class Transaction {
   public:
    Transaction(Impl& impl, const char* operation) : impl_(impl), operation_(operation) {
      if (impl_.options.read_only) {
        throw CatalogueError(operation_, "",
                             (impl_.options.path + " was opened read-only (CatalogueOptions.read_only)"));
      }
      impl_.begin.use().run(operation_);
    }
    void commit() {
      impl_.commit.use().run(operation_);
      open_ = false;
    }
    ~Transaction() {
      if (!open_) return;
      // A statement left mid-row by an exception would keep the rollback from
      // releasing its locks.
      for (sqlite3_stmt* s = sqlite3_next_stmt(impl_.db, nullptr); s != nullptr;
           s = sqlite3_next_stmt(impl_.db, s)) {
        sqlite3_reset(s);
      }
      sqlite3_exec(impl_.db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

   private:
    Impl& impl_;
    const char* operation_;
    bool open_ = true;
  };

  void remove(std::string_view did, std::string_view collection, std::string_view rkey, RecordKind kind,
              CatalogueUpdate& out, const char* op) {
    (void)kind;
    Stmt& s = del_entry.use().bind(did).bind(collection).bind(rkey);
    if (s.step(op)) {
      CatalogueEntry old = read_entry(s);
      s.run(op);
      Discovered d;
      d.change = Discovered::Change::deleted;
      d.kind = old.kind;
      d.uri = old.uri;
      d.cid = old.cid;
      d.did = old.did;
      d.name = old.name;
      d.entry = std::move(old);
      out.discovered.push_back(std::move(d));
    } else {
      s.done();
    }
  }

  // Stores one record (create or update). `event_time` is the event's time
  // when known, else the record's createdAt is used.
  void upsert(std::string_view did, const atproto::RecordChange& ch, RecordKind kind,
              std::optional<Timestamp> event_time, Timestamp indexed_at, CatalogueUpdate& out,
              const char* op) {
    std::optional<std::int64_t> existing_id;
    {
      Stmt& s = sel_existing.use().bind(did).bind(ch.collection).bind(ch.rkey);
      if (s.step(op)) {
        existing_id = s.int64(0);
        const bool same = !ch.cid.empty() && s.text(1) == ch.cid;
        s.done();
        if (same) return;
      } else {
        s.done();
      }
    }
    auto invalid = [&](std::string error) {
      InvalidRecord r;
      r.uri = AtUri(std::string(did), ch.collection, ch.rkey);
      r.cid = ch.cid;
      r.error = std::move(error);
      out.invalid.push_back(std::move(r));
      if (existing_id) remove(did, ch.collection, ch.rkey, kind, out, op);
    };
    std::string text = json::serialize(ch.record);
    if (text.size() > options.max_record_bytes) {
      invalid("record is " + std::to_string(text.size()) + " bytes of JSON, more than max_record_bytes (" +
              std::to_string(options.max_record_bytes) + ")");
      return;
    }
    Extracted x;
    try {
      x = extract(kind, ch.record);
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {
      invalid(std::string("not a valid ") + std::string(to_string(kind)) + " record: " + e.what());
      return;
    }
    json::array tags_json;
    for (const std::string& t : x.tags) tags_json.emplace_back(t);
    const std::string tags_text = json::serialize(tags_json);
    const Timestamp time = event_time.value_or(x.created_at);
    const std::string_view kind_text = to_string(kind);
    if (existing_id) {
      upd_entry.use()
          .bind(ch.cid)
          .bind(kind_text)
          .bind(x.name)
          .bind(x.description)
          .bind(tags_text)
          .bind(x.schema_ref)
          .bind(x.schema_version)
          .bind(x.lens_source)
          .bind(x.lens_target)
          .bind(text)
          .bind(to_us(time))
          .bind(to_us(indexed_at))
          .bind(*existing_id)
          .run(op);
    } else {
      ins_entry.use()
          .bind(did)
          .bind(ch.collection)
          .bind(ch.rkey)
          .bind(ch.cid)
          .bind(kind_text)
          .bind(x.name)
          .bind(x.description)
          .bind(tags_text)
          .bind(x.schema_ref)
          .bind(x.schema_version)
          .bind(x.lens_source)
          .bind(x.lens_target)
          .bind(text)
          .bind(to_us(time))
          .bind(to_us(indexed_at))
          .run(op);
    }
    Discovered d;
    d.change = existing_id ? Discovered::Change::updated : Discovered::Change::created;
    d.kind = kind;
    d.uri = AtUri(std::string(did), ch.collection, ch.rkey);
    d.cid = ch.cid;
    d.did = std::string(did);
    d.name = x.name;
    CatalogueEntry& e = d.entry;
    e.uri = d.uri;
    e.did = d.did;
    e.collection = ch.collection;
    e.rkey = ch.rkey;
    e.cid = ch.cid;
    e.kind = kind;
    e.name = std::move(x.name);
    e.description = std::move(x.description);
    e.tags = std::move(x.tags);
    e.schema_ref = std::move(x.schema_ref);
    e.schema_version = std::move(x.schema_version);
    e.lens_source = std::move(x.lens_source);
    e.lens_target = std::move(x.lens_target);
    e.record = ch.record;
    e.time = time;
    e.indexed_at = indexed_at;
    out.discovered.push_back(std::move(d));
  }

  void mark(std::string_view did, std::string_view rev, std::string_view source, const char* op) {
    mark_repo.use().bind(did).bind(to_us(now_utc())).bind(rev).bind(source).run(op);
  }
};

Catalogue::Catalogue(const CatalogueOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Catalogue Catalogue::open(const CatalogueOptions& options) {
  return Catalogue(options);
}
Catalogue Catalogue::in_memory() {
  return Catalogue(CatalogueOptions());
}
Catalogue::Catalogue(Catalogue&&) noexcept = default;
Catalogue& Catalogue::operator=(Catalogue&&) noexcept = default;
Catalogue::~Catalogue() = default;

const std::string& Catalogue::path() const noexcept {
  return impl_->options.path;
}

CatalogueUpdate Catalogue::apply(std::span<const atproto::RepoEvent> events) {
  constexpr const char* op = "apply";
  CatalogueUpdate out;
  if (events.empty()) return out;
  Impl& im = *impl_;
  Impl::Transaction tx(im, op);

  // Few sources per batch (usually one): a linear list beats a map.
  struct SourceState {
    std::string_view source;
    std::optional<std::int64_t> stored;
    std::int64_t max = 0;
  };
  std::vector<SourceState> sources;
  auto state_of = [&](std::string_view source) -> SourceState& {
    for (SourceState& s : sources) {
      if (s.source == source) return s;
    }
    SourceState st;
    st.source = source;
    Stmt& q = im.sel_cursor.use().bind(source);
    if (q.step(op)) st.stored = q.int64(0);
    q.done();
    sources.push_back(st);
    return sources.back();
  };
  const Timestamp indexed_at = now_utc();
  std::set<std::string_view> backfill_seen;

  for (const atproto::RepoEvent& ev : events) {
    if (!ev.source.empty() && ev.cursor > 0) {
      SourceState& st = state_of(ev.source);
      if (st.stored && ev.cursor <= *st.stored) {
        ++out.skipped_events;
        continue;
      }
      st.max = std::max(st.max, ev.cursor);
    }
    ++out.applied_events;
    switch (ev.kind) {
      case atproto::RepoEvent::Kind::commit: {
        if (ev.did.empty()) break;
        std::optional<std::optional<Timestamp>> event_time;  // parsed on first use
        for (const atproto::RecordChange& ch : ev.changes) {
          const std::optional<RecordKind> kind = classify_record_type(ch.collection);
          if (!kind) continue;
          if (ch.action == atproto::RepoOp::Action::remove) {
            im.remove(ev.did, ch.collection, ch.rkey, *kind, out, op);
            continue;
          }
          if (!event_time) {
            event_time.emplace();
            if (!ev.time.empty()) {
              try {
                *event_time = parse_datetime(ev.time);
              } catch (const InvalidArgument&) {
                // A malformed server time: fall back to the record's createdAt.
              }
            }
          }
          im.upsert(ev.did, ch, *kind, *event_time, indexed_at, out, op);
        }
        break;
      }
      case atproto::RepoEvent::Kind::sync:
        if (!ev.did.empty() && backfill_seen.insert(ev.did).second) out.needs_backfill.push_back(ev.did);
        break;
      case atproto::RepoEvent::Kind::account:
        if (!ev.did.empty()) {
          Stmt& s = im.upsert_account.use().bind(ev.did).bind(std::int64_t{ev.active ? 1 : 0});
          if (ev.status) {
            s.bind(*ev.status);
          } else {
            s.bind_null();
          }
          s.run(op);
        }
        break;
      case atproto::RepoEvent::Kind::identity:
      case atproto::RepoEvent::Kind::info:
      case atproto::RepoEvent::Kind::rejected:
        break;
    }
  }
  for (const SourceState& st : sources) {
    if (st.max > 0 && (!st.stored || st.max > *st.stored)) {
      im.max_cursor.use().bind(st.source).bind(st.max).run(op);
    }
  }
  tx.commit();
  return out;
}

std::optional<std::int64_t> Catalogue::cursor(std::string_view source) const {
  Stmt& q = impl_->sel_cursor.use().bind(source);
  std::optional<std::int64_t> v;
  if (q.step("cursor")) v = q.int64(0);
  q.done();
  return v;
}

void Catalogue::set_cursor(std::string_view source, std::int64_t value) {
  Impl::Transaction tx(*impl_, "set_cursor");
  impl_->set_cursor.use().bind(source).bind(value).run("set_cursor");
  tx.commit();
}

CatalogueUpdate Catalogue::replace_repo(std::string_view did, std::span<const atproto::RecordChange> records,
                                        std::string_view source) {
  constexpr const char* op = "replace_repo";
  CatalogueUpdate out;
  Impl& im = *impl_;
  Impl::Transaction tx(im, op);
  std::set<std::pair<std::string, std::string>> before;
  {
    Stmt& s = im.sel_did_entries.use().bind(did);
    while (s.step(op)) before.emplace(s.text(1), s.text(2));
    s.done();
  }
  std::set<std::pair<std::string_view, std::string_view>> kept;
  const Timestamp indexed_at = now_utc();
  for (const atproto::RecordChange& ch : records) {
    if (ch.action == atproto::RepoOp::Action::remove) continue;
    const std::optional<RecordKind> kind = classify_record_type(ch.collection);
    if (!kind) continue;
    kept.emplace(ch.collection, ch.rkey);
    im.upsert(did, ch, *kind, std::nullopt, indexed_at, out, op);
  }
  for (const auto& [collection, rkey] : before) {
    if (kept.count(std::pair<std::string_view, std::string_view>(collection, rkey)) != 0) continue;
    im.remove(did, collection, rkey, *classify_record_type(collection), out, op);
  }
  im.mark(did, "", source, op);
  tx.commit();
  return out;
}

bool Catalogue::known_repo(std::string_view did) const {
  Stmt& s = impl_->sel_repo.use().bind(did);
  const bool known = s.step("known_repo") && !s.is_null(0);
  s.done();
  return known;
}

void Catalogue::mark_backfilled(std::string_view did, std::string_view rev) {
  Impl::Transaction tx(*impl_, "mark_backfilled");
  impl_->mark(did, rev, "", "mark_backfilled");
  tx.commit();
}

std::optional<bool> Catalogue::account_active(std::string_view did) const {
  Stmt& s = impl_->sel_account.use().bind(did);
  std::optional<bool> v;
  if (s.step("account_active")) v = s.int64(0) != 0;
  s.done();
  return v;
}

std::vector<CatalogueEntry> Catalogue::search(const CatalogueQuery& q) const {
  constexpr const char* op = "search";
  std::string sql = std::string("SELECT ") + kEntryColumns + " FROM entries WHERE 1";
  std::vector<std::string> params;
  if (q.did) {
    sql += " AND did = ?";
    params.push_back(*q.did);
  }
  if (q.kind) {
    sql += " AND kind = ?";
    params.emplace_back(to_string(*q.kind));
  }
  if (q.schema_uri) {
    sql += " AND kind = 'dataset' AND schema_ref = ?";
    params.push_back(*q.schema_uri);
  }
  if (q.tag) {
    sql += " AND id IN (SELECT entry_id FROM entry_tags WHERE tag = ?)";
    params.push_back(*q.tag);
  }
  if (q.name && !q.name->empty()) {
    sql += " AND name >= ?";
    params.push_back(*q.name);
    std::string upper = prefix_upper_bound(*q.name);
    if (!upper.empty()) {
      sql += " AND name < ?";
      params.push_back(std::move(upper));
    }
  }
  if (q.text) {
    std::string match = fts_query(*q.text);
    if (!match.empty()) {
      sql += " AND id IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?)";
      params.push_back(std::move(match));
    }
  }
  sql += " ORDER BY time_us DESC, indexed_at_us DESC, id DESC";
  if (q.limit != 0) sql += " LIMIT " + std::to_string(q.limit);
  Stmt s(impl_->db, sql, op, false);
  s.use();
  for (const std::string& p : params) s.bind(p);
  std::vector<CatalogueEntry> out;
  while (s.step(op)) out.push_back(read_entry(s));
  return out;
}

std::optional<CatalogueEntry> Catalogue::get(const AtUri& uri) const {
  Stmt& s = impl_->sel_entry.use().bind(uri.authority).bind(uri.collection).bind(uri.rkey);
  std::optional<CatalogueEntry> e;
  if (s.step("get")) e = read_entry(s);
  s.done();
  return e;
}

std::size_t Catalogue::size() const {
  Stmt& s = impl_->count_all.use();
  const std::size_t n = s.step("size") ? static_cast<std::size_t>(s.int64(0)) : 0;
  s.done();
  return n;
}

CatalogueCounts Catalogue::counts() const {
  CatalogueCounts c;
  Stmt& s = impl_->count_kinds.use();
  while (s.step("counts")) {
    const std::string kind = s.text(0);
    const auto n = static_cast<std::size_t>(s.int64(1));
    if (kind == "schema") c.schemas = n;
    if (kind == "dataset") c.datasets = n;
    if (kind == "lens") c.lenses = n;
  }
  s.done();
  return c;
}

std::string_view to_string(Discovered::Change change) noexcept {
  switch (change) {
    case Discovered::Change::created:
      return "created";
    case Discovered::Change::updated:
      return "updated";
    case Discovered::Change::deleted:
      return "deleted";
  }
  return "unknown";
}

}  // namespace atdata::atmosphere
