// The renderer behind make-sample-stacks: what it draws must be what the truth says, at anisotropic spacing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "spinescope/errors.hpp"
#include "spinescope/threads.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope::gen {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// A small stack without haze or attenuation, so expected/photons is the blurred occupancy.
ImagingConfig clean_imaging(std::size_t nx, std::size_t ny, std::size_t nz, Spacing spacing) {
  ImagingConfig im;
  im.nx = nx, im.ny = ny, im.nz = nz;
  im.spacing = spacing;
  im.background_photons = 0.0;
  im.attenuation_length_um = 0.0;
  im.photons = 100.0;
  return im;
}

/// ∫ occupancy dV estimated from the sampled expected image (the PSF integrates to one).
double integrated_volume_um3(const Volume<float>& expected, const ImagingConfig& im) {
  double sum = 0.0;
  for (std::size_t n = 0; n < expected.size(); ++n) sum += expected[n];
  return sum / im.photons * expected.spacing().voxel_um3();
}

TEST(GeneratorRender, BallVolumeAnisotropic) {
  for (const Spacing spacing : {Spacing{0.1, 0.1, 0.35}, Spacing{0.1, 0.1, 0.5}}) {
    const ImagingConfig im = clean_imaging(64, 64, 24, spacing);
    for (const double r_um : {0.3, 0.5, 1.0}) {
      Scene scene;
      scene.balls.push_back({PointUm{3.013, 3.127, 5.21}, r_um, 1.0});
      const Volume<float> e = render_scene_expected(scene, im);
      const double truth = 4.0 / 3.0 * kPi * r_um * r_um * r_um;
      EXPECT_NEAR(integrated_volume_um3(e, im), truth, 0.02 * truth) << "r=" << r_um << " z=" << spacing.z_um;
    }
  }
}

TEST(GeneratorRender, BallIsCentredWhereTheSceneSaysAnisotropic) {
  const ImagingConfig im = clean_imaging(64, 64, 24, Spacing{0.1, 0.1, 0.35});
  Scene scene;
  const PointUm c{2.937, 3.311, 4.43};
  scene.balls.push_back({c, 0.4, 1.0});
  const Volume<float> e = render_scene_expected(scene, im);
  double sw = 0, sx = 0, sy = 0, sz = 0;
  for (std::size_t k = 0; k < e.nz(); ++k)
    for (std::size_t j = 0; j < e.ny(); ++j)
      for (std::size_t i = 0; i < e.nx(); ++i) {
        const double w = e(i, j, k);
        sw += w, sx += w * i * 0.1, sy += w * j * 0.1, sz += w * k * 0.35;
      }
  EXPECT_NEAR(sx / sw, c.x_um, 0.01);
  EXPECT_NEAR(sy / sw, c.y_um, 0.01);
  EXPECT_NEAR(sz / sw, c.z_um, 0.02);
}

TEST(GeneratorRender, TubeLengthFromCrossSectionProfile) {
  // A tube along x: the cross-section integral A(x) falls to half the body's value r/√2 beyond each end node
  // (hemispherical caps), so the half-maximum extent is L + √2·r.
  const ImagingConfig im = clean_imaging(96, 48, 20, Spacing{0.1, 0.1, 0.35});
  const double r = 0.5, x0 = 2.03, x1 = 7.21;
  Scene scene;
  scene.tubes.push_back(Tube{{PointUm{x0, 2.4, 3.3}, PointUm{x1, 2.4, 3.3}}, {r, r}, 1.0});
  const Volume<float> e = render_scene_expected(scene, im);
  std::vector<double> area(e.nx(), 0.0);
  for (std::size_t k = 0; k < e.nz(); ++k)
    for (std::size_t j = 0; j < e.ny(); ++j)
      for (std::size_t i = 0; i < e.nx(); ++i) area[i] += e(i, j, k);
  const double body = area[static_cast<std::size_t>((x0 + x1) / 2 / 0.1)];
  EXPECT_NEAR(body / im.photons * 0.1 * 0.35, kPi * r * r, 0.02 * kPi * r * r);
  auto crossing = [&](std::size_t a, int step) {  // sub-voxel position where area crosses body/2
    std::size_t i = a;
    while (area[i] >= body / 2) i = static_cast<std::size_t>(static_cast<long>(i) + step);
    const std::size_t inside = static_cast<std::size_t>(static_cast<long>(i) - step);
    const double t = (area[inside] - body / 2) / (area[inside] - area[i]);
    return 0.1 * (static_cast<double>(inside) + step * t);
  };
  const std::size_t mid = static_cast<std::size_t>((x0 + x1) / 2 / 0.1);
  const double extent = crossing(mid, +1) - crossing(mid, -1);
  EXPECT_NEAR(extent, (x1 - x0) + std::sqrt(2.0) * r, 0.05);
}

