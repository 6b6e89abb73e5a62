// Real dendrite morphology: the ten SpineTool dendrites (../shared/data/spinetool-meshes, meshes in µm with
// 98 annotated spines) imaged through the generator's PSF and noise path, analysed by the default chain and
// scored by evaluate. Not every visible protrusion was annotated, so recall is the number that counts here.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>

#include "spinescope/evaluate.hpp"
#include "spinescope/registry.hpp"
#include "test_support.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope {
namespace {

namespace fs = boost::filesystem;

// Measured recall at the time this test was last tuned; see the issue notes. The target is 0.90.
constexpr double kMinRecall = 0.75;  // measured 0.796 (78/98), seed 1

TEST(EndToEnd, RecallOnRealDendriteMeshes) {
  const fs::path data = fs::path(SPINESCOPE_SHARED_DATA) / "spinetool-meshes";
  if (!fs::is_directory(data)) GTEST_SKIP() << "no " << data << ": the real-morphology data live beside the project";
  const fs::path dir = test::make_temp_dir("meshes");
  const Pipeline pipeline = Pipeline::from_names(default_chain(), ParamSet{});
  std::vector<EvalPair> pairs;
  for (auto it = fs::directory_iterator(data); it != fs::directory_iterator(); ++it) {
    if (!fs::is_directory(it->path())) continue;
    gen::ImagingConfig imaging;
    imaging.seed = 1;
    const std::string prefix = (dir / it->path().filename()).string();
    gen::write_generated(prefix, gen::render_mesh_folder(it->path().string(), imaging));
    StackInfo info;
    info.path = prefix + ".tif";
    info.output_dir = prefix + ".out";
    Context ctx(info);
    pipeline.run(ctx);
    pairs.push_back({info.output_dir, prefix});
  }
  ASSERT_EQ(pairs.size(), 10u);
  const EvalReport report = evaluate(pairs);
  std::printf("%s", format_table(report).c_str());
  EXPECT_EQ(report.pooled.true_spines, 98);
  EXPECT_GE(report.pooled.recall, kMinRecall);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace spinescope
