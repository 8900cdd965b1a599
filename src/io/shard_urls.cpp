#include "atdata/io/shard_urls.hpp"

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>

#include "atdata/error.hpp"

namespace atdata {
namespace {

// A line-by-line port of braceexpand 0.1.7 (parse_pattern / parse_expression /
// parse_sequence / make_int_range / make_char_range). Python's generators are
// materialised (itertools.product does the same with its inputs).
using Strings = std::vector<std::string>;

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

struct Expander {
  std::size_t max_results;

  [[noreturn]] void unbalanced(std::string_view p) const {
    throw InvalidArgument("Unbalanced braces: '" + std::string(p) + "'");
  }
  void check(std::size_t n) const {
    if (n > max_results)
      throw InvalidArgument("brace expansion yields more than " + std::to_string(max_results) + " URLs");
  }

  Strings product(const std::vector<Strings>& items) const {
    Strings result{std::string()};
    for (const auto& item : items) {
      if (item.empty()) return {};
      if (result.size() > max_results / item.size()) check(max_results + 1);
      Strings next;
      next.reserve(result.size() * item.size());
      for (const auto& r : result)
        for (const auto& s : item) next.push_back(r + s);
      result = std::move(next);
    }
    return result;
  }

  Strings parse_pattern(std::string_view p) const {
    std::size_t start = 0, pos = 0;
    long depth = 0;
    std::vector<Strings> items;
    while (pos < p.size()) {
      if (p[pos] == '\\') {
        pos += 2;
        continue;
      } else if (p[pos] == '{') {
        if (depth == 0 && pos > start) {
          items.push_back({std::string(p.substr(start, pos - start))});
          start = pos;
        }
        ++depth;
      } else if (p[pos] == '}') {
        --depth;
        if (depth == 0) {
          std::string_view expr = p.substr(start + 1, pos - start - 1);
          if (auto item = parse_expression(expr)) {
            items.push_back(std::move(*item));
          } else {
            items.push_back({"{"});
            items.push_back(parse_pattern(expr));
            items.push_back({"}"});
          }
          start = pos + 1;
        }
      }
      ++pos;
    }
    if (depth != 0) unbalanced(p);
    if (start < pos && start < p.size()) items.push_back({std::string(p.substr(start))});
    return product(items);
  }

  std::optional<Strings> parse_expression(std::string_view e) const {
    if (auto r = int_range(e)) return r;
    if (auto r = char_range(e)) return r;
    return parse_sequence(e);
  }

  std::optional<Strings> parse_sequence(std::string_view s) const {
    std::size_t start = 0, pos = 0;
    long depth = 0;
    bool sequence = false;
    Strings out;
    // Each alternative joins the result as soon as it is expanded, so the
    // bound holds for the union, not only for each alternative.
    auto add = [&](std::string_view part) {
      Strings it = parse_pattern(part);
      check(out.size() + it.size());
      for (auto& x : it) out.push_back(std::move(x));
    };
    while (pos < s.size()) {
      if (s[pos] == '\\') {
        pos += 2;
        continue;
      } else if (s[pos] == '{') {
        ++depth;
      } else if (s[pos] == '}') {
        --depth;
      } else if (s[pos] == ',' && depth == 0) {
        add(s.substr(start, pos - start));
        sequence = true;
        start = pos + 1;
      }
      ++pos;
    }
    if (depth != 0) unbalanced(s);
    if (!sequence) return std::nullopt;
    add(start <= s.size() ? s.substr(start) : std::string_view());
    return out;
  }

  // Python's `$` also matches just before a final "\n".
  static std::string_view strip_final_newline(std::string_view e) {
    if (!e.empty() && e.back() == '\n') e.remove_suffix(1);
    return e;
  }

  // Matches -?\d+ at `pos`; returns the text.
  static std::optional<std::string_view> signed_digits(std::string_view e, std::size_t& pos) {
    std::size_t b = pos;
    if (pos < e.size() && e[pos] == '-') ++pos;
    std::size_t d = pos;
    while (pos < e.size() && e[pos] >= '0' && e[pos] <= '9') ++pos;
    if (pos == d) {
      pos = b;
      return std::nullopt;
    }
    return e.substr(b, pos - b);
  }

