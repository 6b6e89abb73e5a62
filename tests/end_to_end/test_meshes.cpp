// Real dendrite morphology: the ten SpineTool dendrites (../shared/data/spinetool-meshes, meshes in µm with
// 98 annotated spines) imaged through the generator's PSF and noise path, analysed by the default chain and
// scored by evaluate. Not every visible protrusion was annotated, so recall is the number that counts here for
// spines (and the density error is not a measure); the dendrite length is checked against the mesh's skeleton.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <cmath>

#include "spinescope/evaluate.hpp"
#include "spinescope/registry.hpp"
#include "test_support.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope {
namespace {

namespace fs = boost::filesystem;

// Measured recall at the time these were last tuned (seed 1; see the issue notes). The target is 0.90.
// The meshes were segmented from confocal stacks, so they carry that microscope's axial blur (their shafts are
// 3-6x taller than wide); imaged as given, our PSF blurs z a second time. With --mesh-z-scale auto the shaft is
// made round first, which is the fair test of the detector; the as-given rendering is kept as a harder one.
constexpr double kMinRecallRound = 0.87;   // measured 0.908 (89/98)
constexpr double kMinRecallAsGiven = 0.70;  // measured 0.745 (73/98)
// Total dendrite length against the meshes' own skeletons (make-sample-stacks' mesh truth: TEASAR on the shaft
// at 0.05 µm, #3's 3 µm branch rule), pooled over the ten. Per mesh it is within 3% on half of them; the rest
// differ at ends with protrusions and at side protrusions of about 3 µm, where the rule itself is at its edge.
constexpr double kMaxLengthErrorRound = 0.08;    // measured -2.0% (252.2 of 257.3 um)
constexpr double kMaxLengthErrorAsGiven = 0.12;  // measured +5.1%

EvalReport analyse_meshes(const fs::path& data, double z_scale, const std::string& tag) {
  const fs::path dir = test::make_temp_dir("meshes-" + tag);
  const Pipeline pipeline = Pipeline::from_names(default_chain(), ParamSet{});
  std::vector<EvalPair> pairs;
  for (auto it = fs::directory_iterator(data); it != fs::directory_iterator(); ++it) {
    if (!fs::is_directory(it->path())) continue;
    gen::ImagingConfig imaging;
    imaging.seed = 1;
    const std::string prefix = (dir / it->path().filename()).string();
    gen::write_generated(prefix, gen::render_mesh_folder(it->path().string(), imaging, z_scale));
    StackInfo info;
    info.path = prefix + ".tif";
    info.output_dir = prefix + ".out";
    Context ctx(info);
    pipeline.run(ctx);
    pairs.push_back({info.output_dir, prefix});
  }
  EXPECT_EQ(pairs.size(), 10u);
  const EvalReport report = evaluate(pairs);
  std::printf("%s (mesh z %s)\n", format_table(report).c_str(), tag.c_str());
  fs::remove_all(dir);
  return report;
}

TEST(EndToEnd, RecallOnRealDendriteMeshes) {
  const fs::path data = fs::path(SPINESCOPE_SHARED_DATA) / "spinetool-meshes";
  if (!fs::is_directory(data)) GTEST_SKIP() << "no " << data << ": the real-morphology data live beside the project";
  const EvalReport round = analyse_meshes(data, gen::kAutoMeshZScale, "auto");
  EXPECT_EQ(round.pooled.true_spines, 98);
  EXPECT_GE(round.pooled.recall, kMinRecallRound);
  EXPECT_LE(std::abs(round.pooled.length_rel_error), kMaxLengthErrorRound);
  const EvalReport as_given = analyse_meshes(data, 1.0, "as-given");
  EXPECT_EQ(as_given.pooled.true_spines, 98);
  EXPECT_GE(as_given.pooled.recall, kMinRecallAsGiven);
  EXPECT_LE(std::abs(as_given.pooled.length_rel_error), kMaxLengthErrorAsGiven);
}

}  // namespace
}  // namespace spinescope
