#include "atdata/core/keys.hpp"

#include <atomic>
#include <chrono>

namespace atdata {

namespace {
std::atomic<std::uint64_t> g_last_timestamp{0};
}

std::uint64_t KeyGenerator::next_timestamp() noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  const std::uint64_t now = timestamp_from_unix_ns(static_cast<std::uint64_t>(ns));
  std::uint64_t prev = g_last_timestamp.load(std::memory_order_relaxed);
  std::uint64_t next;
  do {
    next = now > prev ? now : prev + 1;  // Python: if timestamp <= last: timestamp = last + 1
  } while (!g_last_timestamp.compare_exchange_weak(prev, next, std::memory_order_relaxed));
  return next;
}

std::string KeyGenerator::format(std::uint64_t timestamp) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::uint32_t time_low = static_cast<std::uint32_t>(timestamp & 0xffffffffu);
  const std::uint16_t time_mid = static_cast<std::uint16_t>((timestamp >> 32) & 0xffffu);
  const std::uint16_t time_hi_version = static_cast<std::uint16_t>(((timestamp >> 48) & 0x0fffu) | 0x1000u);
  std::string s = "00000000-0000-0000-8000-000000000000";
  for (int i = 0; i < 8; ++i) s[i] = kHex[(time_low >> (28 - 4 * i)) & 15];
  for (int i = 0; i < 4; ++i) s[9 + i] = kHex[(time_mid >> (12 - 4 * i)) & 15];
  for (int i = 0; i < 4; ++i) s[14 + i] = kHex[(time_hi_version >> (12 - 4 * i)) & 15];
  return s;
}

std::string KeyGenerator::next() {
  return format(next_timestamp());
}

std::string make_uuid1_key() {
  return KeyGenerator::next();
}

}  // namespace atdata
