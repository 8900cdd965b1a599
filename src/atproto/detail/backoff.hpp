#pragma once
// Reconnect delays of the event-stream subscribers (Firehose, Jetstream):
// capped exponential backoff with jitter, pure so that tests can check it
// without a clock.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace atdata::atproto::detail {

// The delay before reconnect attempt `attempt` (0-based): d = min(max,
// initial * 2^attempt), then d*(1-f) + u*f*d with u in [0, 1] and f the
// jitter fraction (default 1/2). A floor keeps clients from hammering a
// server; the random part spreads many clients that lost the same server at
// the same moment.
inline std::chrono::milliseconds backoff_delay(std::chrono::milliseconds initial,
                                               std::chrono::milliseconds max, unsigned attempt, double u,
                                               double fraction = 0.5) {
  const double j = std::clamp(u, 0.0, 1.0);
  const double f = std::clamp(fraction, 0.0, 1.0);
  std::int64_t d = std::max<std::int64_t>(initial.count(), 1);
  for (unsigned i = 0; i < attempt && d < max.count(); ++i) d *= 2;
  d = std::min<std::int64_t>(d, std::max(max.count(), initial.count()));
  const auto dd = static_cast<double>(d);
  return std::chrono::milliseconds(static_cast<std::int64_t>(dd * (1 - f) + j * f * dd));
}

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double fraction = 0.5)
      : initial_(initial), max_(max), fraction_(fraction), rng_(std::random_device{}()) {}
  std::chrono::milliseconds next() {
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const auto d = backoff_delay(initial_, max_, attempt_, u(rng_), fraction_);
    if (attempt_ < 64) ++attempt_;
    return d;
  }
  void reset() noexcept { attempt_ = 0; }
  unsigned attempt() const noexcept { return attempt_; }

 private:
  std::chrono::milliseconds initial_, max_;
  double fraction_;
  unsigned attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace atdata::atproto::detail
