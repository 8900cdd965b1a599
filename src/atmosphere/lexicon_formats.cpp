// String formats of the Lexicon language. Each mirrors the regular expression
// or parser of @atproto/syntax (named in the comments) with hand-written
// scanners, so no input can make them slow.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "atmosphere/lexicon_formats.hpp"

#include "atdata/atproto/syntax.hpp"

namespace atdata::atmosphere::detail {

namespace {

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}

template <class Pred>
bool all_of(std::string_view s, Pred p) {
  for (char c : s) {
    if (!p(c)) return false;
  }
  return true;
}

// Splits on `sep`, keeping empty parts.
std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

// A DNS-style label: 1–63 of [A-Za-z0-9-], not starting or ending with '-'.
bool is_label(std::string_view l) {
  return !l.empty() && l.size() <= 63 && is_alnum(l.front()) && is_alnum(l.back()) &&
         all_of(l, [](char c) { return is_alnum(c) || c == '-'; });
}

int parse2(std::string_view s, std::size_t at) {
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

bool digits_at(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return false;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_digit(s[at + i])) return false;
  }
  return true;
}

// JavaScript's \s: the whitespace a JS regular expression skips.
bool is_js_space(std::uint32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0a:
    case 0x0b:
    case 0x0c:
    case 0x0d:
    case 0x20:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
    case 0xfeff:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200a;
  }
}

// The code points of UTF-8 text (an invalid byte becomes U+FFFD).
std::vector<std::uint32_t> code_points(std::string_view s) {
  std::vector<std::uint32_t> out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    int len = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || i + static_cast<std::size_t>(len) > s.size()) {
      out.push_back(0xfffd);
      ++i;
      continue;
    }
    std::uint32_t cp = len == 1 ? b : b & (0xff >> (len + 1));
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      unsigned char c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((c & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (!ok) {
      out.push_back(0xfffd);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

// ---- CID (multiformats CID.parse) ------------------------------------------

std::optional<std::vector<std::uint8_t>> base32_decode(std::string_view s) {
  // multiformats' RFC 4648 decoder: lower-case alphabet, trailing '=' ignored,
  // no leftover bits that do not fit.
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  std::vector<std::uint8_t> out;
  out.reserve(s.size() * 5 / 8);
  unsigned buffer = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'a' && c <= 'z') {
      v = c - 'a';
    } else if (c >= '2' && c <= '7') {
      v = c - '2' + 26;
    } else {
      return std::nullopt;
    }
    buffer = (buffer << 5) | static_cast<unsigned>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(buffer >> bits));
    }
    buffer &= 0xff;
  }
  if (bits >= 5 || ((buffer << (8 - bits)) & 0xff) != 0) return std::nullopt;
  return out;
}

std::optional<std::vector<std::uint8_t>> base58_decode(std::string_view s) {
  static constexpr std::string_view kAlphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  if (s.empty()) return std::nullopt;
  std::size_t zeros = 0;
  while (zeros < s.size() && s[zeros] == '1') ++zeros;
  std::vector<std::uint8_t> b256((s.size() - zeros) * 733 / 1000 + 1, 0);
  std::size_t length = 0;
  for (std::size_t i = zeros; i < s.size(); ++i) {
    std::size_t digit = kAlphabet.find(s[i]);
    if (digit == std::string_view::npos) return std::nullopt;
    unsigned carry = static_cast<unsigned>(digit);
    std::size_t k = 0;
    for (auto it = b256.rbegin(); (carry != 0 || k < length) && it != b256.rend(); ++it, ++k) {
      carry += 58u * *it;
      *it = static_cast<std::uint8_t>(carry % 256);
      carry /= 256;
    }
    if (carry != 0) return std::nullopt;
    length = k;
  }
  std::vector<std::uint8_t> out(zeros, 0);
  out.insert(out.end(), b256.end() - static_cast<std::ptrdiff_t>(length), b256.end());
  return out;
}

