// Large volume buffers on transparent huge pages (see detail::allocate_large in volume.hpp).
#include <sys/mman.h>

#include <cstdlib>
#include <new>

#include "spinescope/volume.hpp"

namespace spinescope::detail {

namespace {
constexpr std::size_t kHugePage = std::size_t{2} << 20;
std::size_t rounded(std::size_t bytes) { return (bytes + kHugePage - 1) / kHugePage * kHugePage; }
}  // namespace

void* allocate_large(std::size_t bytes) {
  const std::size_t size = rounded(bytes);
  void* p = std::aligned_alloc(kHugePage, size);
  if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  ::madvise(p, size, MADV_HUGEPAGE);  // advice only: without THP the buffer still works
#endif
  return p;
}

void free_large(void* p, std::size_t /*bytes*/) { std::free(p); }

}  // namespace spinescope::detail
