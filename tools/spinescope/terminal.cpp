#include "terminal.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace spinescope::cli {

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

namespace {
std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void on_interrupt(int sig) {
  if (g_interrupted.exchange(true)) {  // the second signal: stop now, as without a handler
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  static const char msg[] = "\nspinescope: stopping at the next step; no half-written output is left "
                            "(signal again to stop at once)\n";
  const ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
}
}  // namespace

const std::atomic<bool>* interrupt_flag() {
  static const bool installed = [] {
    struct sigaction action;
    std::memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    for (int sig : {SIGINT, SIGTERM}) ::sigaction(sig, &action, nullptr);
    return true;
  }();
  (void)installed;
  return &g_interrupted;
}

ProgressBar::ProgressBar(std::string label, bool quiet)
    : label_(std::move(label)), quiet_(quiet), tty_(stderr_is_terminal()),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(double fraction, const std::string& status) {
  if (quiet_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const int percent = static_cast<int>(std::floor(std::max(0.0, std::min(1.0, fraction)) * 100.0));
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (tty_) {
    if (percent == last_percent_ && status == last_status_ &&
        now - last_draw_ < std::chrono::milliseconds(200))
      return;
    const int width = 30, filled = percent * width / 100;
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(width, '.');
    std::string eta;
    if (fraction > 0.02 && fraction < 1.0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, ", ~%.0f s left", elapsed * (1.0 - fraction) / fraction);
      eta = buf;
    }
    std::fprintf(stderr, "\r\033[K%s [%s] %3d%% %s (%.1f s%s)", label_.c_str(), bar.c_str(), percent, status.c_str(),
                 elapsed, eta.c_str());
    std::fflush(stderr);
  } else if (status != last_status_) {
    // Not a terminal (a log file, a cluster job): one line per step, no redraws.
    std::fprintf(stderr, "%s: %s (%.1f s)\n", label_.c_str(), status.c_str(), elapsed);
  }
  last_percent_ = percent;
  last_status_ = status;
  last_draw_ = now;
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_ || quiet_) return;
  finished_ = true;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
  }
}

void StageTimer::observe(const std::string& stage) {
  if (stage == current_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!current_.empty()) seconds_.emplace_back(current_, std::chrono::duration<double>(now - since_).count());
  current_ = stage;
  since_ = now;
}

std::string StageTimer::table() const {
  std::string out;
  double total = 0.0;
  char line[128];
  for (const auto& [stage, s] : seconds_) {
    std::snprintf(line, sizeof line, "  %-12s %7.3f s\n", stage.c_str(), s);
    out += line;
    total += s;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::snprintf(line, sizeof line, "  %-12s %7.3f s, peak memory %.0f MB\n", "total", total, usage.ru_maxrss / 1024.0);
  return out + line;
}

}  // namespace spinescope::cli
