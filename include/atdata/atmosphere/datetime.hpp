#pragma once
// `createdAt` timestamps. Written exactly like Python's datetime.isoformat() for
// a UTC datetime (what Python atdata writes); read from any RFC 3339 form.

#include <chrono>
#include <string>
#include <string_view>

namespace atdata::atmosphere {

using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// The current UTC time at microsecond precision.
Timestamp now_utc() noexcept;

// `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`; the fraction is omitted when it is 0.
std::string format_created_at(Timestamp t);

// Any RFC 3339 date-time (`T`/`t`/space separator, optional fraction of any
// length, `Z`/`z` or a numeric offset), converted to UTC; digits past
// microseconds are truncated. Throws atdata::InvalidArgument when malformed.
Timestamp parse_datetime(std::string_view s);

}  // namespace atdata::atmosphere
