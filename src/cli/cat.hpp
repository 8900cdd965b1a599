#pragma once
// `atdata cat`: prints every sample of one or more shard URLs as one JSON line.
// The output format is a stable contract, documented in docs/cli.md.

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "atdata/core/dynamic_sample.hpp"
#include "atdata/core/sample_schema.hpp"
#include "atdata/dataset/shard_opener.hpp"

namespace atdata::cli {

// Runs the command; args exclude "cat" itself. Returns the exit status.
int run_cat(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// One JSON line (no trailing newline) for a decoded sample. `sniff_npy`: bin
// values that are valid .npy are shown as arrays (schemaless mode).
std::string sample_json(const std::string& key, const DynamicSample& sample, bool sniff_npy);

// The shards of an at:// dataset record (blobs stream from the owner's PDS,
// CID-checked) and, when `want_schema`, the record's own schema. Reading
// public records needs no login: the PDS and PLC URLs come from
// ATDATA_PDS_URL / ATDATA_PLC_URL, else from the session file.
struct AtDataset {
  std::vector<std::string> shards;
  ShardOpener opener;
  std::shared_ptr<const SampleSchema> schema;
};
AtDataset resolve_at_dataset(const std::string& uri, bool want_schema);

// A sampleSchema record (or a getRecord answer wrapping one in "value") as a
// SampleSchema.
SampleSchema schema_from_record_json(const boost::json::value& record);

}  // namespace atdata::cli
