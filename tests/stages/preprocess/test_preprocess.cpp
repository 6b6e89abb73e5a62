#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "spinescope/errors.hpp"
#include "spinescope/filters.hpp"
#include "stages/preprocess/preprocess_stage.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope {
namespace {

using stages::preprocess::PreprocessStage;

Volume<float> to_float(const Volume<std::uint16_t>& v) {
  Volume<float> out(v.nx(), v.ny(), v.nz(), v.spacing());
  for (std::size_t n = 0; n < v.size(); ++n) out[n] = v[n];
  return out;
}

gen::ImagingConfig imaging() {
  gen::ImagingConfig im;
  im.nx = 200, im.ny = 160, im.nz = 24;
  im.spacing = {0.1, 0.1, 0.35};
  return im;
}

gen::Scene one_tube() {
  gen::Scene scene;
  gen::Tube t;
  t.points = {{-1.0, 8.0, 4.0}, {20.5, 8.0, 4.0}};
  t.radii_um = {0.7, 0.7};
  scene.tubes.push_back(t);
  return scene;
}

Volume<float> run(Volume<float> image, const ParamSet& params = {}) {
  PreprocessStage stage;
  stage.configure(params);
  Context ctx;
  ctx.put(artifacts::kImage, std::move(image));
  stage.run(ctx);
  EXPECT_FALSE(ctx.has(artifacts::kImage)) << "the raw image is taken over, not copied";
  return std::move(ctx.get<Volume<float>>(artifacts::kPreprocessed));
}

float at_um(const Volume<float>& v, double x, double y, double z) {
  return v(std::lround(x / v.spacing().x_um), std::lround(y / v.spacing().y_um), std::lround(z / v.spacing().z_um));
}

TEST(Preprocess, NormalisedRangeDendriteNearOneBackgroundNearZero) {
  const Volume<float> out = run(to_float(gen::render_scene(one_tube(), imaging())));
  EXPECT_EQ(out.spacing().z_um, 0.35);
  // On the axis of the tube (~1) and 5 µm away from it (~0).
  double axis = 0.0, far = 0.0;
  for (double x = 2.0; x <= 18.0; x += 1.0) axis += at_um(out, x, 8.0, 4.0) / 17.0, far += at_um(out, x, 14.0, 4.0) / 17.0;
  EXPECT_NEAR(axis, 1.0, 0.3);
  EXPECT_NEAR(far, 0.0, 0.05);
  const auto p = volume_percentiles(out, {50.0, 99.9});
  EXPECT_NEAR(p[0], 0.0, 1e-3);
  EXPECT_NEAR(p[1], 1.0, 1e-2);
}

// The normalisation takes its percentiles from a subsample of a large stack: on the generated tube image (768,000
// voxels, 1 in 7 sampled) they must agree with the whole-volume percentiles to a small fraction of the range.
TEST(Preprocess, SampledPercentilesMatchWholeVolume) {
  const Volume<float> image = to_float(gen::render_scene(one_tube(), imaging()));
  const std::vector<double> q = {25.0, 50.0, 99.0, 99.9};
  const auto whole = volume_percentiles(image, q);
  const auto sampled = sampled_percentiles(image, q, 100000);
  const auto all = sampled_percentiles(image, q, image.size());
  const double range = whole[3] - whole[0];
  ASSERT_GT(range, 0.0);
  for (std::size_t n = 0; n < q.size(); ++n) {
    EXPECT_NEAR(sampled[n], whole[n], 0.05 * range) << "percentile " << q[n];
    EXPECT_DOUBLE_EQ(all[n], whole[n]) << "a volume within the sample budget is used whole";
  }
}

TEST(Preprocess, BackgroundRemovedFromConstantAndGraduatedHaze) {
  gen::ImagingConfig im = imaging();
  im.background_photons = 40.0;  // strong haze
  Volume<float> image = to_float(gen::render_scene(one_tube(), im));
  // Plus a haze that grows across the stack by 200 counts (slowly varying, as scattered light).
  for (std::size_t k = 0; k < image.nz(); ++k)
    for (std::size_t j = 0; j < image.ny(); ++j)
      for (std::size_t i = 0; i < image.nx(); ++i) image(i, j, k) += 200.0f * i / image.nx();
  const Volume<float> out = run(std::move(image));
  // Background on both sides of the stack (left: little added haze, right: much) is the same, ~0.
  double left = 0.0, right = 0.0;
  int count = 0;
  for (double y = 1.0; y <= 4.0; y += 0.5)
    for (double z = 1.0; z <= 7.0; z += 1.0) {
      left += at_um(out, 2.0, y, z);
      right += at_um(out, 18.0, y, z);
      ++count;
    }
  EXPECT_NEAR(left / count, 0.0, 0.06);
  EXPECT_NEAR(right / count, 0.0, 0.06);
  EXPECT_GT(at_um(out, 10.0, 8.0, 4.0), 0.6);
}

TEST(Preprocess, DeconvolutionSharpensATube) {
  gen::ImagingConfig im = imaging();
  im.noise = false;
  Volume<float> image = gen::render_scene_expected(one_tube(), im);
  ParamSet on;
  on.set("preprocess.deconvolve", "true");
  on.set("preprocess.deconvolution_iterations", "15");
  const Volume<float> plain = run(image), sharp = run(image, on);
  // Half a micron above the axis (z blurred by the PSF) the deconvolved image is darker relative to the axis.
  const double plain_ratio = at_um(plain, 10.0, 8.0, 4.0 + 1.05) / at_um(plain, 10.0, 8.0, 4.0);
  const double sharp_ratio = at_um(sharp, 10.0, 8.0, 4.0 + 1.05) / at_um(sharp, 10.0, 8.0, 4.0);
  EXPECT_LT(sharp_ratio, plain_ratio - 0.05) << plain_ratio << " vs " << sharp_ratio;
}

TEST(Preprocess, ConstantImageGivesZeroNotNaN) {
  Volume<float> image(40, 30, 6, Spacing{0.1, 0.1, 0.35}, 300.0f);
  const Volume<float> out = run(std::move(image));
  for (std::size_t n = 0; n < out.size(); ++n) ASSERT_TRUE(std::isfinite(out[n]) && std::abs(out[n]) < 1e-3);
}

TEST(Preprocess, ParameterErrors) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"preprocess.denoise_sigma_um", "-0.1"},
           {"preprocess.high_percentile", "101"},
           {"preprocess.psf_fwhm_xy_um", "0"},
           {"preprocess.deconvolution_iterations", "0"},
           {"preprocess.background_radius", "5"}}) {
    ParamSet set;
    set.set(key, value);
    PreprocessStage stage;
    EXPECT_THROW(stage.configure(set), ParameterError) << key << "=" << value;
  }
  ParamSet crossed;
  crossed.set("preprocess.low_percentile", "90");
  crossed.set("preprocess.high_percentile", "80");
  PreprocessStage stage;
  EXPECT_THROW(stage.configure(crossed), ParameterError);
}

TEST(Preprocess, MissingVoxelSizeOrImageIsAStageError) {
  PreprocessStage stage;
  stage.configure({});
  Context empty;
  EXPECT_THROW(stage.run(empty), StageError);
  Context ctx;
  ctx.put(artifacts::kImage, Volume<float>(10, 10, 3, Spacing{}, 1.0f));
  EXPECT_THROW(stage.run(ctx), StageError);
}

}  // namespace
}  // namespace spinescope
