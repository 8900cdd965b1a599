#pragma once
// AT-URI `at://<authority>/<collection>/<rkey>` with the seed's lenient rules
// (api-surface §7): only the `at://` prefix and three parts are checked; the
// rkey keeps any further slashes, so parse(str()) round-trips.

#include <string>
#include <string_view>
#include <utility>

namespace atdata::atmosphere {

// Not an aggregate on purpose: GCC 12 corrupts aggregate temporaries that
// hold short (SSO) strings when they appear inside a co_await expression,
// and AtUri::parse(…) is often written exactly there.
struct AtUri {
  AtUri() = default;
  AtUri(std::string authority_, std::string collection_, std::string rkey_)
      : authority(std::move(authority_)), collection(std::move(collection_)), rkey(std::move(rkey_)) {}

  std::string authority;   // DID or handle
  std::string collection;  // NSID
  std::string rkey;        // record key (may contain '/')

  // Throws atdata::InvalidArgument "Invalid AT URI: must start with 'at://': <s>"
  // or "Invalid AT URI: expected authority/collection/rkey: <s>".
  static AtUri parse(std::string_view s);

  std::string str() const;

  friend bool operator==(const AtUri&, const AtUri&) = default;
};

}  // namespace atdata::atmosphere