TEST(GeneratorRender, TiltedTubeVolumeAnisotropic) {
  const ImagingConfig im = clean_imaging(100, 80, 24, Spacing{0.1, 0.1, 0.5});
  const PointUm a{1.5, 1.7, 3.0}, b{8.1, 6.2, 7.4};
  const double r = 0.4;
  Scene scene;
  scene.tubes.push_back(Tube{{a, b}, {r, r}, 1.0});
  const Volume<float> e = render_scene_expected(scene, im);
  const double len =
      std::sqrt(std::pow(b.x_um - a.x_um, 2) + std::pow(b.y_um - a.y_um, 2) + std::pow(b.z_um - a.z_um, 2));
  const double truth = kPi * r * r * len + 4.0 / 3.0 * kPi * r * r * r;
  EXPECT_NEAR(integrated_volume_um3(e, im), truth, 0.02 * truth);
}

TEST(GeneratorRender, ThinNeckBetweenPlanesStaysContinuous) {
  // A 0.15 µm neck along x halfway between two z planes 0.35 µm apart must show on every column, with no
  // aliasing along x, and not much dimmer than the same neck lying on a plane.
  const ImagingConfig im = clean_imaging(64, 32, 20, Spacing{0.1, 0.1, 0.35});
  auto neck_profile = [&](double z_um) {
    Scene scene;
    scene.tubes.push_back(Tube{{PointUm{1.0, 1.6, z_um}, PointUm{5.3, 1.6, z_um}}, {0.075, 0.075}, 1.0});
    const Volume<float> e = render_scene_expected(scene, im);
    std::vector<double> peak;
    for (std::size_t i = 15; i <= 48; ++i) {  // x 1.5 .. 4.8 µm, away from the caps
      double m = 0;
      for (std::size_t k = 0; k < e.nz(); ++k) m = std::max(m, static_cast<double>(e(i, 16, k)));
      peak.push_back(m / im.photons);
    }
    return peak;
  };
  const auto between = neck_profile(9.5 * 0.35);
  const auto on_plane = neck_profile(9.0 * 0.35);
  const auto [lo, hi] = std::minmax_element(between.begin(), between.end());
  EXPECT_GT(*lo, 0.05) << "the neck vanished between planes";
  EXPECT_LT(*hi / *lo, 1.05) << "the neck is aliased along x";
  EXPECT_GT(*lo / *std::max_element(on_plane.begin(), on_plane.end()), 0.75);
}