std::optional<std::uint64_t> read_varint(const std::vector<std::uint8_t>& b, std::size_t& pos) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 63; shift += 7) {
    if (pos >= b.size()) return std::nullopt;
    std::uint8_t byte = b[pos++];
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return v;
  }
  return std::nullopt;
}

bool is_cid_bytes(const std::vector<std::uint8_t>& b) {
  std::size_t pos = 0;
  auto version = read_varint(b, pos);
  if (!version) return false;
  if (*version == 0x12) {
    // CIDv0: the bytes are a bare multihash (code 0x12, then its digest size).
    std::size_t p = 1;
    auto digest = read_varint(b, p);
    return digest && b.size() - p == *digest;
  }
  if (*version != 1) return false;
  auto codec = read_varint(b, pos);
  auto hash = read_varint(b, pos);
  auto size = read_varint(b, pos);
  if (!codec || !hash || !size) return false;
  return b.size() - pos == *size;
}

// ---- BCP 47 (@atproto/syntax isValidLanguage) ------------------------------

bool is_grandfathered(std::string_view s) {
  static constexpr std::string_view kTags[] = {
      "en-GB-oed", "i-ami",     "i-bnn",     "i-default",  "i-enochian",  "i-hak",  "i-klingon",
      "i-lux",     "i-mingo",   "i-navajo",  "i-pwn",      "i-tao",       "i-tay",  "i-tsu",
      "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE", "art-lojban", "cel-gaulish", "no-bok", "no-nyn",
      "zh-guoyu",  "zh-hakka",  "zh-min",    "zh-min-nan", "zh-xiang"};
  for (auto t : kTags) {
    if (s == t) return true;
  }
  return false;
}

// "x-…" private use: one or more 1–8 alphanumeric subtags after the x.
bool is_private_use(const std::vector<std::string_view>& parts, std::size_t from) {
  if (from >= parts.size() || parts[from] != "x" || from + 1 == parts.size()) return false;
  for (std::size_t i = from + 1; i < parts.size(); ++i) {
    if (parts[i].empty() || parts[i].size() > 8 || !all_of(parts[i], is_alnum)) return false;
  }
  return true;
}

}  // namespace

bool is_lexicon_datetime(std::string_view s) {
  // The ATProto datetime: RFC 3339 with upper-case 'T', seconds, an optional
  // fraction and a 'Z' or ±hh:mm offset ("-00:00" is not allowed), at most 64
  // characters, naming a real calendar day.
  if (s.size() > 64 || s.ends_with("-00:00")) return false;
  if (s.size() < 20 || !digits_at(s, 0, 4) || s[4] != '-' || !digits_at(s, 5, 2) || s[7] != '-' ||
      !digits_at(s, 8, 2) || s[10] != 'T' || !digits_at(s, 11, 2) || s[13] != ':' || !digits_at(s, 14, 2) ||
      s[16] != ':' || !digits_at(s, 17, 2))
    return false;
  int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + parse2(s, 2);
  int month = parse2(s, 5), day = parse2(s, 8), hour = parse2(s, 11), minute = parse2(s, 14),
      second = parse2(s, 17);
  // No leap second: JavaScript dates, which the official check parses with, have none.
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return false;
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int max_day = kDays[static_cast<std::size_t>(month - 1)] + (month == 2 && leap ? 1 : 0);
  if (day < 1 || day > max_day) return false;
  std::size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    std::size_t start = ++pos;
    while (pos < s.size() && is_digit(s[pos])) ++pos;
    if (pos == start) return false;
  }
  if (pos < s.size() && s[pos] == 'Z') return pos + 1 == s.size();
  if (pos + 6 != s.size() || (s[pos] != '+' && s[pos] != '-') || !digits_at(s, pos + 1, 2) ||
      s[pos + 3] != ':' || !digits_at(s, pos + 4, 2))
    return false;
  return parse2(s, pos + 1) <= 23 && parse2(s, pos + 4) <= 59;
}

