#pragma once
// Rate-limit bookkeeping from response headers (pure, no I/O). A PDS with
// limits on sends RateLimit-Limit/-Remaining/-Reset/-Policy on every answer
// (Reset = Unix seconds at @atproto/xrpc-server; the IETF draft uses a delta,
// both are accepted) and 429 + the same headers when a limit is hit. Proxies
// may send Retry-After (delta seconds or an HTTP-date).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace atdata::atproto {

struct RateLimitInfo {
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> remaining;
  std::optional<std::chrono::system_clock::time_point> reset;  // when `remaining` refills
  std::string policy;                                          // e.g. "3000;w=300"

  bool known() const noexcept { return limit || remaining || reset; }
};

// Values of the RateLimit-* headers (nullopt = header absent).
RateLimitInfo parse_rate_limit(std::optional<std::string_view> limit,
                               std::optional<std::string_view> remaining,
                               std::optional<std::string_view> reset, std::optional<std::string_view> policy,
                               std::chrono::system_clock::time_point now);

// Retry-After: "120" or "Wed, 21 Oct 2015 07:28:00 GMT" → delay from `now`
// (never negative). nullopt when unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

// IMF-fixdate (RFC 9110 §5.6.7) → time point; nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view value);

// Exponential backoff for attempt 0, 1, 2, …: base·2^attempt capped at `cap`,
// with "equal jitter" (half fixed, half random from `random01` in [0,1)) so
// concurrent clients do not retry in lockstep.
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds base,
                                        std::chrono::milliseconds cap, double random01);

}  // namespace atdata::atproto
