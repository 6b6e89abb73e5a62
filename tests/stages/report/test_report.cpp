#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <fstream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>

#include "spinescope/io.hpp"
#include "spinescope/stack_reader.hpp"
#include "stages/report/report_stage.hpp"

namespace spinescope::stages::report {
namespace {

namespace fs = boost::filesystem;

// A hand-built result: a 10 µm straight dendrite along x with three spines, at anisotropic spacing.
Context make_context(const std::string& out) {
  const Spacing sp{0.1, 0.1, 0.35};
  StackInfo info;
  info.path = "cell.tif";
  info.output_dir = out;
  info.sha256 = std::string(64, 'a');
  info.spacing = sp;
  info.spacing_source = SpacingSource::kImageJ;
  info.nx = 120, info.ny = 40, info.nz = 8;
  Context ctx(info);
  DendriteGraph g;
  DendriteBranch b;
  for (int i = 0; i <= 10; ++i) b.nodes.push_back({1.0 + i, 2.0, 1.4, 0.5});
  g.branches.push_back(b);
  ctx.put(artifacts::kDendriteGraph, g);
  std::vector<Spine> spines(3);
  const SpineType types[] = {SpineType::kMushroom, SpineType::kThin, SpineType::kStubby};
  for (int i = 0; i < 3; ++i) {
    spines[i].spine_id = i;
    spines[i].head = {2.0 + 3 * i, 3.2, 1.4};
    spines[i].base = {2.0 + 3 * i, 2.5, 1.4};
    spines[i].head_diameter_um = 0.6;
    spines[i].type = types[i];
  }
  ctx.put(artifacts::kSpines, spines);
  Volume<float> mip(120, 40, 1, sp, 100.0f);
  for (int x = 10; x < 110; ++x)
    for (int y = 15; y < 25; ++y) mip(x, y, 0) = 1000.0f;
  ctx.put(artifacts::kRawMip, mip);
  Volume<std::uint8_t> shaft(120, 40, 8, sp, 0);
  shaft(50, 20, 4) = 1;
  ctx.put(artifacts::kShaftMask, shaft);
  Volume<std::uint32_t> labels(120, 40, 8, sp, 0);
  labels(20, 32, 4) = 1;  // spine 0
  labels(50, 20, 4) = 3;  // spine 2 wins over the shaft
  ctx.put(artifacts::kSpineLabels, labels);
  return ctx;
}

TEST(Report, WritesTheOutputContract) {
  const fs::path dir = fs::temp_directory_path() / fs::unique_path("spinescope-report-%%%%%%");
  Context ctx = make_context(dir.string());
  ReportStage stage;
  stage.configure(ParamSet{});
  stage.run(ctx);

  const CsvTable spines = read_csv((dir / "spines.csv").string());
  ASSERT_EQ(spines.rows.size(), 3u);
  for (const char* col : {"spine_id", "dendrite_id", "x_um", "y_um", "z_um", "head_diameter_um", "neck_length_um",
                          "length_um", "volume_um3", "type"})
    EXPECT_GE(spines.column(col), 0) << col;
  EXPECT_EQ(spines.rows[1][spines.column("type")], "thin");
  EXPECT_NEAR(std::stod(spines.rows[2][spines.column("x_um")]), 8.0, 1e-9);

  const CsvTable dendrites = read_csv((dir / "dendrites.csv").string());
  ASSERT_EQ(dendrites.rows.size(), 1u);
  EXPECT_NEAR(std::stod(dendrites.rows[0][dendrites.column("length_um")]), 10.0, 1e-6);
  EXPECT_EQ(dendrites.rows[0][dendrites.column("spine_count")], "3");
  EXPECT_NEAR(std::stod(dendrites.rows[0][dendrites.column("density_per_um")]), 0.3, 1e-9);
  EXPECT_NEAR(std::stod(dendrites.rows[0][dendrites.column("mean_radius_um")]), 0.5, 1e-9);
  EXPECT_EQ(dendrites.rows[0][dendrites.column("branch_points")], "0");

  std::ifstream js((dir / "summary.json").string());
  std::stringstream text;
  text << js.rdbuf();
  EXPECT_NE(text.str().find("\"sha256\": \"" + std::string(64, 'a') + "\""), std::string::npos);
  EXPECT_NE(text.str().find("\"source\": \"imagej\""), std::string::npos);
  EXPECT_NE(text.str().find("\"z_um\": 0.35"), std::string::npos);
  EXPECT_NE(text.str().find("\"branch_points\": 0"), std::string::npos);

  StackHeader header;
  const Volume<float> labels = read_stack((dir / "labels.tif").string(), {}, &header);
  EXPECT_NEAR(header.spacing.z_um, 0.35, 1e-9);
  EXPECT_NEAR(header.spacing.x_um, 0.1, 1e-6);
  EXPECT_EQ(labels(20, 32, 4), 2.0f);  // spine 0 -> label 2
  EXPECT_EQ(labels(50, 20, 4), 4.0f);  // spine 2 -> label 4, over the shaft
  EXPECT_EQ(labels(0, 0, 0), 0.0f);

  const cv::Mat overlay = cv::imread((dir / "overlay.png").string());
  ASSERT_FALSE(overlay.empty());
  EXPECT_EQ(overlay.cols % 120, 0);      // enlarged by a whole factor
  EXPECT_GT(overlay.rows, overlay.cols / 3);  // the picture (40 rows) plus a legend strip below it
  EXPECT_TRUE(fs::exists(dir / "trace.swc"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace spinescope::stages::report