bool is_lexicon_uri(std::string_view s) {
  // /^\w+:(?:\/\/)?[^\s/][^\s]*$/ — a scheme, then something that is neither
  // empty nor starts with a third slash, without whitespace. So `file:///x`
  // (empty authority) is not a uri here, while `file://host/x` is.
  std::size_t colon = 0;
  while (colon < s.size() && (is_alnum(s[colon]) || s[colon] == '_')) ++colon;
  if (colon == 0 || colon >= s.size() || s[colon] != ':') return false;
  std::string_view rest = s.substr(colon + 1);
  if (rest.starts_with("//")) rest.remove_prefix(2);
  if (rest.empty() || rest.front() == '/') return false;
  for (std::uint32_t cp : code_points(rest)) {
    if (is_js_space(cp)) return false;
  }
  return true;
}

bool is_did(std::string_view s) {
  // /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/, at most 2048 characters.
  if (s.size() > 2048 || !s.starts_with("did:")) return false;
  std::size_t p = 4;
  std::size_t method_start = p;
  while (p < s.size() && s[p] >= 'a' && s[p] <= 'z') ++p;
  if (p == method_start || p >= s.size() || s[p] != ':') return false;
  std::string_view id = s.substr(p + 1);
  if (id.empty()) return false;
  auto allowed = [](char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == ':' || c == '%' || c == '-';
  };
  if (!all_of(id, allowed)) return false;
  return id.back() != ':' && id.back() != '%';
}

bool is_handle(std::string_view s) {
  // At least two DNS labels, the last starting with a letter; ≤ 253 characters.
  if (s.size() > 253) return false;
  auto labels = split(s, '.');
  if (labels.size() < 2) return false;
  for (auto l : labels) {
    if (!is_label(l)) return false;
  }
  return is_alpha(labels.back().front());
}

bool is_at_identifier(std::string_view s) {
  if (s.empty()) return false;
  return s.starts_with("did:") ? is_did(s) : is_handle(s);
}

bool is_nsid(std::string_view s) {
  // A reversed domain of ≥ 2 labels (the first starting with a letter) and a
  // name of letters and digits starting with a letter; 5–317 characters.
  if (s.size() < 5 || s.size() > 253 + 1 + 63) return false;
  auto parts = split(s, '.');
  if (parts.size() < 3) return false;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!is_label(parts[i])) return false;
  }
  if (!is_alpha(parts.front().front())) return false;
  std::string_view name = parts.back();
  return !name.empty() && name.size() <= 63 && is_alpha(name.front()) && all_of(name, is_alnum);
}

bool is_tid(std::string_view s) {
  return atproto::is_valid_tid(s);
}

bool is_record_key(std::string_view s) {
  if (s.empty() || s.size() > 512 || s == "." || s == "..") return false;
  return all_of(
      s, [](char c) { return is_alnum(c) || c == '_' || c == '~' || c == '.' || c == ':' || c == '-'; });
}

