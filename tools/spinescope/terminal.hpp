#pragma once
// Progress display: a redrawn bar on a terminal, occasional plain lines otherwise. Only tools/ prints.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

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

/// Wall time per stage, from the stage names a progress sink sees (call observe("") at the end).
class StageTimer {
 public:
  void observe(const std::string& stage);
  /// "stage  seconds" lines and a total, plus the process's peak resident memory.
  std::string table() const;

 private:
  std::string current_;
  std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, double>> seconds_;
};

/// True when stderr is a terminal.
bool stderr_is_terminal();

/// Catches SIGINT (Ctrl-C) and SIGTERM (a cluster scheduler's time limit) and returns the flag they raise: the
/// run stops at the next progress step and writes no half-done output. A second signal stops at once.
const std::atomic<bool>* interrupt_flag();

}  // namespace spinescope::cli
