#include "args.hpp"

#include <charconv>

namespace atdata::cli {

std::optional<std::string> ParsedArgs::value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::string ParsedArgs::value_or(const std::string& name, std::string fallback) const {
  auto v = value(name);
  return v ? *v : std::move(fallback);
}

const std::vector<std::string>& ParsedArgs::all(const std::string& name) const {
  static const std::vector<std::string> none;
  auto it = values.find(name);
  return it == values.end() ? none : it->second;
}

std::string ParsedArgs::required(const std::string& name) const {
  auto v = value(name);
  if (!v || v->empty()) throw UsageError(name + " is required");
  return *v;
}

std::uint64_t ParsedArgs::integer(const std::string& name, std::uint64_t fallback, std::uint64_t min,
                                  std::uint64_t max) const {
  auto v = value(name);
  if (!v) return fallback;
  std::uint64_t n = 0;
  auto r = std::from_chars(v->data(), v->data() + v->size(), n);
  if (r.ec != std::errc() || r.ptr != v->data() + v->size() || n < min || n > max) {
    throw UsageError(name + " needs an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                     "], got '" + *v + "'");
  }
  return n;
}

ParsedArgs parse_args(const std::vector<std::string>& args, const std::set<std::string>& value_options,
                      const std::set<std::string>& flag_options) {
  ParsedArgs p;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      p.help = true;
    } else if (a == "--") {
      p.positional.insert(p.positional.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    } else if (a.size() > 1 && a[0] == '-') {
      std::string name = a, inline_value;
      bool has_inline = false;
      if (auto eq = a.find('='); eq != std::string::npos) {
        name = a.substr(0, eq);
        inline_value = a.substr(eq + 1);
        has_inline = true;
      }
      if (value_options.count(name)) {
        if (!has_inline) {
          if (i + 1 >= args.size()) throw UsageError(name + " needs a value");
          inline_value = args[++i];
        }
        p.values[name].push_back(std::move(inline_value));
      } else if (flag_options.count(name) && !has_inline) {
        p.flags.insert(name);
      } else {
        throw UsageError("unknown option '" + a + "'");
      }
    } else {
      p.positional.push_back(a);
    }
  }
  return p;
}

}  // namespace atdata::cli