TEST(GeneratorRender, HazeAndAttenuation) {
  ImagingConfig im = clean_imaging(16, 16, 30, Spacing{0.1, 0.1, 0.35});
  im.background_photons = 7.0;
  im.attenuation_length_um = 10.0;
  Scene scene;
  scene.tubes.push_back(Tube{{PointUm{-1, 0.8, -1}, PointUm{-1, 0.8, 12}}, {0.3, 0.3}, 1.0});  // outside x
  const Volume<float> empty = render_scene_expected(Scene{}, im);
  for (std::size_t n = 0; n < empty.size(); ++n) ASSERT_FLOAT_EQ(empty[n], 7.0f);
  // A slab filling the stack in x, y: the signal at depth z is photons·exp(-z/L).
  Scene slab;
  slab.balls.push_back({PointUm{0.8, 0.8, 5.0}, 30.0, 1.0});
  const Volume<float> e = render_scene_expected(slab, im);
  for (std::size_t k : {0u, 10u, 29u}) {
    const double z = k * 0.35;
    EXPECT_NEAR(e(8, 8, k), 100.0 * std::exp(-z / 10.0) + 7.0, 0.01) << "k=" << k;
  }
}

TEST(GeneratorRender, NoiseIsDeterministicBySeedAndThreadCount) {
  ImagingConfig im;
  im.nx = 48, im.ny = 40, im.nz = 12;
  Scene scene;
  scene.tubes.push_back(Tube{{PointUm{0.5, 2.0, 2.0}, PointUm{4.5, 2.0, 2.2}}, {0.6, 0.5}, 1.0});
  scene.balls.push_back({PointUm{2.0, 3.0, 1.5}, 0.3, 2.0});
  im.seed = 7;
  Volume<std::uint16_t> a, b;
  {
    ThreadLimit one(1);
    a = render_scene(scene, im);
  }
  {
    ThreadLimit two(2);
    b = render_scene(scene, im);
  }
  EXPECT_EQ(a.storage(), b.storage());
  im.seed = 8;
  const Volume<std::uint16_t> c = render_scene(scene, im);
  EXPECT_NE(a.storage(), c.storage());
}

TEST(GeneratorRender, PhotonStatisticsMatchTheCameraModel) {
  // Flat field of 50 expected photons: counts have mean 50·gain + offset and variance 50·gain² + read².
  ImagingConfig im;
  im.nx = 64, im.ny = 64, im.nz = 8;
  im.background_photons = 50.0;
  const Volume<std::uint16_t> v = render_scene(Scene{}, im);
  double sum = 0, sum2 = 0;
  for (std::size_t n = 0; n < v.size(); ++n) sum += v[n], sum2 += double(v[n]) * v[n];
  const double mean = sum / v.size(), var = sum2 / v.size() - mean * mean;
  EXPECT_NEAR(mean, 50.0 * im.gain + im.offset, 2.0);
  const double var_truth = 50.0 * im.gain * im.gain + im.read_noise * im.read_noise;
  EXPECT_NEAR(var, var_truth, 0.05 * var_truth);
  // Small means go through inversion: 3 photons.
  im.background_photons = 3.0;
  im.read_noise = 0.0;
  const Volume<std::uint16_t> w = render_scene(Scene{}, im);
  sum = sum2 = 0;
  for (std::size_t n = 0; n < w.size(); ++n) {
    const double p = (w[n] - im.offset) / im.gain;
    sum += p, sum2 += p * p;
  }
  EXPECT_NEAR(sum / w.size(), 3.0, 0.05);
  EXPECT_NEAR(sum2 / w.size() - std::pow(sum / w.size(), 2), 3.0, 0.15);
}

TEST(GeneratorRender, RefusesBadInput) {
  ImagingConfig im;
  Scene scene;
  scene.tubes.push_back(Tube{{PointUm{1, 1, 1}, PointUm{2, 1, 1}}, {0.5}, 1.0});
  EXPECT_THROW(render_scene_expected(scene, im), ParameterError);
  im.spacing.z_um = 0.0;
  EXPECT_THROW(render_scene_expected(Scene{}, im), ParameterError);
  im.spacing.z_um = 0.35;
  im.fine_voxel_um = 0.5;  // coarser than the PSF
  EXPECT_THROW(render_scene_expected(Scene{}, im), ParameterError);
}

}  // namespace
}  // namespace spinescope::gen
