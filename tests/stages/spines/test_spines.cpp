#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "spine_scene.hpp"
#include "spinescope/errors.hpp"
#include "spinescope/spine.hpp"
#include "spinescope/threads.hpp"
#include "stages/spines/detect.hpp"
#include "stages/spines/shaft_profile.hpp"
#include "stages/spines/spines_stage.hpp"

namespace spinescope {
namespace {

using testing::SpineScene;
using testing::TrueSpine;

std::vector<Spine> run_spines(Context& ctx, const ParamSet& params = {}) {
  stages::spines::SpinesStage stage;
  stage.configure(params);
  stage.run(ctx);
  return ctx.get<std::vector<Spine>>(artifacts::kSpines);
}

// Each true spine is matched by exactly one detection whose head lies within 0.8 µm of the true base->head axis
// (the evaluation's criterion), and no detection is left over.
void expect_one_to_one(const std::vector<Spine>& found, const std::vector<TrueSpine>& truth) {
  std::vector<int> matches_of_detection(found.size(), 0);
  for (const auto& t : truth) {
    int matches = 0;
    for (std::size_t d = 0; d < found.size(); ++d) {
      if (testing::distance_to_segment_um(found[d].head, t.base, t.head) <= 0.8) {
        ++matches;
        ++matches_of_detection[d];
      }
    }
    EXPECT_EQ(matches, 1) << t.type << " spine at x=" << t.base.x_um << " um";
  }
  for (std::size_t d = 0; d < found.size(); ++d)
    EXPECT_EQ(matches_of_detection[d], 1) << "detection " << d << " head (" << found[d].head.x_um << ", "
                                          << found[d].head.y_um << ", " << found[d].head.z_um << ") um";
}

// How many true spines have a detected head within @p tol_um of their own (µm).
std::size_t heads_within(const std::vector<Spine>& found, const std::vector<TrueSpine>& truth, double tol_um) {
  std::size_t n = 0;
  for (const auto& t : truth)
    n += std::any_of(found.begin(), found.end(),
                     [&](const Spine& f) { return testing::distance_um(f.head, t.head) <= tol_um; });
  return n;
}

TEST(Spines, EachRenderedTypeFoundOnceAnisotropic) {
  const SpineScene s = testing::four_types_scene();
  Context ctx = s.make_context();
  const auto found = run_spines(ctx);
  ASSERT_EQ(found.size(), s.truth.size());
  expect_one_to_one(found, s.truth);
  const auto& labels = ctx.get<VolumeU32>(artifacts::kSpineLabels);
  std::vector<int> voxels(found.size(), 0);
  for (std::size_t v = 0; v < labels.size(); ++v)
    if (labels[v]) ++voxels.at(labels[v] - 1);
  for (std::size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(found[i].spine_id, static_cast<int>(i));
    EXPECT_GT(voxels[i], 5) << "spine " << i << " has no labelled voxels";
    EXPECT_FALSE(found[i].detached);
    // The base lies on the shaft surface (radius 0.6 µm around the axis).
    const double dy = found[i].base.y_um - s.shaft_y_um, dz = found[i].base.z_um - s.shaft_z_um;
    EXPECT_NEAR(std::sqrt(dy * dy + dz * dz), s.shaft_radius_um, 0.1);
  }
}

TEST(Spines, DistantPunctumIsNotASpine) {
  SpineScene s(100, 120, 30);
  s.add_spine("mushroom", 3.0, 1, 0, 0.7, 0.16, 0.6);
  // A bright ball 4.5 µm from the shaft surface, beyond max_spine_length_um = 3.
  s.scene.balls.push_back({{7.0, s.shaft_y_um - s.shaft_radius_um - 4.5, s.shaft_z_um}, 0.4, 1.0});
  Context ctx = s.make_context();
  const auto found = run_spines(ctx);
  ASSERT_EQ(found.size(), 1u);
  expect_one_to_one(found, s.truth);
  // With a longer reach the same ball counts (as a detached head): the limit is what rejects it.
  Context again = s.make_context();
  ParamSet p;
  p.set("spines.max_spine_length_um", "6");
  EXPECT_EQ(run_spines(again, p).size(), 2u);
}

TEST(Spines, TouchingSpinesAreTwo) {
  SpineScene s(80, 80, 30);
  // Two mushrooms 0.8 µm apart whose 0.65 µm heads nearly touch; through the PSF they form one blob.
  s.add_spine("mushroom", 3.6, 1, 0, 0.6, 0.16, 0.65);
  s.add_spine("mushroom", 4.4, 1, 0, 0.6, 0.16, 0.65);
  Context ctx = s.make_context();
  const auto found = run_spines(ctx);
  ASSERT_EQ(found.size(), 2u);
  expect_one_to_one(found, s.truth);
}

TEST(Spines, DimNeckHeadIsDetached) {
  SpineScene s(80, 80, 30);
  s.add_spine("mushroom", 4.0, 1, 0, 1.0, 0.14, 0.6, 0.08);  // the neck at 8 % brightness
  Context ctx = s.make_context();
  const auto found = run_spines(ctx);
  ASSERT_EQ(found.size(), 1u);
  expect_one_to_one(found, s.truth);
  EXPECT_TRUE(found[0].detached);
  EXPECT_NEAR(found[0].base.y_um - s.shaft_y_um, s.shaft_radius_um, 0.15);
}

// Issue 4: a shaft mask widened by the blur swallows short stubby spines; limiting it to the traced radius
// (shaft_radius_margin_um) gives them back. Since the contrast floor went from 0.07 to 0.05 the wide mask leaves
// their faint outer rims to be found, 0.34 um beyond the true heads: the heads are what it loses.
TEST(Spines, StubbyNextToWideShaftMaskAnisotropic) {
  SpineScene s(100, 80, 30, 3);
  s.add_stubby(3.0, 1, 0, 0.45, 0.6);
  s.add_stubby(7.0, -1, 0, 0.45, 0.6);
  Context wide = s.make_context(true, 0.25, 0.35);  // a mask 0.35 um beyond the shaft (1.2 um along z)
  ParamSet off;
  off.set("spines.robust_shaft", "false");
  const auto swallowed = run_spines(wide, off);
  Context tightened = s.make_context(true, 0.25, 0.35);
  ParamSet p = off;
  p.set("spines.shaft_radius_margin_um", "0.1");
  const auto found = run_spines(tightened, p);
  EXPECT_EQ(heads_within(swallowed, s.truth, 0.2), 0u);
  ASSERT_EQ(found.size(), s.truth.size());
  EXPECT_EQ(heads_within(found, s.truth, 0.2), s.truth.size());
  expect_one_to_one(found, s.truth);
}

// A thin shaft (radius 0.35 µm) crowded with big-headed spines, as on real dendrites: a shaft mask inflated by
// 1 µm laterally (3.5 µm along z) swallows the necks and some whole spines. The shaft re-derived from ray
// profiles around the centerline (half maximum, foreground boundary, robust over directions) recovers the true
// shaft and every spine.
SpineScene dense_thin_scene() {
  SpineScene s(130, 90, 34, 11);
  s.shaft_radius_um = 0.35;
  s.scene.tubes[0].radii_um = {0.35, 0.35};
  const double dirs[][2] = {{1, 0}, {-1, 0.3}, {0.3, 1}, {-1, 0}, {1, -0.3}, {-1, 0}, {1, 0.2}, {0, -1}};
  for (int q = 0; q < 8; ++q)
    s.add_spine("mushroom", 1.6 + 1.3 * q, dirs[q][0], dirs[q][1], 0.5 + 0.1 * (q % 3), 0.15, 0.6);
  return s;
}

TEST(Spines, RobustShaftRecoversInflatedMaskAnisotropic) {
  const SpineScene s = dense_thin_scene();
  Context inflated = s.make_context(true, 0.15, 1.0);
  const auto& pre = inflated.get<VolumeF>(artifacts::kPreprocessed);
  const auto& graph = inflated.get<DendriteGraph>(artifacts::kDendriteGraph);
  const auto& given = inflated.get<VolumeU8>(artifacts::kShaftMask);
  const auto& fg = inflated.get<VolumeU8>(artifacts::kForeground);
  stages::spines::ShaftProfileParams sp;
  const auto sections = stages::spines::shaft_sections(pre, fg, graph, sp);
  ASSERT_EQ(sections.size(), 1u);
  // Node radii: the half-maximum radius across the optical axis is the true radius to within the blur.
  std::vector<double> lateral;
  for (const auto& sec : sections[0]) {
    if (sec.centre.x_um < 1.0 || sec.centre.x_um > 12.0) continue;
    lateral.push_back(sec.lateral_um);
    EXPECT_NEAR(sec.centre.y_um, s.shaft_y_um, 0.1) << "node at x=" << sec.centre.x_um;
    EXPECT_NEAR(sec.centre.z_um, s.shaft_z_um, 0.2) << "node at x=" << sec.centre.x_um;
    EXPECT_GE(sec.axial_um, sec.lateral_um) << "node at x=" << sec.centre.x_um;  // axial blur
  }
  ASSERT_GT(lateral.size(), 40u);
  for (double r : lateral) EXPECT_NEAR(r, s.shaft_radius_um, 0.12);
  // The mask: nothing left of the spines beyond the margin, most of the true shaft kept.
  const VolumeU8 mask = stages::spines::robust_shaft_mask(given, fg, graph, sections, sp);
  const Spacing sc = pre.spacing();
  std::size_t kept_far = 0, given_far = 0, core = 0, core_kept = 0;
  for (std::size_t k = 0; k < mask.nz(); ++k)
    for (std::size_t j = 0; j < mask.ny(); ++j)
      for (std::size_t i = 20; i < 120; ++i) {
        const double dy = j * sc.y_um - s.shaft_y_um, dz = k * sc.z_um - s.shaft_z_um;
        const double lateral_um = std::abs(dy);
        if (lateral_um > s.shaft_radius_um + 0.3 && std::abs(dz) < 0.2) {
          given_far += given(i, j, k);
          kept_far += mask(i, j, k);
        }
        if (dy * dy + dz * dz <= 0.25 * 0.25) {
          ++core;
          core_kept += mask(i, j, k);
        }
      }
  EXPECT_GT(given_far, 100u);  // the inflated mask does swallow spine voxels
  EXPECT_EQ(kept_far, 0u);
  EXPECT_EQ(core_kept, core);

  // The stage: with the given mask most spines are lost or found only by the blur beyond their heads (0.2-0.3 um
  // out); re-derived, each is found once, its head where it is.
  ParamSet off;
  off.set("spines.robust_shaft", "false");
  const auto swallowed = run_spines(inflated, off);
  Context again = s.make_context(true, 0.15, 1.0);
  const auto found = run_spines(again);
  EXPECT_LT(heads_within(swallowed, s.truth, 0.2), s.truth.size() - 2);
  ASSERT_EQ(found.size(), s.truth.size());
  EXPECT_EQ(heads_within(found, s.truth, 0.2), s.truth.size());
  expect_one_to_one(found, s.truth);
}

// A thin spine whose small head, blurred by the PSF, falls below the foreground threshold while its neck near
// the shaft passes it: the foreground and the dim parts are one spine, found once with its head at the true head.
TEST(Spines, ThinSpineWithDimHeadIsOneSpineAnisotropic) {
  SpineScene s(80, 80, 30, 5);
  s.add_spine("thin", 4.0, 1, 0, 1.2, 0.12, 0.3);
  Context ctx = s.make_context(true, 0.3);
  const auto found = run_spines(ctx);
  ASSERT_EQ(found.size(), 1u);
  expect_one_to_one(found, s.truth);
  EXPECT_LT(testing::distance_um(found[0].head, s.truth[0].head), 0.3);
}

// A spine cut by the stack's side face cannot be measured whole: it is not counted (exclude_edge_spines), while
// a spine inside the stack is. Switched off, the cut spine is found too.
TEST(Spines, SpineCutByTheStackFaceIsNotCountedAnisotropic) {
  SpineScene s(80, 40, 30, 9);  // y spans 0-3.9 um; the shaft surface is at y 2.55 on the +y side
  s.add_spine("mushroom", 4.0, 1, 0, 0.8, 0.16, 0.7);    // its head reaches past y = 3.9: cut by the face
  s.add_spine("mushroom", 4.0, -1, 0, 0.5, 0.16, 0.6);   // inside: reaches y 0.15 at the least
  const std::vector<TrueSpine> inside = {s.truth[1]};
  Context ctx = s.make_context();
  const auto found = run_spines(ctx);
  ASSERT_EQ(found.size(), 1u);
  expect_one_to_one(found, inside);
  Context again = s.make_context();
  ParamSet all;
  all.set("spines.exclude_edge_spines", "false");
  EXPECT_EQ(run_spines(again, all).size(), 2u);
}

// The shaft's axial rim: a shaft mask that stops one z plane short of the foreground's top over 1.5 um leaves a
// sheet one plane thick on the shaft. It reaches out less than it spreads along the shaft: no spine
// (max_footprint_ratio). Without that rule the sheet is counted.
TEST(Spines, AxialRimOfTheShaftIsNotASpineAnisotropic) {
  SpineScene s(100, 60, 30, 13);
  s.add_spine("mushroom", 5.0, 1, 0, 0.7, 0.16, 0.7);
  auto make = [&] {
    Context ctx = s.make_context();
    auto& shaft = ctx.get<VolumeU8>(artifacts::kShaftMask);
    for (std::size_t j = 0; j < shaft.ny(); ++j)
      for (std::size_t i = 15; i <= 30; ++i)  // x from 1.5 to 3 um
        for (std::size_t k = 0; k < shaft.nz(); ++k)
          if (shaft(i, j, k)) {  // the top plane of the mask in this column
            shaft(i, j, k) = 0;
            break;
          }
    return ctx;
  };
  ParamSet given_mask;
  given_mask.set("spines.robust_shaft", "false");
  Context ctx = make();
  const auto found = run_spines(ctx, given_mask);
  ASSERT_EQ(found.size(), 1u);
  expect_one_to_one(found, s.truth);
  Context again = make();
  ParamSet no_rule = given_mask;
  no_rule.set("spines.max_footprint_ratio", "100");
  EXPECT_GT(run_spines(again, no_rule).size(), 1u);
}

// The background noise behind min_snr: median and standard deviation of the voxels outside the foreground,
// robust to the bright object the foreground marks.
TEST(Spines, BackgroundNoiseIsMeasuredOutsideTheForeground) {
  const Spacing sp{0.1, 0.1, 0.35};
  VolumeF pre(96, 96, 20, sp);
  VolumeU8 fg(96, 96, 20, sp, std::uint8_t{0});
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0.01f, 0.03f);
  for (std::size_t v = 0; v < pre.size(); ++v) pre[v] = noise(rng);
  for (std::size_t k = 5; k < 15; ++k)
    for (std::size_t j = 20; j < 70; ++j)
      for (std::size_t i = 20; i < 70; ++i) pre(i, j, k) = 1.0f, fg(i, j, k) = 1;
  const auto n = stages::spines::background_noise(pre, fg);
  EXPECT_NEAR(n.median, 0.01, 0.002);
  EXPECT_NEAR(n.sigma, 0.03, 0.002);
}

TEST(Spines, SameResultWithOneAndTwoThreads) {
  const SpineScene s = testing::four_types_scene();
  std::vector<Spine> one, two;
  {
    ThreadLimit limit(1);
    Context ctx = s.make_context();
    one = run_spines(ctx);
  }
  {
    ThreadLimit limit(2);
    Context ctx = s.make_context();
    two = run_spines(ctx);
  }
  ASSERT_EQ(one.size(), two.size());
  for (std::size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i].dendrite_id, two[i].dendrite_id);
    EXPECT_DOUBLE_EQ(one[i].head.x_um, two[i].head.x_um);
    EXPECT_DOUBLE_EQ(one[i].base.y_um, two[i].base.y_um);
    EXPECT_DOUBLE_EQ(one[i].tip.z_um, two[i].tip.z_um);
  }
}

