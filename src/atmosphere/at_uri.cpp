#include "atdata/atmosphere/at_uri.hpp"

#include <ostream>

#include "atdata/error.hpp"

namespace atdata::atmosphere {

AtUri AtUri::parse(std::string_view s) {
  constexpr std::string_view kScheme = "at://";
  if (!s.starts_with(kScheme)) {
    throw InvalidArgument("Invalid AT URI: must start with 'at://': " + std::string(s));
  }
  std::string_view rest = s.substr(kScheme.size());
  std::size_t a = rest.find('/');
  std::size_t b = a == std::string_view::npos ? a : rest.find('/', a + 1);
  if (b == std::string_view::npos) {
    throw InvalidArgument("Invalid AT URI: expected authority/collection/rkey: " + std::string(s));
  }
  return AtUri(std::string(rest.substr(0, a)), std::string(rest.substr(a + 1, b - a - 1)),
               std::string(rest.substr(b + 1)));
}

std::string AtUri::str() const {
  std::string out;
  out.reserve(5 + authority.size() + collection.size() + rkey.size() + 2);
  out += "at://";
  out += authority;
  out += '/';
  out += collection;
  out += '/';
  out += rkey;
  return out;
}

std::ostream& operator<<(std::ostream& os, const AtUri& u) {
  return os << u.str();
}

}  // namespace atdata::atmosphere
