#pragma once
// `atdata watch` and `atdata search`: follow the network's event streams into
// a dataset catalogue, and query that catalogue (docs/cli.md, docs/discovery.md).

#include <iosfwd>
#include <string>
#include <vector>

namespace atdata::cli {

// args exclude the command name. Return the exit status.
int run_watch(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
int run_search(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace atdata::cli
