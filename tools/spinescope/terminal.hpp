#pragma once
// Progress display: a redrawn bar on a terminal, occasional plain lines otherwise. Only tools/ prints.
#include <chrono>
#include <mutex>
#include <string>

namespace spinescope::cli {

class ProgressBar {
 public:
  /// @p label precedes the bar; @p quiet suppresses everything.
  explicit ProgressBar(std::string label, bool quiet = false);
  ~ProgressBar();
  /// Sets the overall fraction (0..1) and a short status word (e.g. the stage name). Thread-safe.
  void update(double fraction, const std::string& status);
  /// Clears the bar line (before printing results).
  void finish();

 private:
  std::string label_;
  bool quiet_, tty_, finished_ = false;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int last_percent_ = -1;
  std::string last_status_;
};

/// True when stderr is a terminal.
bool stderr_is_terminal();

}  // namespace spinescope::cli