  // The optional "..-?\d+" step suffix; returns 1 for absent or zero steps.
  static bool parse_step(std::string_view e, std::size_t& pos, std::int64_t& step) {
    step = 1;
    if (pos == e.size()) return true;
    if (e.substr(pos, 2) != "..") return false;
    pos += 2;
    if (pos < e.size() && e[pos] == '-') ++pos;
    std::size_t d = pos;
    std::int64_t v = 0;
    bool big = false;
    while (pos < e.size() && e[pos] >= '0' && e[pos] <= '9') {
      if (v > (std::numeric_limits<std::int64_t>::max() - 9) / 10) big = true;
      if (!big) v = v * 10 + (e[pos] - '0');
      ++pos;
    }
    if (pos == d || pos != e.size()) return false;
    step = big ? std::numeric_limits<std::int64_t>::max() : (v == 0 ? 1 : v);
    return true;
  }

  static std::int64_t to_int(std::string_view s) {
    bool neg = !s.empty() && s[0] == '-';
    std::int64_t v = 0;
    for (char c : s.substr(neg ? 1 : 0)) {
      if (v > (std::int64_t{1} << 58))
        throw InvalidArgument("brace range endpoint too large: " + std::string(s));
      v = v * 10 + (c - '0');
    }
    return neg ? -v : v;
  }

  static std::string format_padded(std::int64_t v, std::size_t width) {
    std::string digits = std::to_string(v < 0 ? -v : v);
    std::string sign = v < 0 ? "-" : "";
    std::size_t len = sign.size() + digits.size();
    return sign + (width > len ? std::string(width - len, '0') : std::string()) + digits;
  }

  std::optional<Strings> int_range(std::string_view e0) const {
    std::string_view e = strip_final_newline(e0);
    std::size_t pos = 0;
    auto left = signed_digits(e, pos);
    if (!left || e.substr(pos, 2) != "..") return std::nullopt;
    pos += 2;
    auto right = signed_digits(e, pos);
    if (!right) return std::nullopt;
    std::int64_t step;
    if (!parse_step(e, pos, step)) return std::nullopt;
    std::size_t padding = 0;
    for (std::string_view s : {*left, *right}) {
      if (s == "0" || s == "-0") continue;
      if (s.substr(0, 1) == "0" || s.substr(0, 2) == "-0") padding = std::max(left->size(), right->size());
    }
    std::int64_t a = to_int(*left), b = to_int(*right);
    std::uint64_t span = a < b ? static_cast<std::uint64_t>(b - a) : static_cast<std::uint64_t>(a - b);
    std::uint64_t count = span / static_cast<std::uint64_t>(step) + 1;
    check(static_cast<std::size_t>(std::min<std::uint64_t>(count, max_results + 1)));
    Strings out;
    out.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t i = 0; i < count; ++i) {
      std::int64_t v =
          a < b ? a + static_cast<std::int64_t>(i) * step : a - static_cast<std::int64_t>(i) * step;
      out.push_back(format_padded(v, padding));
    }
    return out;
  }

  std::optional<Strings> char_range(std::string_view e0) const {
    std::string_view e = strip_final_newline(e0);
    auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    if (e.size() < 4 || !letter(e[0]) || e.substr(1, 2) != ".." || !letter(e[3])) return std::nullopt;
    std::size_t pos = 4;
    std::int64_t step;
    if (!parse_step(e, pos, step)) return std::nullopt;
    auto a = static_cast<std::int64_t>(kAlphabet.find(e[0]));
    auto b = static_cast<std::int64_t>(kAlphabet.find(e[3]));
    Strings out;
    if (a < b) {
      for (std::int64_t i = a; i <= b; i += step) {
        out.emplace_back(1, kAlphabet[static_cast<std::size_t>(i)]);
        if (step > 52) break;
      }
    } else {
      for (std::int64_t i = a; i >= b; i -= step) {
        out.emplace_back(1, kAlphabet[static_cast<std::size_t>(i)]);
        if (step > 52) break;
      }
    }
    return out;
  }
};

// Python's re.sub(r'\\(.)', r'\1', s): '.' does not match a newline.
std::string unescape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] != '\n') {
      out.push_back(s[++i]);
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool word_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' || u >= 0x80;
}

