#pragma once
// Promotion: a dataset of the local index published to ATProto (Python
// atdata's promote_to_atmosphere), without its quirks. The schema is
// published from the stored local record (ndarray dtypes kept) unless the
// account already has an equal one (same name, version and fields), which is
// reused; the dataset record points at the entry's URLs (s3://, http(s),
// brace patterns verbatim) or, with `blobs`, at the shards uploaded to the
// PDS. Running it again finds the record it made and writes nothing.
//
// Order: the dataset record is checked against the lexicon before anything is
// written, shards are uploaded before the schema is published, so a failure
// leaves at most unreferenced blobs (which the PDS collects) behind.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "atdata/atmosphere/at_uri.hpp"
#include "atdata/atmosphere/index.hpp"
#include "atdata/atmosphere/local_entry.hpp"
#include "atdata/atmosphere/local_index.hpp"
#include "atdata/core/detail/chained_options.hpp"

namespace atdata::net {
class HttpClient;
}

namespace atdata::atmosphere {

// Not an aggregate (see docs/gcc12.md).
class PromoteOptions : public atdata::detail::ChainedOptions<PromoteOptions> {
 public:
  PromoteOptions() = default;

  std::string name;  // empty = the local entry's name
  std::string description;
  std::vector<std::string> tags;
  std::string license;
  // Upload every shard (brace patterns expanded; any URL the shard opener
  // reads, s3:// included) as a PDS blob, instead of recording the URLs.
  bool blobs = false;
  std::size_t max_in_flight = 4;  // concurrent blob uploads
  // Where downloaded shards wait for their upload (empty = the system's temp
  // directory); each file is removed once uploaded.
  std::string scratch_dir;
  // For downloading shards (null = a client of its own on the index's executor).
  std::shared_ptr<net::HttpClient> http;

  PromoteOptions&& with_name(std::string v) && { return set(name, std::move(v)); }
  PromoteOptions&& with_description(std::string v) && { return set(description, std::move(v)); }
  PromoteOptions&& with_license(std::string v) && { return set(license, std::move(v)); }
  PromoteOptions&& with_blobs(bool v) && { return set(blobs, v); }
};

class PromoteResult {
 public:
  AtUri dataset;
  AtUri schema;
  bool schema_reused = false;   // an equal schema record already existed
  bool dataset_reused = false;  // the same dataset record already existed: nothing written
};

// Throws InvalidArgument "Local entry '<name>' has no data URLs" before any
// I/O, NotFound when the entry's schema is not in the local index, and the
// errors of the calls it makes (XrpcError, NetworkError, RecordError).
boost::asio::awaitable<PromoteResult> promote(LocalDatasetEntry entry, LocalIndex& local,
                                              AtmosphereIndex& atmosphere,
                                              PromoteOptions options = PromoteOptions());

}  // namespace atdata::atmosphere
