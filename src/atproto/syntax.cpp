#include "atdata/atproto/syntax.hpp"

namespace atdata::atproto {

namespace {

bool is_alpha(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) noexcept {
  return is_alpha(c) || is_digit(c);
}

// One domain label: 1–63 of [A-Za-z0-9-], no leading/trailing hyphen.
bool is_label(std::string_view l) noexcept {
  if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return false;
  for (char c : l) {
    if (!is_alnum(c) && c != '-') return false;
  }
  return true;
}

template <class F>
bool for_each_segment(std::string_view s, char sep, F&& f) {
  std::size_t start = 0, n = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    auto seg = s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start);
    if (!f(seg, n++, pos == std::string_view::npos)) return false;
    if (pos == std::string_view::npos) return true;
    start = pos + 1;
  }
}

}  // namespace

bool is_valid_nsid(std::string_view s) noexcept {
  if (s.size() > 317) return false;
  std::size_t segments = 0;
  bool ok = for_each_segment(s, '.', [&](std::string_view seg, std::size_t, bool last) {
    ++segments;
    if (!last) return is_label(seg);
    if (seg.empty() || seg.size() > 63 || !is_alpha(seg.front())) return false;
    for (char c : seg) {
      if (!is_alnum(c)) return false;
    }
    return true;
  });
  return ok && segments >= 3;
}

bool is_valid_did(std::string_view s) noexcept {
  if (s.size() > 2048 || s.substr(0, 4) != "did:") return false;
  auto rest = s.substr(4);
  auto colon = rest.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  for (char c : rest.substr(0, colon)) {
    if (c < 'a' || c > 'z') return false;
  }
  auto id = rest.substr(colon + 1);
  if (id.empty() || id.back() == ':' || id.back() == '%') return false;
  for (char c : id) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != ':' && c != '%' && c != '-') return false;
  }
  return true;
}

bool is_valid_handle(std::string_view s) noexcept {
  if (s.size() > 253) return false;
  std::size_t labels = 0;
  std::string_view last_label;
  bool ok = for_each_segment(s, '.', [&](std::string_view seg, std::size_t, bool) {
    ++labels;
    last_label = seg;
    return is_label(seg);
  });
  return ok && labels >= 2 && !is_digit(last_label.front());
}

bool is_valid_rkey(std::string_view s) noexcept {
  if (s.empty() || s.size() > 512 || s == "." || s == "..") return false;
  for (char c : s) {
    if (!is_alnum(c) && c != '.' && c != '_' && c != ':' && c != '~' && c != '-') return false;
  }
  return true;
}

bool is_valid_tid(std::string_view s) noexcept {
  // 13 characters of base32-sortable, the first in [2-7a-j].
  static constexpr std::string_view kAlphabet = "234567abcdefghijklmnopqrstuvwxyz";
  if (s.size() != 13 || kAlphabet.substr(0, 16).find(s[0]) == std::string_view::npos) return false;
  for (char c : s) {
    if (kAlphabet.find(c) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace atdata::atproto