TEST(Spines, ParameterErrors) {
  stages::spines::SpinesStage stage;
  auto configure = [&](const std::string& assignment) {
    ParamSet p;
    p.set_assignment(assignment);
    stage.configure(p);
  };
  EXPECT_THROW(configure("spines.max_spine_length_um=0.2"), ParameterError);
  EXPECT_THROW(configure("spines.max_spine_length_um=12"), ParameterError);
  EXPECT_THROW(configure("spines.min_spine_volume_um3=-1"), ParameterError);
  EXPECT_THROW(configure("spines.min_contrast=abc"), ParameterError);
  EXPECT_THROW(configure("spines.max_spine_lenght_um=3"), ParameterError);
  EXPECT_THROW(configure("spines.min_spine_length_um=2.5"), ParameterError);
  ParamSet both;
  both.set("spines.max_spine_length_um", "1.0");
  both.set("spines.min_spine_length_um", "1.5");
  EXPECT_THROW(stage.configure(both), ParameterError);
  EXPECT_NO_THROW(configure("spines.max_spine_length_um=2.5"));
  EXPECT_DOUBLE_EQ(stage.detect_params().max_spine_length_um, 2.5);
}

TEST(Spines, MissingInputIsStageError) {
  Context ctx;
  stages::spines::SpinesStage stage;
  stage.configure({});
  EXPECT_THROW(stage.run(ctx), StageError);
}

}  // namespace
}  // namespace spinescope

