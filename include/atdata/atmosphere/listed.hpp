#pragma once
// A record read from a repository together with its address. The seed's
// listings dropped the URI (so listed entries could not be addressed); here
// every listed or fetched record keeps it.

#include <string>

#include "atdata/atmosphere/at_uri.hpp"

namespace atdata::atmosphere {

template <class R>
struct Listed {
  AtUri uri;
  std::string cid;  // CID of the record block as the PDS reported it
  R record;
};

}  // namespace atdata::atmosphere
