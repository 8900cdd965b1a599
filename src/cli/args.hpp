#pragma once
// Minimal command-line parsing shared by the `atdata` commands: positional
// arguments, `--opt VALUE` options (repeatable) and `--flag` switches. Errors
// are UsageError, which the commands turn into exit status 2 plus usage.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace atdata::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // "--opt" → every value given
  std::set<std::string> flags;
  bool help = false;

  bool flag(const std::string& name) const { return flags.count(name) != 0; }
  std::optional<std::string> value(const std::string& name) const;  // the last one given
  std::string value_or(const std::string& name, std::string fallback) const;
  const std::vector<std::string>& all(const std::string& name) const;
  std::string required(const std::string& name) const;
  // A value that must be an integer in [min, max]; fallback when absent.
  std::uint64_t integer(const std::string& name, std::uint64_t fallback, std::uint64_t min = 0,
                        std::uint64_t max = UINT64_MAX) const;
};

// `value_options` take a value; `flag_options` do not. "-" is positional.
ParsedArgs parse_args(const std::vector<std::string>& args, const std::set<std::string>& value_options,
                      const std::set<std::string>& flag_options);

}  // namespace atdata::cli