bool is_at_uri(std::string_view s) {
  // The strict AT-URI parse of @atproto/syntax: at://authority[/collection[/rkey]]
  // with an optional JSON-pointer fragment, no query, no trailing slash.
  if (s.size() > 8192) return false;
  static constexpr std::string_view kAllowed = "._~:@!$&'()*+,;=%/\\[]#?-";
  for (char c : s) {
    if (!is_alnum(c) && kAllowed.find(c) == std::string_view::npos) return false;
  }
  if (!s.starts_with("at://")) return false;
  std::string_view rest = s.substr(5);
  std::string_view hash;
  bool has_hash = false;
  if (auto h = rest.find('#'); h != std::string_view::npos) {
    hash = rest.substr(h + 1);
    rest = rest.substr(0, h);
    has_hash = true;
  }
  if (rest.find('?') != std::string_view::npos) return false;  // a query
  auto parts = split(rest, '/');
  if (parts.size() > 3) return false;
  for (auto p : parts) {
    if (p.empty()) return false;  // empty segment or trailing slash
  }
  if (!is_at_identifier(parts[0])) return false;
  if (parts.size() > 1 && !is_nsid(parts[1])) return false;
  if (parts.size() > 2 && !is_record_key(parts[2])) return false;
  if (has_hash) {
    static constexpr std::string_view kPointer = "._~:@!$&')(*+,;=%[]/-";
    if (!hash.starts_with('/')) return false;
    for (char c : hash) {
      if (!is_alnum(c) && kPointer.find(c) == std::string_view::npos) return false;
    }
    // decodeURIComponent must succeed: every '%' starts a hex pair, and the
    // decoded bytes are UTF-8.
    std::string decoded;
    for (std::size_t i = 0; i < hash.size(); ++i) {
      if (hash[i] != '%') {
        decoded += hash[i];
        continue;
      }
      auto hex = [](char c) {
        return is_digit(c)              ? c - '0'
               : (c >= 'a' && c <= 'f') ? c - 'a' + 10
               : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                        : -1;
      };
      if (i + 2 >= hash.size()) return false;
      int hi = hex(hash[i + 1]), lo = hex(hash[i + 2]);
      if (hi < 0 || lo < 0) return false;
      decoded += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (!is_valid_utf8(decoded)) return false;
  }
  return true;
}

bool is_cid_string(std::string_view s) {
  // multiformats CID.parse: base32 ('b'), base58btc ('z') or a CIDv0 ('Qm…').
  // Valid CIDs are far shorter than the bound, which keeps base58 (quadratic) cheap.
  if (s.empty() || s.size() > 2048) return false;
  std::optional<std::vector<std::uint8_t>> bytes;
  if (s[0] == 'Q') {
    bytes = base58_decode(s);
  } else if (s[0] == 'z') {
    bytes = base58_decode(s.substr(1));
  } else if (s[0] == 'b') {
    bytes = base32_decode(s.substr(1));
  }
  return bytes && !bytes->empty() && is_cid_bytes(*bytes);
}

bool is_language_tag(std::string_view s) {
  if (is_grandfathered(s)) return true;
  auto parts = split(s, '-');
  for (auto p : parts) {
    if (p.empty()) return false;
  }
  if (is_private_use(parts, 0)) return true;
  std::size_t i = 0;
  auto alpha_n = [](std::string_view p, std::size_t lo, std::size_t hi) {
    return p.size() >= lo && p.size() <= hi && all_of(p, is_alpha);
  };
  // language: 2–3 letters (+ up to three 3-letter extlangs), 4 letters, or 5–8 letters.
  if (alpha_n(parts[0], 2, 3)) {
    ++i;
    for (int k = 0; k < 3 && i < parts.size() && alpha_n(parts[i], 3, 3); ++k) ++i;
  } else if (alpha_n(parts[0], 4, 8)) {
    ++i;
  } else {
    return false;
  }
  if (i < parts.size() && alpha_n(parts[i], 4, 4)) ++i;  // script
  if (i < parts.size() && (alpha_n(parts[i], 2, 2) || (parts[i].size() == 3 && all_of(parts[i], is_digit))))
    ++i;  // region
  auto is_variant = [](std::string_view p) {
    return ((p.size() >= 5 && p.size() <= 8) || (p.size() == 4 && is_digit(p[0]))) && all_of(p, is_alnum);
  };
  while (i < parts.size() && is_variant(parts[i])) ++i;
  // extensions: a singleton other than x, then one or more 2–8 alphanumerics.
  while (i < parts.size() && parts[i].size() == 1 && is_alnum(parts[i][0]) && parts[i] != "x" &&
         parts[i] != "X") {
    std::size_t j = i + 1;
    while (j < parts.size() && parts[j].size() >= 2 && parts[j].size() <= 8 && all_of(parts[j], is_alnum))
      ++j;
    if (j == i + 1) return false;
    i = j;
  }
  if (i == parts.size()) return true;
  return is_private_use(parts, i);
}

}  // namespace atdata::atmosphere::detail
