#pragma once
// AT-URI `at://<authority>/<collection>/<rkey>` with Python atdata's lenient
// rules: only the `at://` prefix and three parts are checked; the rkey keeps
// any further slashes, so parse(str()) round-trips.
//
// Every API that names a record takes an AtUri, and an AtUri converts
// implicitly from text (parsing it), so `loader.get("at://…")` and
// `loader.get(uri)` are the same call, as `str | AtUri` is in Python.

#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

namespace atdata::atmosphere {

// Not an aggregate on purpose: GCC 12 corrupts aggregate temporaries that
// appear inside a co_await expression, and AtUri::parse(…) is often written
// exactly there (see docs/gcc12.md).
class AtUri {
 public:
  AtUri() = default;
  AtUri(std::string authority_, std::string collection_, std::string rkey_)
      : authority(std::move(authority_)), collection(std::move(collection_)), rkey(std::move(rkey_)) {}
  // Parsing conversions (InvalidArgument as parse()).
  AtUri(std::string_view text) : AtUri(parse(text)) {}               // NOLINT(google-explicit-constructor)
  AtUri(const std::string& text) : AtUri(parse(text)) {}             // NOLINT(google-explicit-constructor)
  AtUri(const char* text) : AtUri(parse(std::string_view(text))) {}  // NOLINT(google-explicit-constructor)

  std::string authority;   // DID or handle
  std::string collection;  // NSID
  std::string rkey;        // record key (may contain '/')

  // Throws atdata::InvalidArgument "Invalid AT URI: must start with 'at://': <s>"
  // or "Invalid AT URI: expected authority/collection/rkey: <s>".
  static AtUri parse(std::string_view s);

  std::string str() const;

  friend bool operator==(const AtUri&, const AtUri&) = default;
  friend std::ostream& operator<<(std::ostream& os, const AtUri& u);
};

}  // namespace atdata::atmosphere
