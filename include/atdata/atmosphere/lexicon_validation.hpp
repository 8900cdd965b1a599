#pragma once
// Validating records against Lexicon documents, without I/O.
//
// The library ships the lexicons of its records (`ac.foundation.dataset.*`,
// which it writes, and the later `science.alt.dataset.*`, which it reads),
// compiled in: no files are needed at run time. The publishers check every
// record against them before writing it (their `validate` option turns that
// off).
//
// The rules are those of the Lexicon schema language as the official
// TypeScript validator (@atproto/lexicon) applies them, and the messages read
// like its messages ("Record/storage/urls/0 must be a uri"): the first problem
// found, in lexicon property order. Members a lexicon does not declare are
// allowed, as there. Where that validator accepts data the ATProto data model
// or specification rules out, this one refuses it: floating-point numbers,
// arrays where an object is expected, datetimes without a time zone, blob refs
// that are not the typed `{"$type":"blob",…}` form, and blobs outside a
// lexicon's `accept` / `maxSize` (which a PDS enforces when the record is
// written).

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace atdata::atmosphere {

// One lexicon document compiled into the library.
struct ShippedLexicon {
  std::string_view id;    // NSID, e.g. "ac.foundation.dataset.record"
  std::string_view json;  // the document, verbatim
};

// Every shipped lexicon document, sorted by id.
std::span<const ShippedLexicon> shipped_lexicons() noexcept;

// The first thing wrong with a record.
struct LexiconProblem {
  // Path of the offending member in the library's usual form
  // ("storage.urls[0]"); empty when the record itself is at fault.
  std::string member;
  // The validator's message: "Record/storage/urls/0 must be a uri".
  std::string message;
};

// A set of lexicon documents to validate against. Documents may refer to
// each other (`ref`, `union`); a reference to a document not in the set is a
// problem of the record being validated ("Lexicon not found: lex:<nsid>").
class LexiconCatalog {
 public:
  LexiconCatalog() = default;
  LexiconCatalog(const LexiconCatalog&) = delete;
  LexiconCatalog& operator=(const LexiconCatalog&) = delete;
  LexiconCatalog(LexiconCatalog&&) noexcept = default;
  LexiconCatalog& operator=(LexiconCatalog&&) noexcept = default;

  // The shipped documents (built once, shared, immutable).
  static const LexiconCatalog& shipped();

  // Adds a lexicon document (`{"lexicon": 1, "id": <nsid>, "defs": {…}}`).
  // InvalidArgument when it is not one, or when its id is already present.
  void add(const boost::json::value& doc);
  void add(std::string_view json_text);
  void add(const char* json_text) { add(std::string_view(json_text)); }

  // Whether `nsid` names a record definition (what a collection needs).
  bool has_record(std::string_view nsid) const noexcept;
  // Ids of the documents, sorted.
  std::vector<std::string> ids() const;

  // The first problem of `record` as a record of collection `nsid`, or
  // nullopt when it is valid. Never throws for any input (except bad_alloc).
  std::optional<LexiconProblem> check_record(std::string_view nsid, const boost::json::object& record) const;
  // Throws atdata::RecordError(problem.member, problem.message).
  void validate_record(std::string_view nsid, const boost::json::object& record) const;

 private:
  friend class LexiconValidator;
  std::map<std::string, boost::json::value, std::less<>> docs_;
  // "lex:<nsid>#<def>" (and "lex:<nsid>" for main) → the definition inside docs_.
  std::map<std::string, const boost::json::object*, std::less<>> defs_;
};

// Against the shipped lexicons. Without an nsid, the record's `$type` names
// the collection.
std::optional<LexiconProblem> check_record(const boost::json::object& record);
std::optional<LexiconProblem> check_record(std::string_view nsid, const boost::json::object& record);
void validate_record(const boost::json::object& record);
void validate_record(std::string_view nsid, const boost::json::object& record);

}  // namespace atdata::atmosphere
