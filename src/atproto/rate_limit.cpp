#include "atdata/atproto/rate_limit.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace atdata::atproto {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  s = trim(s);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Values this large are absolute Unix times, smaller ones are deltas (2001-09-09).
constexpr std::int64_t kEpochThreshold = 1'000'000'000;

}  // namespace

RateLimitInfo parse_rate_limit(std::optional<std::string_view> limit,
                               std::optional<std::string_view> remaining,
                               std::optional<std::string_view> reset, std::optional<std::string_view> policy,
                               std::chrono::system_clock::time_point now) {
  RateLimitInfo out;
  if (limit) out.limit = parse_int(*limit);
  if (remaining) out.remaining = parse_int(*remaining);
  if (reset) {
    if (auto r = parse_int(*reset); r && *r >= 0 && *r < (std::int64_t{1} << 40)) {
      out.reset = *r >= kEpochThreshold ? std::chrono::system_clock::time_point(std::chrono::seconds(*r))
                                        : now + std::chrono::seconds(*r);
    }
  }
  if (policy) out.policy = std::string(trim(policy->substr(0, 200)));
  return out;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view v) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  v = trim(v);
  if (v.size() != 29 || v[3] != ',' || v[4] != ' ' || v.substr(25) != " GMT") return std::nullopt;
  static constexpr std::string_view kMonths = "JanFebMarAprMayJunJulAugSepOctNovDec";
  auto num = [&](std::size_t pos, std::size_t len) -> int {
    int x = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (v[i] < '0' || v[i] > '9') return -1;
      x = x * 10 + (v[i] - '0');
    }
    return x;
  };
  int day = num(5, 2), year = num(12, 4), hh = num(17, 2), mm = num(20, 2), ss = num(23, 2);
  auto mpos = kMonths.find(v.substr(8, 3));
  if (day < 1 || day > 31 || year < 1970 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 ||
      mpos == std::string_view::npos || mpos % 3 != 0 || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' ||
      v[19] != ':' || v[22] != ':') {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = static_cast<int>(mpos / 3);
  tm.tm_mday = day;
  tm.tm_hour = hh;
  tm.tm_min = mm;
  tm.tm_sec = ss;
  std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  using namespace std::chrono;
  if (auto secs = parse_int(value)) {
    if (*secs < 0) return std::nullopt;
    return milliseconds(std::min<std::int64_t>(*secs, 365LL * 24 * 3600) * 1000);
  }
  if (auto when = parse_http_date(value)) {
    return std::max(milliseconds(0), duration_cast<milliseconds>(*when - now));
  }
  return std::nullopt;
}

std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, double random01) {
  attempt = std::clamp(attempt, 0, 30);
  auto full = base.count() * (std::int64_t{1} << std::min(attempt, 20));
  full = std::min<std::int64_t>(full, cap.count());
  random01 = std::clamp(random01, 0.0, 1.0);
  auto half = full / 2;
  return std::chrono::milliseconds(half +
                                   static_cast<std::int64_t>(static_cast<double>(full - half) * random01));
}

}  // namespace atdata::atproto
