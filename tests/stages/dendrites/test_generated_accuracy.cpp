#include <gtest/gtest.h>

#include "generated_accuracy.hpp"

namespace spinescope {
namespace {

// Four small generated stacks (default noise, crossings allowed); the notes report the same measure over more
// and larger stacks (dendrite_accuracy).
class DendritesGenerated : public ::testing::TestWithParam<int> {};

TEST_P(DendritesGenerated, LengthWithin3PercentAndCenterlineWithinQuarterMicron) {
  const test::StackAccuracy a = test::measure_generated(static_cast<std::uint64_t>(GetParam()), 384, 384, 40);
  EXPECT_LT(std::abs(a.length_error), 0.03) << "truth " << a.truth_um << " um, traced " << a.traced_um << " um";
  EXPECT_LT(a.rms_um, 0.25);
  EXPECT_LT(a.uncovered_um, 0.03 * a.truth_um);
}

INSTANTIATE_TEST_SUITE_P(Seeds, DendritesGenerated, ::testing::Values(11, 12, 13, 14));

}  // namespace
}  // namespace spinescope
