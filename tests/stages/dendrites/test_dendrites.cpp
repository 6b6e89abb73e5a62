#include <gtest/gtest.h>

#include <cmath>

#include "dendrite_test_util.hpp"
#include "stages/dendrites/shaft.hpp"
#include "spinescope/errors.hpp"
#include "spinescope/threads.hpp"

namespace spinescope {
namespace {

using test::clip_dense;
using test::dense_length;
using test::run_dendrites;
using test::test_imaging;
using test::to_float;

PointUm extent_of(const gen::ImagingConfig& im) {
  return {(im.nx - 1) * im.spacing.x_um, (im.ny - 1) * im.spacing.y_um, (im.nz - 1) * im.spacing.z_um};
}

gen::Tube tube(std::vector<PointUm> points, double radius_um, double brightness = 1.0) {
  gen::Tube t;
  t.radii_um.assign(points.size(), radius_um);
  t.points = std::move(points);
  t.brightness = brightness;
  return t;
}

std::string describe(const DendriteGraph& g) {
  std::string s;
  for (const auto& b : g.branches)
    s += "branch " + std::to_string(b.id) + " dendrite " + std::to_string(b.dendrite_id) + " parent " +
         std::to_string(b.parent_branch) + " length " + std::to_string(b.length_um()) + " um, " +
         std::to_string(b.nodes.size()) + " nodes\n";
  return s;
}

// A dendrite along @p shaft (radius @p radius_um) with one spine: a neck from @p base to a round head at @p head.
gen::Scene dendrite_with_spine(const std::vector<PointUm>& shaft, double radius_um, const PointUm& base,
                               const PointUm& head, double neck_radius_um, double head_radius_um) {
  gen::Scene scene;
  scene.tubes.push_back(tube(shaft, radius_um));
  scene.tubes.push_back(tube({base, head}, neck_radius_um, 0.9));
  scene.balls.push_back({head, head_radius_um, 1.0});
  return scene;
}

// A spine candidate of @p ctx ends within 0.8 µm of @p head.
void expect_candidate_at(const Context& ctx, const PointUm& head) {
  const auto& candidates = ctx.get<SpineCandidates>(artifacts::kSpineCandidates);
  bool spine = false;
  for (const auto& c : candidates) spine = spine || test::distance(c.tip, head) < 0.8;
  EXPECT_TRUE(spine) << candidates.size() << " candidates";
}

// @p scene, whose one dendrite runs along @p path, is traced as one dendrite: length within 2 %, centerline within
// 0.25 µm RMS, and (where the limits are > 0) at most @p max_uncovered_um of the true path left uncovered and no
// traced point farther than @p max_deviation_um from it. @p ctx_out (when given) receives the context.
void expect_one_dendrite_in(const gen::ImagingConfig& im, const gen::Scene& scene, const std::vector<PointUm>& path,
                            double max_uncovered_um, double max_deviation_um,
                            std::unique_ptr<Context>* ctx_out = nullptr) {
  auto ctx = run_dendrites(to_float(gen::render_scene(scene, im)));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  const auto truth = clip_dense(path, extent_of(im));
  const double truth_um = dense_length(truth);
  ASSERT_EQ(g.dendrite_ids().size(), 1u) << describe(g);
  EXPECT_NEAR(g.total_length_um(), truth_um, 0.02 * truth_um) << describe(g);
  const auto m = test::match_centerline(g, truth);
  EXPECT_LT(m.rms_um, 0.25);
  if (max_uncovered_um > 0) EXPECT_LT(m.uncovered_um, max_uncovered_um);
  if (max_deviation_um > 0) EXPECT_LT(m.max_um, max_deviation_um) << describe(g);
  if (ctx_out) *ctx_out = std::move(ctx);
}

// The same for one tube along @p path (radius @p radius_um), plus @p others (not dendrite).
void expect_one_dendrite_along(const gen::ImagingConfig& im, const std::vector<PointUm>& path, double radius_um,
                               double max_uncovered_um, const std::vector<gen::Tube>& others = {},
                               double max_deviation_um = 0.0) {
  gen::Scene scene;
  scene.tubes.push_back(tube(path, radius_um));
  for (const auto& t : others) scene.tubes.push_back(t);
  expect_one_dendrite_in(im, scene, path, max_uncovered_um, max_deviation_um);
}

TEST(Dendrites, LengthOfTiltedTubeAnisotropic) {
  // Tilted in x, y and z; enters and leaves through the side faces of the stack.
  expect_one_dendrite_along(test_imaging(256, 200, 30), {{-1.0, 2.0, 2.5}, {26.5, 18.0, 7.5}}, 0.6, 0.5);
}

TEST(Dendrites, LengthOfCurvedTubeAnisotropic) {
  // A quarter circle of radius 18 µm in a plane tilted by 10 µm over the arc in z.
  std::vector<PointUm> path;
  for (int t = -2; t <= 42; ++t) {
    const double a = t / 40.0 * 1.5707963;
    path.push_back({-1.0 + 18.0 * std::sin(a), 27.0 - 18.0 * std::cos(a) + 0.0, 2.0 + 6.0 * t / 40.0});
  }
  expect_one_dendrite_along(test_imaging(256, 256, 30), path, 0.5, 0.0);
}

TEST(Dendrites, ShallowExitThroughAFaceIsTracedToWhereTheCenterlineLeaves) {
  // Leaves through the y = 0 face at 14 degrees: the tube touches the face ~2.5 µm before its centerline does.
  expect_one_dendrite_along(test_imaging(256, 256, 30), {{-1.0, 12.0, 4.5}, {12.0, 2.5, 5.0}, {26.5, -1.0, 5.5}},
                            0.6, 0.5);
}

TEST(Dendrites, YBranchHasThreeBranchesOfTheRightLength) {
  const auto im = test_imaging(256, 256, 30);
  const PointUm junction{12.0, 12.0, 5.0};
  const std::vector<std::vector<PointUm>> arms{{{-1.0, 10.0, 4.0}, junction},
                                               {junction, {26.5, 3.0, 6.0}},
                                               {junction, {20.0, 26.5, 6.5}}};
  gen::Scene scene;
  for (const auto& a : arms) scene.tubes.push_back(tube(a, 0.55));
  const auto ctx = run_dendrites(to_float(gen::render_scene(scene, im)));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  ASSERT_EQ(g.branches.size(), 3u) << describe(g);
  EXPECT_EQ(g.dendrite_ids().size(), 1u) << describe(g);
  std::vector<double> truth, traced;
  for (const auto& a : arms) truth.push_back(dense_length(clip_dense(a, extent_of(im))));
  for (const auto& b : g.branches) traced.push_back(b.length_um());
  std::sort(truth.begin(), truth.end());
  std::sort(traced.begin(), traced.end());
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(traced[k], truth[k], 0.03 * truth[k]) << describe(g);
  int roots = 0;
  for (const auto& b : g.branches) roots += b.parent_branch < 0;
  EXPECT_EQ(roots, 1);
  // One branch point, at the junction (the skeleton's junction is moved to where the arms' axes meet).
  const std::vector<PointUm> forks = g.branch_points();
  ASSERT_EQ(forks.size(), 1u) << describe(g);
  EXPECT_LT(std::hypot(forks[0].x_um - junction.x_um, forks[0].y_um - junction.y_um, forks[0].z_um - junction.z_um),
            0.5);
}

// Tubes along @p a and @p b (radii @p ra_um and @p rb_um) traced as two dendrites whose total length is within 3% of
// the two true lengths inside the stack. Returns the context for further checks.
std::unique_ptr<Context> expect_two_dendrites(const gen::ImagingConfig& im, const std::vector<PointUm>& a, double ra_um,
                                              const std::vector<PointUm>& b, double rb_um) {
  gen::Scene scene;
  scene.tubes.push_back(tube(a, ra_um));
  scene.tubes.push_back(tube(b, rb_um));
  auto ctx = run_dendrites(to_float(gen::render_scene(scene, im)));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  const double truth_um = dense_length(clip_dense(a, extent_of(im))) + dense_length(clip_dense(b, extent_of(im)));
  EXPECT_EQ(g.dendrite_ids().size(), 2u) << describe(g);
  EXPECT_NEAR(g.total_length_um(), truth_um, 0.03 * truth_um) << describe(g);
  return ctx;
}

TEST(Dendrites, CrossingTubesAreTwoDendritesCountedOnce) {
  const std::vector<PointUm> a{{-1.0, 4.0, 4.0}, {26.5, 20.0, 5.0}};
  const std::vector<PointUm> b{{4.0, 26.5, 5.5}, {22.0, -1.0, 4.5}};
  const auto ctx = expect_two_dendrites(test_imaging(256, 256, 30), a, 0.6, b, 0.5);
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  EXPECT_EQ(g.branches.size(), 2u) << describe(g);
}

// Two touching tubes of radius 0.55 µm along @p a and @p b: traced as two dendrites, total length within 3%,
// centerline within @p max_rms_um RMS of the truth and less than 1 µm of it uncovered.
void expect_two_chains(const gen::ImagingConfig& im, const std::vector<PointUm>& a, const std::vector<PointUm>& b,
                       double max_rms_um) {
  gen::Scene scene;
  scene.tubes.push_back(tube(a, 0.55));
  scene.tubes.push_back(tube(b, 0.55));
  const auto ctx = run_dendrites(to_float(gen::render_scene(scene, im)));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  std::vector<PointUm> truth = clip_dense(a, extent_of(im));
  const double truth_um = dense_length(truth) + dense_length(clip_dense(b, extent_of(im)));
  truth.push_back({-1e9, -1e9, -1e9});  // a break between the two true centerlines
  for (const auto& p : clip_dense(b, extent_of(im))) truth.push_back(p);
  EXPECT_EQ(g.dendrite_ids().size(), 2u) << describe(g);
  EXPECT_NEAR(g.total_length_um(), truth_um, 0.03 * truth_um) << describe(g);
  const auto m = test::match_centerline(g, truth);
  EXPECT_LT(m.rms_um, max_rms_um);
  EXPECT_LT(m.uncovered_um, 1.0);
}

// Two dendrites that enter side by side, touching, from a face and part 7 µm inside look like one dendrite
// forking; the merged stem is twice as wide as each arm, so both run on to the face: two chains, the stem's
// stretch counted for each, each centred on its own tube.
TEST(Dendrites, DendritesMergedFromAFaceAreTwoChains) {
  const auto im = test_imaging(256, 256, 30);
  const std::vector<PointUm> a{{-1.0, 12.55, 5.0}, {7.0, 12.55, 5.0}, {26.5, 4.0, 5.5}};
  const std::vector<PointUm> b{{-1.0, 11.45, 5.0}, {7.0, 11.45, 5.0}, {26.5, 20.0, 4.5}};
  expect_two_chains(im, a, b, 0.25);
}

// Two dendrites side by side over most of the stack, parting 6 µm before the far face: every end of the Y lies on
// a face and the merged stem is the longest edge (its cross-section tells it, not its length); both chains follow
// their own tube along it (measured lobes, not interpolated), the stem counted for each.
TEST(Dendrites, DendritesMergedAcrossMostOfTheStackAreTwoChains) {
  const auto im = test_imaging(256, 256, 30);
  const std::vector<PointUm> a{{-1.0, 12.55, 5.0}, {19.5, 12.55, 5.0}, {26.5, 6.5, 5.5}};
  const std::vector<PointUm> b{{-1.0, 11.45, 5.0}, {19.5, 11.45, 5.0}, {26.5, 17.5, 4.5}};
  expect_two_chains(im, a, b, 0.25);
}

// Two dendrites that converge, run touching side by side for 8 µm mid-stack and part again ("kiss") look like two
// forks joined by a bridge that neither pairing of the arms continues straight; the bridge is two tubes wide, so
// each dendrite follows its own side of it and goes on with the arm leaving on that side: two chains.
TEST(Dendrites, DendritesThatKissMidStackAreTwoChains) {
  const auto im = test_imaging(256, 256, 30);
  const std::vector<PointUm> a{{5.5, -1.0, 5.0}, {8.5, 11.45, 5.0}, {16.5, 11.45, 5.0}, {26.5, 7.0, 5.5}};
  const std::vector<PointUm> b{{-1.0, 16.0, 5.0}, {8.5, 12.55, 5.0}, {16.5, 12.55, 5.0}, {20.0, 26.5, 4.5}};
  expect_two_chains(im, a, b, 0.3);
}

// A thick dendrite forking 7 µm from a face into two thin ones is a real branch point (its stem is round, not two
// side by side): it stays one dendrite of three branches, the stem counted once.
TEST(Dendrites, ThickStemForkingNearAFaceStaysOneDendrite) {
  const auto im = test_imaging(256, 256, 30);
  const PointUm fork{7.0, 12.0, 5.0};
  const std::vector<std::vector<PointUm>> arms{
      {{-1.0, 12.0, 5.0}, fork}, {fork, {26.5, 4.0, 5.5}}, {fork, {26.5, 20.0, 4.5}}};
  const double radii[3] = {0.8, 0.5, 0.5};
  gen::Scene scene;
  for (int k = 0; k < 3; ++k) scene.tubes.push_back(tube(arms[k], radii[k]));
  const auto ctx = run_dendrites(to_float(gen::render_scene(scene, im)));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  double truth_um = 0.0;
  for (const auto& a : arms) truth_um += dense_length(clip_dense(a, extent_of(im)));
  EXPECT_EQ(g.dendrite_ids().size(), 1u) << describe(g);
  EXPECT_EQ(g.branches.size(), 3u) << describe(g);
  EXPECT_NEAR(g.total_length_um(), truth_um, 0.03 * truth_um) << describe(g);
}

// Three dendrites crossing near one point at slightly different depths merge into one six-arm junction: the arms
// are matched as a whole into three straight continuations, so each dendrite stays one chain, counted once.
TEST(Dendrites, ThreeDendritesCrossingAtOnePointAreThreeChains) {
  const auto im = test_imaging(256, 256, 30);
  const PointUm centre{12.8, 12.8, 4.5};
  std::vector<std::vector<PointUm>> lines;
  gen::Scene scene;
  for (int t = 0; t < 3; ++t) {
    const double angle = 0.3 + t * 3.14159265358979 / 3.0, half = 20.0;
    const double z = centre.z_um + (t - 1) * 0.8;
    const PointUm d{std::cos(angle), std::sin(angle), 0.0};
    lines.push_back({{centre.x_um - half * d.x_um, centre.y_um - half * d.y_um, z},
                     {centre.x_um + half * d.x_um, centre.y_um + half * d.y_um, z}});
    scene.tubes.push_back(tube(lines.back(), 0.55));
  }
  const auto ctx = run_dendrites(to_float(gen::render_scene(scene, im)));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  double truth_um = 0.0;
  for (const auto& l : lines) truth_um += dense_length(clip_dense(l, extent_of(im)));
  EXPECT_EQ(g.dendrite_ids().size(), 3u) << describe(g);
  EXPECT_EQ(g.branches.size(), 3u) << describe(g);
  EXPECT_NEAR(g.total_length_um(), truth_um, 0.03 * truth_um) << describe(g);
}

// Two dendrites that leave the stack through one face 1 µm apart, diverging: their short common stem at the face
// is no twig of either (both arms are long), so both reach the face: two chains.
TEST(Dendrites, DendritesLeavingAFaceSideBySideAreTwoChains) {
  const auto im = test_imaging(256, 256, 30);
  const std::vector<PointUm> a{{17.3, -1.0, 5.0}, {13.0, 26.5, 5.3}};
  const std::vector<PointUm> b{{18.2, -1.0, 5.2}, {22.0, 26.5, 4.8}};
  expect_two_chains(im, a, b, 0.25);
}

// A spine that reaches down to the bottom face beside a dendrite is a spine, not a dendrite leaving the stack: the
// dendrite runs straight through its base and the spine is thinner.
TEST(Dendrites, SpineReachingAFaceIsNoDendrite) {
  expect_one_dendrite_along(test_imaging(256, 256, 30), {{-1.0, 12.0, 2.4}, {26.5, 14.0, 2.6}}, 0.6, 0.0,
                            {tube({{12.0, 12.9, 2.5}, {12.6, 13.2, -0.5}}, 0.2)}, 0.6);
}

// A spine beside the place where a dendrite leaves the stack (the geometry of generated stack 11218, --touch-only
// --ends-inside 1), its head 1.2 µm inside the face: the dendrite's skeleton, which ends about one radius inside the
// cut face, ran on into the spine (+1.1 µm here, +1.5 µm on 11203 and 11218, no candidate). The dendrite goes to
// the face; the spine is a candidate.
TEST(Dendrites, SpineBesideAnExitIsNoPartOfTheDendrite) {
  const auto im = test_imaging(256, 160, 30);
  const std::vector<PointUm> shaft{{13.9, -1.0, 6.4}, {20.0, 16.9, 5.6}};
  const PointUm base{13.83, 0.90, 5.88}, head{13.0, 1.17, 5.43};
  std::unique_ptr<Context> ctx;
  expect_one_dendrite_in(im, dendrite_with_spine(shaft, 0.74, base, head, 0.12, 0.38), shaft, 0.0, 0.5, &ctx);
  if (ctx) expect_candidate_at(*ctx, head);
}

// Two dendrites passing one above the other (2.2 µm apart in z, 18 degrees apart in x-y; the axial blur joins
// their masks where they pass): two whole chains, nothing counted for the contact.
TEST(Dendrites, DendritesPassingAboveEachOtherAreTwoChains) {
  const auto im = test_imaging(256, 256, 30);
  const std::vector<PointUm> a{{-1.0, 12.0, 3.6}, {26.5, 12.0, 3.6}};
  const std::vector<PointUm> b{{-1.0, 7.0, 5.8}, {26.5, 16.0, 5.8}};
  expect_two_chains(im, a, b, 0.25);
}

TEST(Dendrites, SpinesAddNoLengthAndBecomeCandidates) {
  const auto im = test_imaging(256, 160, 30);
  const std::vector<PointUm> shaft{{-1.0, 8.0, 5.0}, {26.5, 8.0, 5.0}};
  gen::Scene scene;
  scene.tubes.push_back(tube(shaft, 0.6));
  // Spines every 3 µm, alternating sides (and one along z): neck 0.1 µm radius, head 0.35 µm radius.
  std::vector<PointUm> heads;
  for (int s = 0; s < 7; ++s) {
    const double x = 3.0 + 3.0 * s;
    const double side = s % 2 ? 1.0 : -1.0;
    PointUm base{x, 8.0 + side * 0.5, 5.0}, head{x + 0.3, 8.0 + side * 1.9, 5.0};
    if (s == 3) base = {x, 8.0, 5.5}, head = {x, 8.0, 6.9};
    scene.tubes.push_back(tube({base, head}, 0.1, 0.8));
    scene.balls.push_back({head, 0.35, 1.0});
    heads.push_back(head);
  }
  const auto ctx = run_dendrites(to_float(gen::render_scene(scene, im)));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  const double truth_um = dense_length(clip_dense(shaft, extent_of(im)));
  EXPECT_EQ(g.dendrite_ids().size(), 1u) << describe(g);
  EXPECT_EQ(g.branches.size(), 1u) << describe(g);
  EXPECT_NEAR(g.total_length_um(), truth_um, 0.02 * truth_um) << describe(g);
  const auto& candidates = ctx->get<SpineCandidates>(artifacts::kSpineCandidates);
  int found = 0;
  for (const auto& h : heads) {
    bool hit = false;
    for (const auto& c : candidates) hit = hit || test::distance(c.tip, h) < 0.8;
    found += hit;
  }
  EXPECT_GE(found, 6) << candidates.size() << " candidates";
  EXPECT_LE(candidates.size(), heads.size() + 2);
  // The shaft mask holds the shaft, not the spine heads.
  const auto& shaft_mask = ctx->get<Volume<std::uint8_t>>(artifacts::kShaftMask);
  const auto& foreground = ctx->get<Volume<std::uint8_t>>(artifacts::kForeground);
  auto voxel = [&](const PointUm& p) {
    return shaft_mask.index(std::lround(p.x_um / 0.1), std::lround(p.y_um / 0.1), std::lround(p.z_um / 0.35));
  };
  for (const auto& h : heads) {
    EXPECT_TRUE(foreground[voxel(h)]);
    EXPECT_FALSE(shaft_mask[voxel(h)]);
  }
  EXPECT_TRUE(shaft_mask[voxel({12.0, 8.0, 5.0})]);
}

// A dendrite that ends inside the stack with a spine 1 µm before its tip: the skeleton's last fork has two short
// spurs, the tip and the spine. The one that continues the dendrite is its tip (length kept); the other is the
// spine, handed on as a candidate, not swallowed by the shaft.
TEST(Dendrites, SpineNearADendriteTipIsASpineAndTheTipIsDendrite) {
  const auto im = test_imaging(256, 160, 30);
  const std::vector<PointUm> shaft{{-1.0, 8.0, 5.0}, {18.0, 8.0, 5.0}};
  const PointUm base{17.0, 8.4, 5.0}, head{17.2, 9.6, 5.0};
  const auto ctx =
      run_dendrites(to_float(gen::render_scene(dendrite_with_spine(shaft, 0.5, base, head, 0.2, 0.4), im)));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  const double truth_um = dense_length(clip_dense(shaft, extent_of(im)));
  ASSERT_EQ(g.dendrite_ids().size(), 1u) << describe(g);
  EXPECT_NEAR(g.total_length_um(), truth_um, 0.03 * truth_um) << describe(g);
  // The traced end lies near the true tip, not on the spine.
  double tip_error = 1e300;
  for (const auto& b : g.branches)
    for (const auto* n : {&b.nodes.front(), &b.nodes.back()})
      tip_error = std::min(tip_error, test::distance({n->x_um, n->y_um, n->z_um}, shaft.back()));
  EXPECT_LT(tip_error, 0.6) << describe(g);
  expect_candidate_at(*ctx, head);
  const auto& shaft_mask = ctx->get<Volume<std::uint8_t>>(artifacts::kShaftMask);
  EXPECT_FALSE(shaft_mask[shaft_mask.index(std::lround(head.x_um / 0.1), std::lround(head.y_um / 0.1),
                                           std::lround(head.z_um / 0.35))]);
}

// A hole in the mask near a dendrite's tip (its end splits around a 1.7 µm hole for 3 µm): the skeleton's loop
// around the hole is one stretch of the dendrite, not a loop to drop with everything beyond it (the trace ended
// at x = 12.2 µm, 12.3 µm long). The 1 µm past the split is a short spur there and goes as a spine candidate.
TEST(Dendrites, HoleNearATipKeepsTheDendriteBeyondIt) {
  const auto im = test_imaging(256, 160, 30);
  gen::Scene scene;
  scene.tubes.push_back(tube({{-1.0, 8.0, 5.0}, {12.0, 8.0, 5.0}}, 0.5));
  scene.tubes.push_back(tube({{12.0, 8.0, 5.0}, {13.5, 9.2, 5.0}, {15.0, 8.0, 5.0}}, 0.35));
  scene.tubes.push_back(tube({{12.0, 8.0, 5.0}, {13.5, 6.8, 5.0}, {15.0, 8.0, 5.0}}, 0.35));
  scene.tubes.push_back(tube({{15.0, 8.0, 5.0}, {16.0, 8.0, 5.0}}, 0.5));
  const auto ctx = run_dendrites(to_float(gen::render_scene(scene, im)));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  ASSERT_EQ(g.dendrite_ids().size(), 1u) << describe(g);
  // From the face at x = 0 along one side of the hole: 15.8 µm to its far end at x = 15, 16.8 µm to the tip.
  EXPECT_GT(g.total_length_um(), 15.0) << describe(g);
  EXPECT_LT(g.total_length_um(), 17.0) << describe(g);
  double reach = 0.0;
  for (const auto& b : g.branches)
    for (const auto& n : b.nodes) reach = std::max(reach, n.x_um);
  EXPECT_GT(reach, 14.5) << describe(g);
}

// A dendrite whose mask breaks for 0.8 µm (a dim stretch): the two pieces face each other in line and are joined,
// one dendrite of the whole length. With gap_um = 0 the same stack is two pieces, so the gap is real in the mask.
TEST(Dendrites, GapAlongADimDendriteIsBridged) {
  const auto im = test_imaging(256, 256, 30);
  const PointUm start{-1.0, 8.0, 4.0}, step{1.0, 0.3, 0.05};  // per unit of t, 1.045 µm
  auto at = [&](double t) {
    return PointUm{start.x_um + t * step.x_um, start.y_um + t * step.y_um, start.z_um + t * step.z_um};
  };
  const double radius_um = 0.5, gap_t = (0.8 + 2.0 * radius_um) / 1.045;  // caps 0.8 µm apart
  gen::Scene scene;
  scene.tubes.push_back(tube({at(0.0), at(13.0)}, radius_um));
  scene.tubes.push_back(tube({at(13.0 + gap_t), at(27.5)}, radius_um));
  expect_one_dendrite_in(im, scene, {at(0.0), at(27.5)}, 0.5, 0.3);
  ParamSet no_gaps;
  no_gaps.set("dendrites.gap_um", "0");
  const auto ctx = run_dendrites(to_float(gen::render_scene(scene, im)), no_gaps);
  EXPECT_EQ(ctx->get<DendriteGraph>(artifacts::kDendriteGraph).dendrite_ids().size(), 2u);
}

// Two dendrites whose tips face each other across a 0.8 µm gap but turn 82 degrees from one to the other (14706):
// two dendrites, not one bent across the gap.
TEST(Dendrites, TipsMeetingAtAnAngleAcrossAGapStayTwo) {
  const auto im = test_imaging(256, 256, 30);
  // a heads 62 degrees off x to its tip; b leaves its tip 20 degrees below x; the tips lie 20 degrees above x from
  // each other, 1.8 µm apart (caps 0.8 µm apart).
  const PointUm tip_a{12.0, 12.0, 5.0}, tip_b{13.7, 12.6, 5.0};
  expect_two_dendrites(im, {{5.0, -1.0, 5.0}, tip_a}, 0.5, {tip_b, {26.5, 8.0, 5.0}}, 0.5);
}

TEST(Dendrites, RadiusOfThinTube) {
  const auto im = test_imaging(200, 160, 30);
  const std::vector<PointUm> path{{-1.0, 6.0, 4.0}, {20.5, 10.0, 6.0}};
  gen::Scene scene;
  scene.tubes.push_back(tube(path, 0.6));
  const auto ctx = run_dendrites(to_float(gen::render_scene(scene, im)));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  ASSERT_FALSE(g.branches.empty());
  std::vector<double> radii;
  for (const auto& b : g.branches)
    for (const auto& n : b.nodes) radii.push_back(n.radius_um);
  std::sort(radii.begin(), radii.end());
  EXPECT_NEAR(radii[radii.size() / 2], 0.6, 0.15);
}

// A dendrite running along a face of the stack, its axis 0.25 µm inside: the centroid refinement must not pull the
// centerline towards the face (sampling beyond it repeats the border voxels, a bright wall: it pulled the nodes
// 0.24 µm here, and paths ran up to 0.27 µm outside the generated stacks, adding length there; now 0.02 µm).
TEST(Dendrites, CenterlineRefinementKeepsATubeAlongAFaceInside) {
  const auto im = test_imaging(120, 160, 24);
  const double axis_x_um = 0.25, z_um = 4.2;
  gen::Scene scene;
  scene.tubes.push_back(tube({{axis_x_um, -1.0, z_um}, {axis_x_um, 17.0, z_um}}, 0.6));
  const Volume<float> image = to_float(gen::render_scene(scene, im));
  DendriteGraph g;
  DendriteBranch branch;
  for (double y = 2.0; y <= 14.0; y += 0.25) branch.nodes.push_back({axis_x_um, y, z_um, 0.6});
  g.branches.push_back(branch);
  stages::dendrites::refine_centerline(g, image, 1.0, 2);
  double worst_um = 0.0;
  for (const auto& n : g.branches[0].nodes) {
    EXPECT_GE(n.x_um, 0.0) << "node at y " << n.y_um << " um left the stack";
    worst_um = std::max(worst_um, std::hypot(n.x_um - axis_x_um, n.z_um - z_um));
  }
  EXPECT_LT(worst_um, 0.1) << "farthest refined node from the true axis (um)";
}

TEST(Dendrites, PunctaAreNotDendrites) {
  const auto im = test_imaging(160, 160, 24);
  gen::Scene scene;
  scene.balls.push_back({{5.0, 5.0, 4.0}, 0.3, 1.0});
  scene.balls.push_back({{10.0, 11.0, 3.0}, 0.25, 1.0});
  scene.tubes.push_back(tube({{-1.0, 14.0, 4.0}, {16.5, 14.5, 4.0}}, 0.5));
  const auto ctx = run_dendrites(to_float(gen::render_scene(scene, im)));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  EXPECT_EQ(g.dendrite_ids().size(), 1u) << describe(g);
  for (const auto& b : g.branches)
    for (const auto& n : b.nodes) EXPECT_GT(n.y_um, 12.0);
}

TEST(Dendrites, SameResultWithOneAndTwoThreads) {
  const auto im = test_imaging(200, 200, 24);
  gen::Scene scene;
  scene.tubes.push_back(tube({{-1.0, 3.0, 3.0}, {20.5, 16.0, 5.0}}, 0.6));
  scene.tubes.push_back(tube({{3.0, 20.5, 4.0}, {12.0, -1.0, 4.5}}, 0.5));
  const Volume<float> image = to_float(gen::render_scene(scene, im));
  DendriteGraph one, two;
  {
    ThreadLimit limit(1);
    one = run_dendrites(image)->get<DendriteGraph>(artifacts::kDendriteGraph);
  }
  {
    ThreadLimit limit(2);
    two = run_dendrites(image)->get<DendriteGraph>(artifacts::kDendriteGraph);
  }
  ASSERT_EQ(one.branches.size(), two.branches.size());
  for (std::size_t b = 0; b < one.branches.size(); ++b) {
    ASSERT_EQ(one.branches[b].nodes.size(), two.branches[b].nodes.size());
    for (std::size_t n = 0; n < one.branches[b].nodes.size(); ++n) {
      EXPECT_EQ(one.branches[b].nodes[n].x_um, two.branches[b].nodes[n].x_um);
      EXPECT_EQ(one.branches[b].nodes[n].radius_um, two.branches[b].nodes[n].radius_um);
    }
  }
}

TEST(Dendrites, ParameterErrors) {
  stages::dendrites::DendritesStage stage;
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"dendrites.max_spine_length_um", "0.2"},
           {"dendrites.max_spine_length_um", "11"},
           {"dendrites.min_radius_um", "3"},
           {"dendrites.gap_um", "-1"},
           {"dendrites.smoothing_mu", "1"}}) {
    ParamSet set;
    set.set(key, value);
    EXPECT_THROW(stage.configure(set), ParameterError) << key << "=" << value;
  }
}

TEST(Dendrites, MissingInputIsAStageError) {
  stages::dendrites::DendritesStage stage;
  stage.configure({});
  Context ctx;
  EXPECT_THROW(stage.run(ctx), StageError);
}

}  // namespace
}  // namespace spinescope