// One pass of re.sub(r"\$\{(\w+)\}", lookup, s).
std::string envsubst(std::string_view s) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      std::size_t j = i + 2;
      while (j < s.size() && word_char(s[j])) ++j;
      if (j > i + 2 && j < s.size() && s[j] == '}') {
        std::string var = "WDS_" + std::string(s.substr(i + 2, j - i - 2));
        const char* v = std::getenv(var.c_str());
        if (!v)
          throw InvalidArgument("missing environment variable " + var + " for shard URL '" + std::string(s) +
                                "'");
        out += v;
        i = j + 1;
        continue;
      }
    }
    out.push_back(s[i++]);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::vector<std::string> brace_expand(std::string_view pattern, std::size_t max_results) {
  Expander ex{max_results};
  Strings raw = ex.parse_pattern(pattern);
  for (auto& s : raw) s = unescape(s);
  return raw;
}

std::vector<std::string> expand_urls(std::string_view urls, std::size_t max_urls) {
  std::vector<std::string> result;
  std::size_t start = 0;
  for (;;) {
    std::size_t sep = urls.find("::", start);
    std::string url(urls.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start));
    for (int i = 0; i < 10; ++i) {
      std::string next = envsubst(url);
      if (next == url) break;
      url = std::move(next);
    }
    auto part = brace_expand(url, max_urls);
    if (part.size() > max_urls - result.size())
      throw InvalidArgument("URL list expands to more than " + std::to_string(max_urls) + " URLs");
    for (auto& s : part) result.push_back(std::move(s));
    if (sep == std::string_view::npos) break;
    start = sep + 2;
  }
  return result;
}

std::string url_scheme(std::string_view url) {
  std::size_t i = url.find(':');
  if (i == std::string_view::npos || i == 0) return {};
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(url[0])) return {};
  std::string scheme;
  for (char c : url.substr(0, i)) {
    if (!(alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) return {};
    scheme.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return scheme;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string file_url_to_path(std::string_view url) {
  if (url_scheme(url) != "file") throw InvalidArgument("not a file: URL: " + std::string(url));
  std::string_view rest = url.substr(url.find(':') + 1);
  // urlsplit: fragment, then query, are cut off; "//host" is the netloc.
  rest = rest.substr(0, rest.find('#'));
  rest = rest.substr(0, rest.find('?'));
  if (rest.substr(0, 2) == "//") {
    std::size_t slash = rest.find('/', 2);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  return percent_decode(rest);
}

std::string format_shard_pattern(std::string_view pattern, long long index) {
  std::string out;
  int conversions = 0;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      out.push_back(pattern[i]);
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
      out.push_back('%');
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    bool zero = false, left = false;
    while (j < pattern.size() && (pattern[j] == '0' || pattern[j] == '-')) {
      (pattern[j] == '0' ? zero : left) = true;
      ++j;
    }
    std::size_t width = 0;
    while (j < pattern.size() && pattern[j] >= '0' && pattern[j] <= '9' && width < 1000) {
      width = width * 10 + static_cast<std::size_t>(pattern[j] - '0');
      ++j;
    }
    if (j >= pattern.size() || (pattern[j] != 'd' && pattern[j] != 'i') || width >= 1000) {
      throw InvalidArgument("shard pattern '" + std::string(pattern) + "' must have one %d-style conversion");
    }
    std::string digits = std::to_string(index < 0 ? -index : index);
    std::string num = (index < 0 ? "-" : "");
    std::size_t len = num.size() + digits.size();
    if (width > len && zero && !left) num += std::string(width - len, '0');
    num += digits;
    if (width > num.size())
      num = left ? num + std::string(width - num.size(), ' ') : std::string(width - num.size(), ' ') + num;
    out += num;
    ++conversions;
    i = j;
  }
  if (conversions != 1) {
    throw InvalidArgument("shard pattern '" + std::string(pattern) +
                          "' must have exactly one %d-style conversion");
  }
  return out;
}

}  // namespace atdata
