#pragma once
// Reconnect delays for the Jetstream client: capped exponential backoff with
// jitter, pure so that tests can check it without a clock.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace atdata::atproto::detail {

// The delay before reconnect attempt `attempt` (0-based): d = min(max,
// initial * 2^attempt), then d/2 + jitter * d/2 with jitter in [0, 1].
// Half-jitter keeps a floor (no hammering) while spreading many clients
// that lost the same server at the same moment.
inline std::chrono::milliseconds jetstream_backoff_delay(std::chrono::milliseconds initial,
                                                         std::chrono::milliseconds max, unsigned attempt,
                                                         double jitter) {
  const double j = std::clamp(jitter, 0.0, 1.0);
  std::int64_t d = std::max<std::int64_t>(initial.count(), 1);
  for (unsigned i = 0; i < attempt && d < max.count(); ++i) d *= 2;
  d = std::min<std::int64_t>(d, std::max(max.count(), initial.count()));
  const auto half = static_cast<double>(d) / 2.0;
  return std::chrono::milliseconds(static_cast<std::int64_t>(half + j * half));
}

class JetstreamBackoff {
 public:
  JetstreamBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max), rng_(std::random_device{}()) {}
  std::chrono::milliseconds next() {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const auto d = jetstream_backoff_delay(initial_, max_, attempt_, u(rng_));
    if (attempt_ < 64) ++attempt_;
    return d;
  }
  void reset() noexcept { attempt_ = 0; }
  unsigned attempt() const noexcept { return attempt_; }

 private:
  std::chrono::milliseconds initial_, max_;
  unsigned attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace atdata::atproto::detail
