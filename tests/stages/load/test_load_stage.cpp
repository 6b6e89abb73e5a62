// The load stage through a Context: artifacts, StackInfo, progress, cancellation, parameters.
#include <atomic>
#include <vector>

#include "load_test_util.hpp"
#include "spinescope/io.hpp"
#include "stages/load/load_stage.hpp"

namespace spinescope {
namespace {

using namespace test_load;
using stages::load::LoadStage;

TEST(Load, StageSpecParameters) {
  LoadStage stage;
  const StageSpec& s = stage.spec();
  EXPECT_EQ(s.name, "load");
  EXPECT_TRUE(s.requires_artifacts.empty());
  ASSERT_EQ(s.provides_artifacts.size(), 2u);
  std::vector<std::string> names;
  for (const auto& p : s.params) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"voxel_size_um", "channel", "frame", "allow_single_plane"}));
}

TEST(Load, StageFillsContextTwoChannels) {
  LoadStage stage;
  ParamSet params;
  params.set("load.channel", "2");
  stage.configure(params);
  Context ctx(StackInfo{fixture("imagej_two_channels.tif")});
  std::vector<double> fractions;
  ctx.set_progress_sink([&](const Progress& p) { fractions.push_back(p.stage_fraction); });
  ctx.begin_stage("load", 0, 1);
  stage.run(ctx);

  const auto& image = ctx.get<Volume<float>>(artifacts::kImage);
  const auto& mip = ctx.get<Volume<float>>(artifacts::kRawMip);
  ASSERT_EQ(image.nz(), 3u);
  ASSERT_EQ(mip.nz(), 1u);
  ASSERT_EQ(mip.nx(), 16u);
  for (int j = 0; j < 12; ++j)
    for (int i = 0; i < 16; ++i) ASSERT_EQ(mip(i, j, 0), pattern(i, j, 2, 1));  // brightest slice is the last
  expect_spacing(mip.spacing(), um(0.08, 0.08, 0.5));

  const StackInfo& info = ctx.info();
  EXPECT_EQ(info.sha256, sha256_file(fixture("imagej_two_channels.tif")));
  expect_spacing(info.spacing, um(0.08, 0.08, 0.5));
  EXPECT_EQ(info.spacing_source, SpacingSource::kImageJ);
  EXPECT_EQ(info.nx, 16u);
  EXPECT_EQ(info.ny, 12u);
  EXPECT_EQ(info.nz, 3u);
  EXPECT_EQ(info.bits_per_sample, 16);
  EXPECT_EQ(info.sample_format, "uint");
  EXPECT_EQ(info.channels, 2);
  EXPECT_EQ(info.channel, 2);
  EXPECT_EQ(info.frames, 1);
  EXPECT_EQ(info.frame, 1);
  EXPECT_EQ(info.metadata.at("format"), "imagej");
  // one report per page plus the stage's own, never going back
  ASSERT_GE(fractions.size(), 4u);
  for (std::size_t n = 1; n < fractions.size(); ++n) EXPECT_GE(fractions[n], fractions[n - 1]);
}

TEST(Load, StageVoxelSizeParameter) {
  LoadStage stage;
  ParamSet params;
  params.set("load.voxel_size_um", "0.1,0.1,0.5");
  stage.configure(params);
  Context ctx(StackInfo{fixture("plain_no_spacing.tif")});
  stage.run(ctx);
  expect_spacing(ctx.info().spacing, um(0.1, 0.1, 0.5));
  EXPECT_EQ(ctx.info().spacing_source, SpacingSource::kCommandLine);

  ParamSet bad;
  bad.set("load.voxel_size_um", "0.1,0.1");
  EXPECT_THROW(stage.configure(bad), ParameterError);
  ParamSet range;
  range.set("load.channel", "-1");
  EXPECT_THROW(stage.configure(range), ParameterError);
}

TEST(Load, StageRefusalIsInputError) {
  LoadStage stage;
  stage.configure(ParamSet{});
  Context ctx(StackInfo{fixture("plain_no_spacing.tif")});
  EXPECT_THROW(stage.run(ctx), InputError);
  EXPECT_FALSE(ctx.has(artifacts::kImage));
}

TEST(Load, StageCancelledBetweenPages) {
  LoadStage stage;
  stage.configure(ParamSet{});
  Context ctx(StackInfo{fixture("imagej_u16.tif")});
  std::atomic<bool> cancel{true};
  ctx.set_cancel_flag(&cancel);
  EXPECT_THROW(stage.run(ctx), Cancelled);
  EXPECT_FALSE(ctx.has(artifacts::kImage));
}

}  // namespace
}  // namespace spinescope
