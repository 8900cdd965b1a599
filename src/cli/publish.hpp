#pragma once
// The publishing commands of the `atdata` CLI. Each logs in like every
// command (ATDATA_HANDLE + ATDATA_PASSWORD, else ATDATA_SESSION, else the
// session file of `atdata login`; see common.hpp), prints results on `out`
// (one AT-URI per line) and progress and errors on `err`. See docs/cli.md.

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

}  // namespace atdata::cli
