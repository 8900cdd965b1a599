#pragma once
// Catalogue: the dataset records seen on the network (schemas, datasets,
// lenses of `ac.foundation.dataset.*` and `science.alt.dataset.*`), kept in
// SQLite, and the queries users run over them. It is fed RepoEvents (from a
// firehose subscriber or a Jetstream client, usually through Discovery) and
// applies each batch in one transaction together with every source's
// cursor: kill the process at any moment and a restart resumes from the
// stored cursor with nothing lost and nothing applied twice.
//
// Use from one thread at a time (SQLite calls are synchronous; batches keep
// them short).

#include <boost/json/object.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atproto/repo_event.hpp"

namespace atdata::atmosphere {

struct CatalogueOptions {
  CatalogueOptions() = default;  // not an aggregate (see XrpcCall)
  // The database file (created when missing). Empty: in memory, gone when
  // the Catalogue is destroyed.
  std::string path;
  // Open an existing file for queries only (e.g. `atdata search` while
  // `atdata watch` writes it).
  bool read_only = false;
  // How long a writer waits for another connection's lock.
  std::chrono::milliseconds busy_timeout{5'000};
  // WAL + synchronous=NORMAL: a committed batch survives the process being
  // killed; a power loss may lose the last batches (never half of one).
  // true: synchronous=FULL, every batch durable on disk when apply returns.
  bool durable_commits = false;
  // Records larger than this (JSON text) are reported invalid, not stored.
  std::size_t max_record_bytes = 1u << 20;
};

struct CatalogueEntry {
  enum class Kind { schema, dataset, lens };
  AtUri uri;
  Kind kind = Kind::dataset;
  std::string did;
  std::string collection;
  std::string rkey;
  std::string cid;
  std::string name;
  std::string description;
  std::vector<std::string> tags;  // datasets
  std::string schema_ref;         // datasets: their schema's AT-URI
  std::string version;            // schemas
  boost::json::object record;     // the record as published (ATProto JSON)
  std::string time;               // the event's timestamp (ISO 8601), as the host sent it
  std::int64_t indexed_at = 0;    // local time of the last write, Unix microseconds
};

const char* to_string(CatalogueEntry::Kind kind) noexcept;  // "schema", "dataset", "lens"

// One change a catalogue update made.
struct Discovered {
  enum class Change { created, updated, deleted };
  Change change = Change::created;
  CatalogueEntry::Kind kind = CatalogueEntry::Kind::dataset;
  AtUri uri;
  CatalogueEntry entry;  // the new state; only uri/kind/did set for deleted
};

const char* to_string(Discovered::Change change) noexcept;  // "created", "updated", "deleted"

struct InvalidRecord {
  std::string uri;
  std::string error;
};

struct CatalogueUpdate {
  std::vector<Discovered> discovered;
  std::vector<InvalidRecord> invalid;     // records that did not parse as their kind: not stored
  std::vector<std::string> needs_backfill;  // DIDs of #sync events: their repository was reset
  std::size_t skipped = 0;                // events at or before their source's stored cursor
};

struct CatalogueQuery {
  CatalogueQuery() = default;  // not an aggregate (see XrpcCall)
  std::optional<std::string> did;
  std::optional<std::string> schema_uri;  // datasets whose schemaRef is this AT-URI
  std::optional<std::string> tag;         // datasets carrying this tag (exact)
  std::optional<std::string> name;        // exact name
  // Full text over name, description and tags (SQLite FTS5): words, all of
  // which must match (prefix match on the last). Any input is safe: it is
  // quoted, never parsed as FTS syntax.
  std::optional<std::string> text;
  std::optional<CatalogueEntry::Kind> kind;
  std::size_t limit = 100;
};

class Catalogue {
 public:
  // Throws CatalogueError (file cannot be opened, is not a catalogue, or was
  // written by a newer version of the library).
  explicit Catalogue(CatalogueOptions options);
  static Catalogue open(CatalogueOptions options) { return Catalogue(std::move(options)); }
  static Catalogue in_memory() { return Catalogue(CatalogueOptions()); }
  Catalogue(Catalogue&&) noexcept;
  Catalogue& operator=(Catalogue&&) noexcept;
  ~Catalogue();

  // Applies the events in one transaction: creates, updates and deletes of
  // our collections (others are ignored), and each source's cursor (the
  // largest event cursor of that source). Events whose cursor is at or
  // before their source's stored cursor were applied already and are
  // skipped, so a replay is harmless. A record that does not parse is
  // reported in `invalid`, the rest still applies.
  CatalogueUpdate apply(std::span<const atproto::RepoEvent> events);

  // Backfill: makes the entries of `did` exactly `records` (those of our
  // collections), in one transaction, and marks the repository known.
  CatalogueUpdate replace_repo(std::string_view did, std::span<const atproto::RecordChange> records);
  // Whether the repository was filled by replace_repo.
  bool known_repo(std::string_view did) const;

  std::optional<std::int64_t> cursor(std::string_view source) const;
  void set_cursor(std::string_view source, std::int64_t cursor);

  std::vector<CatalogueEntry> search(const CatalogueQuery& query) const;
  std::optional<CatalogueEntry> get(const AtUri& uri) const;
  std::size_t size() const;
  std::size_t count(CatalogueEntry::Kind kind) const;
  const CatalogueOptions& options() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

using DiscoveryIndex = Catalogue;

}  // namespace atdata::atmosphere
