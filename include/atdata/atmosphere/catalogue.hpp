#pragma once
// Catalogue (a.k.a. DiscoveryIndex): the persistent, queryable set of atdata
// records (schemas, datasets, lenses) seen on the network, kept in one SQLite
// file. Live events (firehose, Jetstream: atproto::RepoEvent) and repository
// backfills are applied to it; users search it by DID, schema, tag, name or
// full text.
//
// Resuming: for every event source the catalogue stores the highest cursor it
// applied, in the same transaction as the records of those events. After a
// crash (even SIGKILL) the stored cursor covers exactly what is in the file,
// so a subscriber restarted from cursor(source) misses nothing and applies
// nothing twice. Events whose cursor is <= the stored cursor of their source
// are skipped, so re-applying a batch is harmless.
//
// Not thread-safe: use one Catalogue per thread. Several processes may open
// the same file (a `watch` writing while a `search` reads): WAL mode lets
// readers run beside the writer; writers wait up to the busy timeout.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/datetime.hpp"
#include "atdata/atmosphere/lexicon.hpp"
#include "atdata/atproto/repo_event.hpp"

namespace atdata::atmosphere {

// Not an aggregate (GCC 12 and co_await; see docs/gcc12.md).
struct CatalogueOptions {
  CatalogueOptions() = default;
  explicit CatalogueOptions(std::string path_) : path(std::move(path_)) {}

  // The SQLite file, created when missing. Empty: a private in-memory
  // catalogue (gone when the object is destroyed).
  std::string path;
  // Open an existing file for queries only (`atdata search` beside a
  // running `atdata watch`): never creates or changes it; apply() and
  // set_cursor() throw CatalogueError. Needs a path.
  bool read_only = false;
  // How long a write waits for another process's write to finish before
  // failing with CatalogueError ("database is locked").
  std::chrono::milliseconds busy_timeout{5000};
  // SQLite `synchronous` with the WAL journal (files only). normal (the
  // default): a committed apply() survives the process being killed
  // (SIGKILL, crash) — the WAL is written before COMMIT returns — but a power
  // loss or OS crash may lose the last few committed transactions (never
  // partially: the file stays consistent, the cursor matching the records).
  // full: fsync at every commit, so committed transactions also survive power
  // loss, at a much lower commit rate. off: no fsync at all.
  enum class Synchronous { off, normal, full };
  Synchronous synchronous = Synchronous::normal;
  // A record whose JSON text is longer than this is not stored: it is
  // reported in CatalogueUpdate::invalid (ATProto records are at most 1 MiB
  // of CBOR; their JSON form can be somewhat larger).
  std::size_t max_record_bytes = 2 * 1024 * 1024;
};

// One stored record.
struct CatalogueEntry {
  AtUri uri;  // at://did/collection/rkey
  std::string did;
  std::string collection;  // as published (any namespace generation)
  std::string rkey;
  std::string cid;
  RecordKind kind = RecordKind::dataset;
  std::string name;
  std::string description;
  std::vector<std::string> tags;  // datasets
  std::string schema_ref;         // datasets: the schema's AT-URI
  std::string schema_version;     // schemas
  std::string lens_source;        // lenses: source schema AT-URI
  std::string lens_target;        // lenses: target schema AT-URI
  boost::json::object record;     // the record in ATProto JSON form
  // The record's time: the event's time for live events; for backfilled
  // records (no event) the record's createdAt, else indexed_at.
  Timestamp time{};
  Timestamp indexed_at{};  // when this version was stored (local clock)
};

// What one apply()/replace_repo() changed, for notifications.
struct Discovered {
  enum class Change { created, updated, deleted };
  Change change = Change::created;
  RecordKind kind = RecordKind::dataset;
  AtUri uri;
  std::string cid;  // the new CID; for deleted, the CID that was stored
  std::string did;
  std::string name;
  // created/updated: the entry as now stored; deleted: the entry as it was.
  CatalogueEntry entry;
};

// A record of one of our collections that was not stored.
// "created", "updated", "deleted".
std::string_view to_string(Discovered::Change change) noexcept;

struct InvalidRecord {
  AtUri uri;
  std::string cid;
  std::string error;  // why (the reader's RecordError message, "too large", …)
};

struct CatalogueUpdate {
  std::vector<Discovered> discovered;  // in event order
  std::vector<InvalidRecord> invalid;
  // DIDs whose repository must be read again whole (`sync` events), in order,
  // each once.
  std::vector<std::string> needs_backfill;
  std::size_t applied_events = 0;  // events applied (cursor above the stored one)
  std::size_t skipped_events = 0;  // events skipped as already applied
};

// Filters are ANDed; unset ones match everything.
struct CatalogueQuery {
  CatalogueQuery() = default;

