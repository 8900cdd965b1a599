#pragma once
// A progress bar for long CLI operations (bulk publishing, blob uploads),
// drawn on stderr so stdout stays machine-readable. On a terminal it redraws
// one line in place; otherwise (CI logs, pipes) it prints a plain line at
// every 10 % step so logs show progress without flooding.

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <string>

namespace atdata::cli {

class ProgressBar {
 public:
  using Clock = std::chrono::steady_clock;

  // `label` leads the line ("publishing"), `unit` follows the counts ("records").
  ProgressBar(std::ostream& out, std::string label, std::string unit, bool interactive);

  // `done` of `total` finished; `skipped` of them were already there (counted
  // in done, excluded from the rate).
  void update(std::size_t done, std::size_t total, std::size_t skipped = 0);
  // Ends the line on a terminal; idempotent.
  void finish();

  // The text of one line (no CR/LF), for tests and for both modes.
  static std::string render(const std::string& label, const std::string& unit, std::size_t done,
                            std::size_t total, std::size_t skipped, double seconds, std::size_t width = 30);

 private:
  std::ostream* out_;
  std::string label_, unit_;
  bool interactive_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_{};
  int last_decile_ = -1;
  bool drawn_ = false, finished_ = false;
};

// True when the stream is std::cerr and standard error is a terminal.
bool is_terminal(const std::ostream& s);

}  // namespace atdata::cli
