#pragma once
// `atdata load`: iterates a dataset through the prefetching pipeline and
// reports what it measured (docs/cli.md).

#include <iosfwd>
#include <string>
#include <vector>

#include "atdata/dataset/prefetch.hpp"
#include "publish.hpp"

namespace atdata::cli {

// Runs the command; args exclude "load" itself. Returns the exit status.
int run_load(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, ProgressMode mode);

// The one summary line printed at the end (no newline).
std::string load_summary(const LoaderStats& s, std::uint64_t batches);
// The same as a JSON object.
std::string load_summary_json(const LoaderStats& s, std::uint64_t batches);

}  // namespace atdata::cli
