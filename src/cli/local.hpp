#pragma once
// `atdata local …` (the local dataset index: Redis, or one SQLite file) and
// `atdata promote` (a local dataset published to ATProto). The index is
// chosen by --redis URL or --db FILE, else $ATDATA_REDIS_URL, else the SQLite
// file at $ATDATA_LOCAL_INDEX or the default path (docs/local-index.md).

#include <iosfwd>
#include <string>
#include <vector>

#include "cat.hpp"

namespace atdata::cli {

// `atdata local ls|show|insert|schemas …` (args exclude "local").
int run_local(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
// `atdata promote NAME_OR_CID [--blobs] …`.
int run_promote(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// `local:NAME_OR_CID` (the index from the environment) as shards and, when
// `want_schema` and the entry's schema is in the local index, its schema.
AtDataset resolve_local_dataset(const std::string& ref, bool want_schema);

}  // namespace atdata::cli