  std::optional<std::string> did;
  std::optional<RecordKind> kind;
  // Datasets whose schemaRef is exactly this AT-URI (implies kind dataset).
  std::optional<std::string> schema_uri;
  std::optional<std::string> tag;  // exact, case-sensitive tag
  // Name prefix, case-sensitive ("mnist" matches "mnist" and "mnist-v2").
  std::optional<std::string> name;
  // Full text over name, description and tags (SQLite FTS5, unicode61
  // tokens, case- and diacritic-insensitive). Every whitespace-separated
  // word must occur, the last one as a prefix ("dig" finds "digits"); each
  // is matched as a quoted phrase, so FTS syntax (AND, OR, NEAR, quotes, *)
  // in user input is taken literally.
  std::optional<std::string> text;
  std::size_t limit = 100;  // 0: no limit
};

struct CatalogueCounts {
  std::size_t schemas = 0;
  std::size_t datasets = 0;
  std::size_t lenses = 0;
  std::size_t total() const noexcept { return schemas + datasets + lenses; }
};

class Catalogue {
 public:
  // The file format version this build writes and reads (PRAGMA
  // user_version). A file with a newer version is refused.
  static constexpr int kFormatVersion = 1;

  // Opens or creates the catalogue. Throws CatalogueError when the file
  // cannot be opened, is not an atdata catalogue, has a newer format
  // version, or SQLite lacks FTS5.
  explicit Catalogue(const CatalogueOptions& options);
  static Catalogue open(const CatalogueOptions& options);
  static Catalogue in_memory();

  Catalogue(Catalogue&&) noexcept;
  Catalogue& operator=(Catalogue&&) noexcept;
  Catalogue(const Catalogue&) = delete;
  Catalogue& operator=(const Catalogue&) = delete;
  ~Catalogue();

  // Applies a batch of events in ONE transaction, with the cursor of every
  // source in it. Per event (skipped whole when its source and cursor are
  // set and cursor <= the stored cursor of that source):
  //   commit   changes in ac.foundation.dataset.* / science.alt.dataset.*
  //            collections: create/update upsert per (did, collection, rkey)
  //            (a change carrying the stored CID is no change); delete
  //            removes. A record that does not read as its kind is reported
  //            in `invalid` and not stored (a previously stored version is
  //            removed: the repository no longer holds it). Other collections
  //            are ignored.
  //   sync     the DID is returned in needs_backfill.
  //   account  active/status is recorded (account_active()).
  //   identity, info, rejected: nothing but the cursor.
  // On a SQLite failure the transaction is rolled back (nothing applied, no
  // cursor moved) and CatalogueError is thrown.
  CatalogueUpdate apply(std::span<const atproto::RepoEvent> events);

  // The highest cursor applied for `source` (RepoEvent::source).
  std::optional<std::int64_t> cursor(std::string_view source) const;
  // Sets it exactly (also lower), in its own transaction.
  void set_cursor(std::string_view source, std::int64_t value);

  // Backfill: in one transaction, makes the stored entries of `did` exactly
  // the records of our collections among `records` (remove actions and other
  // collections are ignored), and marks the repository backfilled (from
  // `source`, may be empty). Returns the differences to what was stored.
  CatalogueUpdate replace_repo(std::string_view did, std::span<const atproto::RecordChange> records,
                               std::string_view source = {});
  // Whether the repository was backfilled (replace_repo / mark_backfilled),
  // so that an orchestrator reads each repository once.
  bool known_repo(std::string_view did) const;
  void mark_backfilled(std::string_view did, std::string_view rev = {});
  // From account events: nullopt when none was seen for the DID.
  std::optional<bool> account_active(std::string_view did) const;

  // Newest first (time, then indexed_at).
  std::vector<CatalogueEntry> search(const CatalogueQuery& query) const;
  // By at://did/collection/rkey (the authority must be the DID, not a handle).
  std::optional<CatalogueEntry> get(const AtUri& uri) const;
  std::size_t size() const;
  CatalogueCounts counts() const;

  // The file ("" when in memory).
  const std::string& path() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

using DiscoveryIndex = Catalogue;

// Whether a collection NSID is one the catalogue stores.
bool is_catalogue_collection(std::string_view collection) noexcept;

}  // namespace atdata::atmosphere
