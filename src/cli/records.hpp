#pragma once
// The record vocabulary of the `atdata` CLI: `schema`, `dataset` and `lens`,
// each with `publish`, `list` and `show` (docs/cli.md). Listings and `show`
// read public data and need no login when given another repository or a
// URI; publishing and listing one's own records use the logged-in account.

#include <iosfwd>
#include <string>
#include <vector>

#include "publish.hpp"

namespace atdata::cli {

// `atdata schema publish|list|show …` (args exclude "schema").
int run_schema(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
// `atdata dataset publish|list|show …`; `publish` is `atdata publish`.
int run_dataset(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                ProgressMode mode);
// `atdata lens publish|list|show …`.
int run_lens(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

// `atdata ls [REPO] [--schemas]`: the older spelling of `dataset list` /
// `schema list` (same columns), REPO given as an argument.
int run_ls(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace atdata::cli
