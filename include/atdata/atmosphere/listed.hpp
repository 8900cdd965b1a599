#pragma once
// A record read from a repository together with its address. Python atdata's
// listings drop the URI (so listed entries cannot be addressed); here every
// listed or fetched record keeps it. Accessors have the same names as
// AtmosphereIndexEntry's: uri(), record().

#include <string>
#include <utility>

#include "atdata/atmosphere/at_uri.hpp"

namespace atdata::atmosphere {

template <class R>
class Listed {
 public:
  Listed() = default;
  Listed(AtUri uri, std::string cid, R record)
      : uri_(std::move(uri)), cid_(std::move(cid)), record_(std::move(record)) {}

  const AtUri& uri() const noexcept { return uri_; }
  // CID of the record block as the PDS reported it.
  const std::string& cid() const noexcept { return cid_; }
  const R& record() const& noexcept { return record_; }
  R&& record() && noexcept { return std::move(record_); }

 private:
  AtUri uri_;
  std::string cid_;
  R record_;
};

}  // namespace atdata::atmosphere
