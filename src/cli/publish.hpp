#pragma once
// The ATProto commands of the `atdata` CLI. Each logs in from the
// environment (ATDATA_HANDLE + ATDATA_PASSWORD or ATDATA_SESSION, with
// ATDATA_PDS_URL and ATDATA_PLC_URL), prints results on `out` (one AT-URI or
// record per line) and progress and errors on `err`. See docs/cli.md.

#include <iosfwd>
#include <string>
#include <vector>

namespace atdata::cli {

// How a command draws progress: redrawn in place on a terminal, a line per
// 10 % otherwise, or not at all (--no-progress).
enum class ProgressMode { terminal, lines, off };

// `atdata publish SHARDS --name N --schema-uri URI [--blobs] …`: one dataset record.
int run_publish(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                ProgressMode mode);

// `atdata publish-records COLLECTION FILE …`: bulk publishing of JSON-lines
// records (resumable: a re-run writes only what is missing).
int run_publish_records(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                        ProgressMode mode);

// `atdata ls [REPO] [--schemas]`: the dataset (or schema) records of a repository.
int run_ls(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace atdata::cli
