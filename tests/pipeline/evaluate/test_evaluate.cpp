#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "spinescope/errors.hpp"
#include "spinescope/evaluate.hpp"
#include "spinescope/io.hpp"

namespace spinescope {
namespace {

namespace fs = boost::filesystem;

// Positions are in µm on a 0.1 × 0.1 × 0.35 µm grid: z values are multiples of the coarse z step.
constexpr double kZ = 0.35;

struct TruthRow {
  std::string type;
  PointUm head, base;
  std::string diameter = "0.5";
};
struct FoundRow {
  PointUm at;
  double diameter = 0.5;
  std::string type = "stubby";
};

class EvaluateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fs::unique_path("spinescope-eval-%%%%%%");
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Writes truth PREFIX.spines.csv/.dendrites.csv and results folder; returns the pair.
  EvalPair write_case(const std::string& name, const std::vector<TruthRow>& truth, const std::vector<FoundRow>& found,
                      const std::string& true_length = "10", double found_length_um = 10.0) {
    const std::string prefix = (dir_ / name).string();
    std::ostringstream t;
    t << "spine_id,dendrite_id,type,x_um,y_um,z_um,base_x_um,base_y_um,base_z_um,head_diameter_um,neck_length_um,"
         "neck_width_um,length_um\n";
    int id = 0;
    for (const auto& s : truth)
      t << id++ << ",0," << s.type << ',' << s.head.x_um << ',' << s.head.y_um << ',' << s.head.z_um << ','
        << s.base.x_um << ',' << s.base.y_um << ',' << s.base.z_um << ',' << s.diameter << ",,,\n";
    write_file_atomic(prefix + ".spines.csv", t.str());
    // Two dendrites whose lengths add up to true_length (or unknown).
    std::string half = true_length.empty() ? "" : format_number(std::stod(true_length) / 2, 10);
    write_file_atomic(prefix + ".dendrites.csv",
                      "dendrite_id,length_um,mean_radius_um\n0," + half + ",0.6\n1," + half + ",0.6\n");
    const fs::path results = dir_ / (name + "_results");
    std::ostringstream r;
    r << "spine_id,dendrite_id,x_um,y_um,z_um,head_diameter_um,neck_length_um,length_um,volume_um3,type,"
         "confidence\n";
    id = 0;
    for (const auto& s : found)
      r << id++ << ",0," << s.at.x_um << ',' << s.at.y_um << ',' << s.at.z_um << ',' << s.diameter << ",0.5,1,0.1,"
        << s.type << ",0.9\n";
    write_file_atomic((results / "spines.csv").string(), r.str());
    write_file_atomic((results / "dendrites.csv").string(),
                      "dendrite_id,length_um,spine_count,density_per_um\n0," + format_number(found_length_um, 10) +
                          "," + std::to_string(found.size()) + ",0\n");
    return {results.string(), prefix + ".tif"};
  }

