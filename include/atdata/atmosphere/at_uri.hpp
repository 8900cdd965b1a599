#pragma once
// AT-URI `at://<authority>/<collection>/<rkey>` with the seed's lenient rules
// (api-surface §7): only the `at://` prefix and three parts are checked; the
// rkey keeps any further slashes, so parse(str()) round-trips.

#include <string>
#include <string_view>

namespace atdata::atmosphere {

struct AtUri {
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
