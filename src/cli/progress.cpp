#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace atdata::cli {

ProgressBar::ProgressBar(std::ostream& out, std::string label, std::string unit, bool interactive)
    : out_(&out), label_(std::move(label)), unit_(std::move(unit)), interactive_(interactive) {}

std::string ProgressBar::render(const std::string& label, const std::string& unit, std::size_t done,
                                std::size_t total, std::size_t skipped, double seconds, std::size_t width) {
  const double frac =
      total == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  const auto fill = static_cast<std::size_t>(frac * static_cast<double>(width));
  std::string s = label + " [";
  s.append(fill, '#');
  s.append(width - fill, '-');
  char buf[160];
  std::snprintf(buf, sizeof buf, "] %zu/%zu %s %3d%%", done, total, unit.c_str(),
                static_cast<int>(frac * 100));
  s += buf;
  if (skipped > 0) {
    std::snprintf(buf, sizeof buf, " (%zu already present)", skipped);
    s += buf;
  }
  const std::size_t fresh = done - std::min(done, skipped);
  if (seconds > 0.05 && fresh > 0) {
    const double rate = static_cast<double>(fresh) / seconds;
    std::snprintf(buf, sizeof buf, " %.0f/s", rate);
    s += buf;
    if (done < total && rate > 0) {
      std::snprintf(buf, sizeof buf, " ETA %.0fs", static_cast<double>(total - done) / rate);
      s += buf;
    }
  }
  return s;
}

void ProgressBar::update(std::size_t done, std::size_t total, std::size_t skipped) {
  if (finished_) return;
  const auto now = Clock::now();
  const double secs = std::chrono::duration<double>(now - start_).count();
  if (interactive_) {
    // Redraw at most ~10 times a second, but always the final state.
    if (done < total && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    *out_ << '\r' << render(label_, unit_, done, total, skipped, secs) << "\x1b[K" << std::flush;
  } else {
    const int decile = total == 0 ? 10 : static_cast<int>(done * 10 / total);
    if (decile == last_decile_) return;
    last_decile_ = decile;
    *out_ << render(label_, unit_, done, total, skipped, secs) << '\n' << std::flush;
  }
  last_draw_ = now;
  drawn_ = true;
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (interactive_ && drawn_) *out_ << '\n' << std::flush;
}

bool is_terminal(const std::ostream& s) {
  return &s == &std::cerr && ::isatty(STDERR_FILENO) == 1;
}

}  // namespace atdata::cli
