// make-sample-stacks --study: the design (seeded factors, ids, nominal densities) and what it writes.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <cmath>
#include <set>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "tools/make_sample_stacks/study.hpp"

namespace spinescope::gen {
namespace {

namespace fs = boost::filesystem;

TEST(Study, PlanIsSeededAndTheEffectChangesOnlyTheTreatedDensity) {
  StudyConfig a;
  a.groups = {"vehicle", "drug", "drug2"};
  a.animals = 4;
  a.neurons = 3;
  a.seed = 11;
  StudyConfig b = a;
  b.effect = 1.0;
  const auto pa = plan_study(a), pb = plan_study(b);
  ASSERT_EQ(pa.size(), 3u * 4u * 3u);
  ASSERT_EQ(pb.size(), pa.size());
  std::set<std::string> files, neurons, seeds;
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].seed, pb[i].seed);
    EXPECT_EQ(pa[i].animal_factor, pb[i].animal_factor);
    EXPECT_EQ(pa[i].neuron_factor, pb[i].neuron_factor);
    const double effect = pa[i].group == "vehicle" ? 1.0 : 1.4;
    EXPECT_NEAR(pa[i].nominal_density_per_um, 0.5 * effect * pa[i].animal_factor * pa[i].neuron_factor, 1e-12);
    EXPECT_NEAR(pb[i].nominal_density_per_um, 0.5 * pb[i].animal_factor * pb[i].neuron_factor, 1e-12);
    EXPECT_EQ(pa[i].animal.rfind(pa[i].group + "-", 0), 0u) << pa[i].animal;
    files.insert(pa[i].file);
    neurons.insert(pa[i].animal + "/" + pa[i].neuron);
    seeds.insert(std::to_string(pa[i].seed));
  }
  EXPECT_EQ(files.size(), pa.size());
  EXPECT_EQ(neurons.size(), pa.size());
  EXPECT_EQ(seeds.size(), pa.size());
  a.seed = 12;
  EXPECT_NE(plan_study(a).front().animal_factor, pa.front().animal_factor);
}

TEST(Study, FactorsHaveTheRequestedSpreadOnLogScale) {
  StudyConfig c;
  c.animals = 100;
  c.neurons = 10;
  c.groups = {"a", "b"};
  const auto plan = plan_study(c);
  std::vector<double> animal_logs, neuron_logs;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (plan[i].neuron == "n1") animal_logs.push_back(std::log(plan[i].animal_factor));
    neuron_logs.push_back(std::log(plan[i].neuron_factor));
  }
  auto sd = [](const std::vector<double>& v) {
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= v.size();
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / (v.size() - 1));
  };
  ASSERT_EQ(animal_logs.size(), 200u);
  EXPECT_NEAR(sd(animal_logs), 0.08, 0.012);  // 200 draws: sd of the sd estimate is about 0.004
  EXPECT_NEAR(sd(neuron_logs), 0.05, 0.004);  // 2000 draws
}

TEST(Study, RefusesDesignsItCannotRealise) {
  StudyConfig c;
  c.base.spine_density_per_um = 0.9;  // x 1.4 = 1.26 > 1 / (1.25 * 0.8)
  EXPECT_THROW(plan_study(c), ParameterError);
  c.base.spine_density_per_um = 0.5;
  c.groups = {"control", "control"};
  EXPECT_THROW(plan_study(c), ParameterError);
  c.groups = {"control", "drug,x"};
  EXPECT_THROW(plan_study(c), ParameterError);
  c.groups = {"control", "drug"};
  c.effect = 0.0;
  EXPECT_THROW(plan_study(c), ParameterError);
}

TEST(Study, WritesStacksSheetAndTruthThatAgree) {
  const fs::path dir = fs::temp_directory_path() / fs::unique_path("spinescope-study-%%%%%%");
  StudyConfig c;
  c.animals = 2;
  c.neurons = 1;
  c.base.imaging.nx = 96;
  c.base.imaging.ny = 96;
  c.base.imaging.nz = 20;
  c.base.imaging.spacing = Spacing{0.1, 0.1, 0.35};
  const auto stacks = write_study(dir.string(), c);
  ASSERT_EQ(stacks.size(), 4u);

  const auto sheet = read_csv((dir / "sheet.csv").string());
  ASSERT_EQ(sheet.header, (std::vector<std::string>{"path", "group", "animal", "neuron"}));
  ASSERT_EQ(sheet.rows.size(), 4u);
  const auto truth = read_csv((dir / "truth_study.csv").string());
  ASSERT_EQ(truth.rows.size(), 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    const std::string& file = sheet.rows[i][0];
    EXPECT_EQ(file.find('/'), std::string::npos) << "paths are relative to the sheet";
    EXPECT_TRUE(fs::exists(dir / file)) << file;
    EXPECT_EQ(sheet.rows[i][2], stacks[i].animal);
    // The truth count is the stack's own truth file; the density is count / length.
    const std::string stem = file.substr(0, file.size() - 4);
    const auto spines = read_csv((dir / (stem + ".spines.csv")).string());
    const auto dendrites = read_csv((dir / (stem + ".dendrites.csv")).string());
    double length_um = 0.0;
    for (const auto& row : dendrites.rows) length_um += std::stod(row[1]);
    EXPECT_EQ(std::stoi(truth.rows[i][8]), static_cast<int>(spines.rows.size())) << file;
    EXPECT_NEAR(std::stod(truth.rows[i][9]), length_um, 1e-3) << file;
    ASSERT_GT(length_um, 5.0) << file;
    EXPECT_NEAR(std::stod(truth.rows[i][10]), spines.rows.size() / length_um, 1e-5) << file;
  }
  const auto groups = study_group_truth(stacks, c.groups);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_NEAR(groups[0].mean_density_per_um, (stacks[0].density_per_um() + stacks[1].density_per_um()) / 2, 1e-12);
  EXPECT_NEAR(groups[1].ratio_to_control, groups[1].mean_density_per_um / groups[0].mean_density_per_um, 1e-12);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace spinescope::gen
