// Accuracy of the whole chain (preprocess, dendrites, spines, classify, report) on generated stacks whose
// truth is known, scored by the same code as `spinescope evaluate`. The seeds here are not the sample stacks'
// nor bench/accuracy.sh's; the numbers for the notes come from bench/accuracy.sh over 20 stacks.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <cmath>

#include "spinescope/evaluate.hpp"
#include "spinescope/registry.hpp"
#include "spinescope/stack_reader.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope {
namespace {

namespace fs = boost::filesystem;

struct Scored {
  EvalReport report;
  fs::path dir;
};

// Generates each seed, analyses its TIFF through the default chain, and scores the results.
Scored analyse_generated(const std::vector<std::uint64_t>& seeds, double photons, const std::string& tag) {
  Scored out;
  out.dir = fs::temp_directory_path() / fs::unique_path("spinescope-e2e-" + tag + "-%%%%%%");
  fs::create_directories(out.dir);
  std::vector<EvalPair> pairs;
  const Pipeline pipeline = Pipeline::from_names(default_chain(), ParamSet{});
  for (auto seed : seeds) {
    gen::GeneratorConfig config;
    config.imaging.seed = seed;
    if (photons > 0) config.imaging.photons = photons;
    const auto stack = gen::generate_stack(config);
    const std::string prefix = (out.dir / ("stack_" + std::to_string(seed))).string();
    gen::write_generated(prefix, stack);
    StackInfo info;
    info.path = prefix + ".tif";
    info.output_dir = prefix + ".out";
    Context ctx(info);
    pipeline.run(ctx);
    pairs.push_back({info.output_dir, prefix});
  }
  out.report = evaluate(pairs);
  return out;
}

void print(const EvalReport& r) { std::printf("%s", format_table(r).c_str()); }

// Issue 4's bounds, pooled over 20 stacks as bench/accuracy.sh measures them. Per stack the density error spreads
// by about 5% (a crowded scene of three dendrites loses stubby spines between them: 9004 is -8%), so the four
// stacks this test used to take were too few for a 5% bound on the pooled figure.
TEST(EndToEnd, AccuracyOnGeneratedStacksDefaultNoise) {
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t seed = 9001; seed <= 9020; ++seed) seeds.push_back(seed);
  const Scored s = analyse_generated(seeds, 0.0, "default");
  print(s.report);
  const EvalMetrics& p = s.report.pooled;
  ASSERT_GT(p.true_spines, 400);
  EXPECT_GE(p.f1, 0.90);
  EXPECT_LE(std::fabs(p.density_rel_error), 0.05);
  EXPECT_LE(std::fabs(p.length_rel_error), 0.03);
  EXPECT_LE(p.diameter_mae_um, 0.08);
  EXPECT_GE(p.type_accuracy, 0.80);
  fs::remove_all(s.dir);
}

}  // namespace
}  // namespace spinescope