  fs::path dir_;
};

/// A spine pointing along +y from its base, head 1.5 µm out.
TruthRow spine_at(double x, double z, const std::string& type = "mushroom", const std::string& diameter = "0.5") {
  return {type, {x, 1.5, z}, {x, 0.0, z}, diameter};
}

TEST_F(EvaluateTest, ExactMatchesScorePerfect) {
  const auto pair = write_case("exact", {spine_at(1, 2 * kZ), spine_at(3, 4 * kZ), spine_at(5, 0)},
                               {{{1, 1.5, 2 * kZ}}, {{3, 1.5, 4 * kZ}}, {{5, 1.5, 0}}});
  const EvalMetrics m = evaluate_stack(pair, 0.8);
  EXPECT_EQ(m.true_spines, 3);
  EXPECT_EQ(m.detected_spines, 3);
  EXPECT_EQ(m.matched, 3);
  EXPECT_DOUBLE_EQ(m.precision, 1.0);
  EXPECT_DOUBLE_EQ(m.recall, 1.0);
  EXPECT_DOUBLE_EQ(m.f1, 1.0);
  EXPECT_NEAR(m.diameter_mae_um, 0.0, 1e-12);
}

TEST_F(EvaluateTest, OneMissAndOneFalsePositive) {
  // Truth at x = 1, 3, 5; found at 1 and 3 plus a blob 4 µm away from every spine axis.
  const auto pair = write_case("miss", {spine_at(1, 0), spine_at(3, 0), spine_at(5, 0)},
                               {{{1, 1.5, 0}}, {{3, 1.4, kZ}}, {{9, 5, 10 * kZ}}});
  const EvalMetrics m = evaluate_stack(pair, 0.8);
  EXPECT_EQ(m.matched, 2);
  EXPECT_NEAR(m.precision, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m.recall, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m.f1, 2.0 / 3.0, 1e-12);
}

TEST_F(EvaluateTest, EquidistantDetectionMatchesOnlyOnce) {
  // Two point-like truths (base = head) 1 µm apart; one detection halfway: admissible for both, matched once.
  const TruthRow a{"thin", {0, 0, 2 * kZ}, {0, 0, 2 * kZ}}, b{"thin", {1, 0, 2 * kZ}, {1, 0, 2 * kZ}};
  const EvalMetrics m = evaluate_stack(write_case("equi", {a, b}, {{{0.5, 0, 2 * kZ}}}), 0.8);
  EXPECT_EQ(m.matched, 1);
  EXPECT_DOUBLE_EQ(m.precision, 1.0);
  EXPECT_DOUBLE_EQ(m.recall, 0.5);
}

TEST_F(EvaluateTest, AssignmentMaximisesMatchesWhereGreedyWouldNot) {
  // d0 is 0.5 µm from both truths, d1 only reaches truth 1 (0.55 µm). Nearest-first could give d0 to truth 1
  // and leave d1 unmatched; the assignment gives d0 -> truth 0, d1 -> truth 1.
  const std::vector<EvalSpine> truth = {{{0, 0, kZ}, {0, 0, kZ}, 0.5, "thin"}, {{1, 0, kZ}, {1, 0, kZ}, 0.5, "thin"}};
  const std::vector<EvalSpine> found = {{{0.5, 0, kZ}, {}, 0.5, "thin"}, {{1.55, 0, kZ}, {}, 0.5, "thin"}};
  const auto matches = match_spines(truth, found, 0.8);
  ASSERT_EQ(matches.size(), 2u);
  EXPECT_EQ(matches[0], std::make_pair(0, 0));
  EXPECT_EQ(matches[1], std::make_pair(1, 1));
}

TEST_F(EvaluateTest, AssignmentPrefersLeastTotalDistance) {
  // Both detections reach both truths: the pairing with least total distance wins (0.1 + 0.1, not 0.7 + 0.7).
  const std::vector<EvalSpine> truth = {{{0, 0, 0}, {0, 0, 0}, 0.5, ""}, {{0.8, 0, 0}, {0.8, 0, 0}, 0.5, ""}};
  const std::vector<EvalSpine> found = {{{0.7, 0, 0}, {}, 0.5, ""}, {{0.1, 0, 0}, {}, 0.5, ""}};
  const auto matches = match_spines(truth, found, 0.8);
  ASSERT_EQ(matches.size(), 2u);
  EXPECT_EQ(matches[0], std::make_pair(0, 1));
  EXPECT_EQ(matches[1], std::make_pair(1, 0));
}

TEST_F(EvaluateTest, DetectionBeyondToleranceIsNotMatched) {
  // 0.85 µm beyond the head along the axis direction: outside 0.8, inside 0.9.
  const auto pair = write_case("far", {spine_at(2, 3 * kZ)}, {{{2, 1.5 + 0.85, 3 * kZ}}});
  EXPECT_EQ(evaluate_stack(pair, 0.8).matched, 0);
  EXPECT_EQ(evaluate_stack(pair, 0.9).matched, 1);
  // Also across z: 3 slices (1.05 µm) above the head is beyond 0.8 µm.
  EXPECT_EQ(evaluate_stack(write_case("farz", {spine_at(2, 3 * kZ)}, {{{2, 1.5, 6 * kZ}}}), 0.8).matched, 0);
}

TEST_F(EvaluateTest, DetectionNearTheBaseOnTheAxisCounts) {
  // A 2.1 µm spine pointing along z: the detection sits near its base, 1.75 µm from the head centre but
  // 0.1 µm from the axis.
  const TruthRow t{"filopodium", {1, 1, 8 * kZ}, {1, 1, 2 * kZ}};
  const EvalMetrics m = evaluate_stack(write_case("base", {t}, {{{1.1, 1, 3 * kZ}}}), 0.8);
  EXPECT_EQ(m.matched, 1);
  EXPECT_NEAR(distance_to_segment_um({1.1, 1, 3 * kZ}, t.base, t.head), 0.1, 1e-12);
}

TEST_F(EvaluateTest, RecallPerType) {
  const auto pair = write_case("types",
                               {spine_at(1, 0, "mushroom"), spine_at(3, 0, "mushroom"), spine_at(5, 0, "thin"),
                                spine_at(7, 0, "thin"), spine_at(9, 0, "stubby")},
                               {{{1, 1.5, 0}}, {{3, 1.5, 0}}, {{5, 1.5, 0}}});
  const EvalMetrics m = evaluate_stack(pair, 0.8);
  EXPECT_EQ(m.true_by_type.at("mushroom"), 2);
  EXPECT_EQ(m.matched_by_type.at("mushroom"), 2);
  EXPECT_EQ(m.true_by_type.at("thin"), 2);
  EXPECT_EQ(m.matched_by_type.at("thin"), 1);
  EXPECT_EQ(m.matched_by_type.at("stubby"), 0);
}

TEST_F(EvaluateTest, HeadDiameterErrorAndBiasSkipUnknownTruth) {
  // Errors +0.1 and -0.3 (mushroom) and +0.2 (thin); a fourth truth has no diameter and is skipped.
  const auto pair = write_case(
      "diam",
      {spine_at(1, 0, "mushroom", "0.8"), spine_at(3, 0, "mushroom", "0.9"), spine_at(5, 0, "thin", "0.4"),
       spine_at(7, 0, "thin", "")},
      {{{1, 1.5, 0}, 0.9}, {{3, 1.5, 0}, 0.6}, {{5, 1.5, 0}, 0.6}, {{7, 1.5, 0}, 5.0}});
  const EvalMetrics m = evaluate_stack(pair, 0.8);
  EXPECT_EQ(m.matched, 4);
  EXPECT_EQ(m.diameter_pairs, 3);
  EXPECT_NEAR(m.diameter_mae_um, 0.2, 1e-9);
  EXPECT_NEAR(m.diameter_bias_um, 0.0, 1e-9);
  EXPECT_EQ(m.diameter_by_type.at("mushroom").pairs, 2);
  EXPECT_NEAR(m.diameter_by_type.at("mushroom").mae_um, 0.2, 1e-9);
  EXPECT_NEAR(m.diameter_by_type.at("mushroom").bias_um, -0.1, 1e-9);
  EXPECT_NEAR(m.diameter_by_type.at("thin").bias_um, 0.2, 1e-9);
}

TEST_F(EvaluateTest, DensityAndLengthRelativeErrors) {
  // 5 true spines on 12.5 µm (0.4 /um); 5 found on 10 µm (0.5 /um): density +25 %, length -20 %.
  std::vector<TruthRow> truth;
  std::vector<FoundRow> found;
  for (int i = 0; i < 5; ++i) truth.push_back(spine_at(2.0 * i, kZ)), found.push_back({{2.0 * i, 1.5, kZ}});
  const EvalMetrics m = evaluate_stack(write_case("dens", truth, found, "12.5", 10.0), 0.8);
  EXPECT_NEAR(m.true_density_per_um, 0.4, 1e-12);
  EXPECT_NEAR(m.density_per_um, 0.5, 1e-12);
  EXPECT_NEAR(m.density_rel_error, 0.25, 1e-12);
  EXPECT_NEAR(m.length_rel_error, -0.2, 1e-12);
  // Unknown true length: no density or length error, the rest still scored.
  const EvalMetrics u = evaluate_stack(write_case("unknown_len", truth, found, "", 10.0), 0.8);
  EXPECT_TRUE(std::isnan(u.density_rel_error));
  EXPECT_TRUE(std::isnan(u.length_rel_error));
  EXPECT_EQ(u.matched, 5);
}

TEST_F(EvaluateTest, TypeAccuracyOverKnownTruthTypes) {
  const auto pair = write_case("acc",
                               {spine_at(1, 0, "mushroom"), spine_at(3, 0, "thin"), spine_at(5, 0, "stubby"),
                                spine_at(7, 0, "unknown")},
                               {{{1, 1.5, 0}, 0.5, "mushroom"}, {{3, 1.5, 0}, 0.5, "stubby"},
                                {{5, 1.5, 0}, 0.5, "stubby"}, {{7, 1.5, 0}, 0.5, "thin"}});
  const EvalMetrics m = evaluate_stack(pair, 0.8);
  EXPECT_EQ(m.typed_pairs, 3);
  EXPECT_EQ(m.type_correct, 2);
  EXPECT_NEAR(m.type_accuracy, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(m.confusion.at("thin").at("stubby"), 1);
}

TEST_F(EvaluateTest, PooledIsMicroAveragedWithPerStackDensityErrors) {
  // Stack a: 4 true, 2 found (both right), length exact -> density -50 %.
  // Stack b: 1 true, 2 found (1 right), length exact -> density +100 %.
  std::vector<TruthRow> ta;
  for (int i = 0; i < 4; ++i) ta.push_back(spine_at(2.0 * i, 0));
  const auto a = write_case("a", ta, {{{0, 1.5, 0}}, {{2, 1.5, 0}}}, "10", 10.0);
  const auto b = write_case("b", {spine_at(1, kZ)}, {{{1, 1.5, kZ}}, {{6, 6, 6 * kZ}}}, "10", 10.0);
  const EvalReport r = evaluate({a, b}, 0.8);
  ASSERT_EQ(r.stacks.size(), 2u);
  EXPECT_EQ(r.pooled.true_spines, 5);
  EXPECT_EQ(r.pooled.detected_spines, 4);
  EXPECT_EQ(r.pooled.matched, 3);
  EXPECT_NEAR(r.pooled.precision, 0.75, 1e-12);
  EXPECT_NEAR(r.pooled.recall, 0.6, 1e-12);
  EXPECT_NEAR(r.pooled.density_rel_error, (4.0 / 20 - 5.0 / 20) / (5.0 / 20), 1e-12);
  EXPECT_NEAR(r.mean_abs_density_error, 0.75, 1e-12);
  EXPECT_NEAR(r.worst_density_error, 1.0, 1e-12);
  EXPECT_EQ(r.worst_density_stack, b.results);
  const std::string json = to_json(r).dump();
  EXPECT_NE(json.find("\"worst_density_rel_error\": 1"), std::string::npos) << json;
}

TEST_F(EvaluateTest, MissingFilesAreInputErrorsNamingThem) {
  const auto pair = write_case("ok", {spine_at(1, 0)}, {{{1, 1.5, 0}}});
  fs::remove(fs::path(pair.results) / "dendrites.csv");
  try {
    evaluate_stack({pair.results, (dir_ / "nosuch.tif").string()});
    FAIL() << "no error for missing files";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("dendrites.csv"), std::string::npos) << what;
    EXPECT_NE(what.find("nosuch.spines.csv"), std::string::npos) << what;
    EXPECT_NE(what.find("nosuch.dendrites.csv"), std::string::npos) << what;
    EXPECT_EQ(e.exit_code(), kExitNoInput);
  }
}

TEST_F(EvaluateTest, TruthPrefixFromStackOrCsv) {
  EXPECT_EQ(truth_prefix("a/cell.tif"), "a/cell");
  EXPECT_EQ(truth_prefix("a/cell.ome.tif"), "a/cell");
  EXPECT_EQ(truth_prefix("a/cell.spines.csv"), "a/cell");
  EXPECT_EQ(truth_prefix("a/cell"), "a/cell");
}

TEST_F(EvaluateTest, BatchFolderExpandsToOneStackPerOkRow) {
  const auto p1 = write_case("s1", {spine_at(1, 0)}, {{{1, 1.5, 0}}});
  const auto p2 = write_case("s2", {spine_at(1, 0), spine_at(4, 0)}, {{{1, 1.5, 0}}});
  const fs::path batch = dir_ / "batch";
  fs::create_directories(batch / "stacks");
  fs::rename(p1.results, batch / "stacks" / "0001_s1");
  fs::rename(p2.results, batch / "stacks" / "0002_s2");
  write_file_atomic((batch / "stacks.csv").string(),
                    "stack_id,path,group,status,error,output_dir\n"
                    "0001_s1,raw/s1.tif,ctrl,ok,,stacks/0001_s1\n"
                    "0002_s2,raw/s2.tif,ctrl,ok,,stacks/0002_s2\n"
                    "0003_s3,raw/s3.tif,ctrl,failed,corrupt,stacks/0003_s3\n");
  const EvalReport r = evaluate({{batch.string(), dir_.string()}}, 0.8);
  ASSERT_EQ(r.stacks.size(), 2u);
  EXPECT_EQ(r.pooled.true_spines, 3);
  EXPECT_EQ(r.pooled.matched, 2);
  EXPECT_THROW(evaluate({{batch.string(), (dir_ / "s1.tif").string()}}, 0.8), InputError);
}

// Brute force over all one-to-one assignments of a small problem: (most pairs, least cost).
std::pair<int, double> brute_force(int rows, int cols, const std::vector<double>& cost,
                                   const std::vector<char>& ok) {
  std::pair<int, double> best{0, 0.0};
  std::vector<char> used(static_cast<std::size_t>(cols), 0);
  std::function<void(int, int, double)> go = [&](int r, int n, double c) {
    if (r == rows) {
      if (n > best.first || (n == best.first && c < best.second - 1e-12)) best = {n, c};
      return;
    }
    go(r + 1, n, c);
    for (int j = 0; j < cols; ++j)
      if (!used[j] && ok[static_cast<std::size_t>(r) * cols + j]) {
        used[j] = 1;
        go(r + 1, n + 1, c + cost[static_cast<std::size_t>(r) * cols + j]);
        used[j] = 0;
      }
  };
  go(0, 0, 0.0);
  return best;
}

TEST(Evaluate, MinCostMatchingAgreesWithBruteForce) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 300; ++trial) {
    const int rows = 1 + trial % 6, cols = 1 + (trial / 6) % 6;
    std::vector<double> cost(static_cast<std::size_t>(rows) * cols);
    std::vector<char> ok(cost.size());
    for (std::size_t i = 0; i < cost.size(); ++i) cost[i] = u(rng), ok[i] = u(rng) < 0.45;
    const auto m = min_cost_matching(rows, cols, cost, ok);
    double total = 0.0;
    std::vector<char> row_used(static_cast<std::size_t>(rows), 0), col_used(static_cast<std::size_t>(cols), 0);
    for (const auto& [r, c] : m) {
      ASSERT_TRUE(ok[static_cast<std::size_t>(r) * cols + c]);
      ASSERT_FALSE(row_used[r] || col_used[c]) << "not one-to-one";
      row_used[r] = col_used[c] = 1;
      total += cost[static_cast<std::size_t>(r) * cols + c];
    }
    const auto best = brute_force(rows, cols, cost, ok);
    ASSERT_EQ(static_cast<int>(m.size()), best.first) << "trial " << trial;
    ASSERT_NEAR(total, best.second, 1e-9) << "trial " << trial;
  }
}

// The CLI's exit statuses (runs the built binary; skipped when only the library was built).
TEST_F(EvaluateTest, CliExitCodes) {
  const fs::path cli = fs::path(SPINESCOPE_BINARY_DIR) / "bin" / "spinescope";
  if (!fs::exists(cli)) GTEST_SKIP() << "spinescope CLI not built at " << cli;
  const auto pair = write_case("cli", {spine_at(1, 0)}, {{{1, 1.5, 0}}});
  auto run = [&](const std::string& args) {
    const int status = std::system((cli.string() + " evaluate " + args + " >/dev/null 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(run(pair.results + " " + pair.truth), 0);
  EXPECT_TRUE(fs::exists(fs::path(pair.results) / "evaluation.json"));
  EXPECT_EQ(run(pair.results + " " + (dir_ / "nosuch.tif").string()), kExitNoInput);
  EXPECT_EQ(run(pair.results), kExitUsage);
  EXPECT_EQ(run(pair.results + " " + pair.truth + " --tolerance-um -1"), kExitUsage);
}

}  // namespace
}  // namespace spinescope
