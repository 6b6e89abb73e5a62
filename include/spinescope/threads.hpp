#pragma once
/// @file threads.hpp
/// @brief The one place that caps TBB's threads for a run (no global setters elsewhere).

#include <memory>

namespace spinescope {

/// @brief While alive, limits TBB to @p threads worker threads (0 = all cores).
class ThreadLimit {
 public:
  explicit ThreadLimit(int threads);
  ~ThreadLimit();
  ThreadLimit(const ThreadLimit&) = delete;
  ThreadLimit& operator=(const ThreadLimit&) = delete;
  /// @brief The number of threads TBB may use now.
  static int current();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spinescope
