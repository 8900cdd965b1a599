#pragma once
// `atdata frame` and `atdata repo`: decode and verify event-stream frames and
// repository exports from files, printing JSON lines (docs/cli.md). For
// debugging, and so other tools can check their decoders against this one.

#include <iosfwd>
#include <string>
#include <vector>

namespace atdata::cli {

// args exclude the command name. Return the exit status.
int run_frame(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_repo(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace atdata::cli
