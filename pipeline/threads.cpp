#include "spinescope/threads.hpp"

#include <tbb/global_control.h>

namespace spinescope {

struct ThreadLimit::Impl {
  std::unique_ptr<tbb::global_control> control;
};

ThreadLimit::ThreadLimit(int threads) : impl_(new Impl) {
  if (threads > 0)
    impl_->control = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                          static_cast<std::size_t>(threads));
}

ThreadLimit::~ThreadLimit() = default;

int ThreadLimit::current() {
  return static_cast<int>(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
}

}  // namespace spinescope
