#include "atdata/atmosphere/datetime.hpp"

#include <cstdio>

#include "atdata/error.hpp"

namespace atdata::atmosphere {

namespace chr = std::chrono;

Timestamp now_utc() noexcept {
  return chr::time_point_cast<chr::microseconds>(chr::system_clock::now());
}

std::string format_created_at(Timestamp t) {
  auto day = chr::floor<chr::days>(t);
  chr::year_month_day ymd{day};
  chr::hh_mm_ss<chr::microseconds> hms{t - day};
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                        static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                        static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                        static_cast<int>(hms.seconds().count()));
  std::string out(buf, static_cast<std::size_t>(n));
  if (auto us = hms.subseconds().count(); us != 0) {
    std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(us));
    out += buf;
  }
  out += "+00:00";
  return out;
}

namespace {

[[noreturn]] void bad(std::string_view s, const char* why) {
  throw InvalidArgument("invalid RFC 3339 date-time '" + std::string(s) + "': " + why);
}

// Parses exactly `n` ASCII digits at `s[pos]`.
int digits(std::string_view s, std::size_t& pos, int n) {
  if (pos + static_cast<std::size_t>(n) > s.size()) bad(s, "truncated");
  int v = 0;
  for (int i = 0; i < n; ++i) {
    char c = s[pos++];
    if (c < '0' || c > '9') bad(s, "expected a digit");
    v = v * 10 + (c - '0');
  }
  return v;
}

void expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) bad(s, "unexpected character");
  ++pos;
}

}  // namespace

Timestamp parse_datetime(std::string_view s) {
  std::size_t pos = 0;
  int y = digits(s, pos, 4);
  expect(s, pos, '-');
  int mo = digits(s, pos, 2);
  expect(s, pos, '-');
  int d = digits(s, pos, 2);
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) bad(s, "expected 'T'");
  ++pos;
  int h = digits(s, pos, 2);
  expect(s, pos, ':');
  int mi = digits(s, pos, 2);
  expect(s, pos, ':');
  int sec = digits(s, pos, 2);
  long long us = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 6) us = us * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) bad(s, "empty fraction");
    for (int i = n; i < 6; ++i) us *= 10;
  }
  int offset_min = 0;
  if (pos >= s.size()) bad(s, "missing time zone offset");
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = digits(s, pos, 2);
    expect(s, pos, ':');
    int om = digits(s, pos, 2);
    if (oh > 23 || om > 59) bad(s, "offset out of range");
    offset_min = sign * (oh * 60 + om);
  } else {
    bad(s, "expected 'Z' or an offset");
  }
  if (pos != s.size()) bad(s, "trailing characters");

  chr::year_month_day ymd{chr::year{y}, chr::month{static_cast<unsigned>(mo)},
                          chr::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) bad(s, "no such date");
  if (h > 23 || mi > 59 || sec > 60) bad(s, "time out of range");  // 60 = leap second
  return Timestamp{chr::sys_days{ymd}} + chr::hours{h} + chr::minutes{mi} + chr::seconds{sec} +
         chr::microseconds{us} - chr::minutes{offset_min};
}

}  // namespace atdata::atmosphere
