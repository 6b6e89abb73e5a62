// spinescope stats on batch folders written here: aggregation (no pseudo-replication), stats.csv/json, errors,
// too few animals, the control rule and report.html.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "spinescope/report_html.hpp"
#include "spinescope/stats.hpp"
#include "test_support.hpp"

namespace spinescope::stats {
namespace {

namespace fs = boost::filesystem;

fs::path temp_dir() { return test::make_temp_dir("stats"); }
using test::read_file;

struct Animal {
  std::string group, name;
  double density_per_um;  // true density of its neurons
};

// A batch folder: each animal has 2 neurons, each neuron 2 stacks of different dendrite length, each stack 2
// dendrites; one extra failed stack. Returns the hand-computed animal densities (mean over neurons of
// spines / length, both summed over the neuron's stacks) by group.
std::map<std::string, std::vector<double>> write_folder(const fs::path& dir, const std::vector<Animal>& animals,
                                                         bool with_failed = true) {
  std::string stacks = "stack_id,path,group,animal,neuron,slide,status,error,dendrite_length_um,spine_count,"
                       "density_per_um,output_dir,overlay\n";
  std::string dendrites = "path,group,animal,neuron,slide,stack_id,dendrite_id,length_um,spine_count,density_per_um,"
                          "mean_radius_um,stubby_count,mushroom_count,thin_count,filopodium_count\n";
  std::string spines = "path,group,animal,neuron,slide,stack_id,spine_id,dendrite_id,x_um,y_um,z_um,head_diameter_um,"
                       "neck_length_um,length_um,volume_um3,type\n";
  const char* types[] = {"stubby", "mushroom", "thin", "filopodium"};
  std::map<std::string, std::vector<double>> expected;
  int id = 0;
  for (std::size_t a = 0; a < animals.size(); ++a) {
    double animal_sum = 0.0;
    for (int n = 0; n < 2; ++n) {
      double spines_sum = 0.0, length_sum = 0.0;
      for (int s = 0; s < 2; ++s, ++id) {
        const double length = 35.0 + 9.0 * ((id * 7) % 5) + 3.5 * n;
        const int count = static_cast<int>(std::lround(length * animals[a].density_per_um * (1.0 + 0.08 * (s - n))));
        spines_sum += count;
        length_sum += length;
        char sid[32];
        std::snprintf(sid, sizeof sid, "%04d_cell", id + 1);
        const std::string path = std::string("raw/") + sid + ".tif", neuron = "n" + std::to_string(n + 1);
        const std::string sheet = path + "," + animals[a].group + "," + animals[a].name + "," + neuron + ",s1";
        const std::string overlay = std::string("stacks/") + sid + "/overlay.png";
        fs::create_directories(dir / "stacks" / sid);
        cv::Mat img(120, 200, CV_8UC3, cv::Scalar(20, 40 + 10 * (id % 10), 90));
        cv::imwrite((dir / overlay).string(), img);
        stacks += std::string(sid) + "," + sheet.substr(0, sheet.size() - 3) + ",s1,ok,," + format_number(length, 10) +
                  "," + std::to_string(count) + "," + format_number(count / length, 10) + ",stacks/" + sid + "," +
                  overlay + "\n";
        const int first = count / 2, halves[2] = {first, count - first};
        int spine_id = 0;
        for (int d = 0; d < 2; ++d) {
          int typed[4] = {0, 0, 0, 0};
          for (int k = 0; k < halves[d]; ++k) {
            const int t = (k * 3 + id) % 4;
            ++typed[t];
            const double head = 0.35 + 0.1 * animals[a].density_per_um + 0.02 * ((k * 13 + id * 5) % 17);
            spines += sheet + "," + sid + "," + std::to_string(++spine_id) + "," + std::to_string(d + 1) +
                      ",1,2,3," + format_number(head, 10) + ",0.5,1.2,0.1," + types[t] + "\n";
          }
          dendrites += sheet + "," + sid + "," + std::to_string(d + 1) + "," + format_number(length / 2, 10) + "," +
                       std::to_string(halves[d]) + "," + format_number(halves[d] / (length / 2), 10) + ",0.5," +
                       std::to_string(typed[0]) + "," + std::to_string(typed[1]) + "," + std::to_string(typed[2]) +
                       "," + std::to_string(typed[3]) + "\n";
        }
      }
      animal_sum += spines_sum / length_sum;
    }
    expected[animals[a].group].push_back(animal_sum / 2.0);
  }
  if (with_failed)
    stacks += "9999_broken,raw/broken.tif," + animals[0].group + "," + animals[0].name +
              ",n9,s1,failed,\"no voxel size in raw/broken.tif, give --voxel-size\",,,,stacks/9999_broken,\n";
  write_file_atomic((dir / "stacks.csv").string(), stacks);
  write_file_atomic((dir / "dendrites.csv").string(), dendrites);
  write_file_atomic((dir / "spines.csv").string(), spines);
  return expected;
}

const std::vector<Animal> kTwoGroups = {{"drug", "d1", 1.45}, {"drug", "d2", 1.30}, {"drug", "d3", 1.62},
                                        {"vehicle", "v1", 1.02}, {"vehicle", "v2", 1.15}, {"vehicle", "v3", 0.94}};

const std::vector<std::string>* find(const CsvTable& t, const std::string& group, const std::string& measure,
                                     const std::string& test) {
  for (const auto& r : t.rows)
    if (r[t.column("group")] == group && r[t.column("measure")] == measure && r[t.column("test")] == test) return &r;
  return nullptr;
}

TEST(StatsFolder, AnimalLevelTestsFromNeuronSums) {
  const fs::path dir = temp_dir();
  const auto expected = write_folder(dir, kTwoGroups);
  StatsOptions options;
  options.bootstrap = 2000;
  const StatsResult r = run_stats(dir.string(), options);
  EXPECT_EQ(r.control, "vehicle") << "a group called vehicle is the control by default";

  const CsvTable t = read_csv((dir / "stats.csv").string());
  for (const char* c : {"comparison", "measure", "test", "family", "n_group", "n_control", "estimate", "ci_low",
                        "ci_high", "statistic", "df", "p_value", "p_adjusted_bh", "note"})
    EXPECT_GE(t.column(c), 0) << c;
  std::set<std::string> keys;
  for (const auto& row : t.rows)
    EXPECT_TRUE(keys.insert(row[t.column("comparison")] + "|" + row[t.column("measure")] + "|" + row[t.column("test")]).second)
        << "one row per comparison x measure x test";

  const auto* welch = find(t, "drug", "density_per_um", "welch_t");
  ASSERT_NE(welch, nullptr);
  const TestResult want = welch_t_test(expected.at("drug"), expected.at("vehicle"));
  EXPECT_NEAR(std::stod((*welch)[t.column("statistic")]), want.statistic, 1e-7 * std::fabs(want.statistic));
  EXPECT_NEAR(std::stod((*welch)[t.column("df")]), want.df, 1e-7 * want.df);
  EXPECT_NEAR(std::stod((*welch)[t.column("p_value")]), want.p_value, 1e-7 * want.p_value);
  EXPECT_EQ((*welch)[t.column("n_group")], "3");
  EXPECT_LT(want.p_value, 0.05) << "the simulated effect (~1.4x) is detectable with 3 vs 3 animals";

  const auto* mwu = find(t, "drug", "density_per_um", "mann_whitney_u");
  ASSERT_NE(mwu, nullptr);
  EXPECT_EQ((*mwu)[t.column("statistic")], "9") << "every drug animal above every vehicle animal";
  EXPECT_NEAR(std::stod((*mwu)[t.column("p_value")]), 0.1, 1e-9) << "exact: 2 / C(6,3)";

  const auto* ratio = find(t, "drug", "density_per_um", "hierarchical_bootstrap_ratio");
  ASSERT_NE(ratio, nullptr);
  const double true_ratio = mean(expected.at("drug")) / mean(expected.at("vehicle"));
  EXPECT_NEAR(std::stod((*ratio)[t.column("estimate")]), true_ratio, 1e-8);
  EXPECT_LT(std::stod((*ratio)[t.column("ci_low")]), true_ratio);
  EXPECT_GT(std::stod((*ratio)[t.column("ci_high")]), true_ratio);

  const auto* lmm = find(t, "drug", "density_per_um", "lmm_reml");
  ASSERT_NE(lmm, nullptr);
  EXPECT_EQ((*lmm)[t.column("n_group")], "6") << "neuron-level observations";
  EXPECT_NEAR(std::stod((*lmm)[t.column("estimate")]), mean(expected.at("drug")) - mean(expected.at("vehicle")), 1e-6)
      << "balanced design: the group coefficient is the difference of means";
  EXPECT_EQ((*lmm)[t.column("df")], "4") << "6 animals - 2 groups";
  ASSERT_NE(find(t, "drug", "density_per_um", "lmm_reml_neuron_nested"), nullptr) << "4 dendrites per neuron";

  const auto* ks = find(t, "drug", "head_diameter_um", "kolmogorov_smirnov");
  ASSERT_NE(ks, nullptr);
  EXPECT_EQ((*ks)[t.column("family")], "descriptive");
  EXPECT_NE((*ks)[t.column("method")].find("DESCRIPTIVE"), std::string::npos);
  for (const char* type : {"stubby", "mushroom", "thin", "filopodium"})
    EXPECT_NE(find(t, "drug", std::string("density_") + type + "_per_um", "welch_t"), nullptr) << type;

  // BH: the adjusted p of the Welch row follows from the inferential family's raw p-values.
  std::vector<double> family;
  double welch_raw = std::stod((*welch)[t.column("p_value")]);
  for (const auto& row : t.rows)
    if (row[t.column("family")] == "inferential" && !row[t.column("p_value")].empty())
      family.push_back(std::stod(row[t.column("p_value")]));
  std::vector<double> adjusted = benjamini_hochberg(family);
  const auto at = std::find(family.begin(), family.end(), welch_raw) - family.begin();
  EXPECT_NEAR(std::stod((*welch)[t.column("p_adjusted_bh")]), adjusted[static_cast<std::size_t>(at)], 1e-8);

  const std::string json = read_file(dir / "stats.json");
  for (const char* key : {"\"n_animals\": 3", "\"n_neurons\": 6", "\"n_failed_stacks\": 1", "\"control\": \"vehicle\"",
                          "\"mixed_model\"", "\"var_animal\"", "\"results\"", "\"seed\": 1", "\"bootstrap\": 2000"})
    EXPECT_NE(json.find(key), std::string::npos) << key;
  EXPECT_EQ(read_recorded_options(dir.string()).bootstrap, 2000);
  fs::remove_all(dir);
}

TEST(StatsFolder, SameSeedSameNumbers) {
  const fs::path dir = temp_dir();
  write_folder(dir, kTwoGroups);
  StatsOptions options;
  options.bootstrap = 500;
  options.seed = 11;
  run_stats(dir.string(), options);
  const std::string first = read_file(dir / "stats.csv");
  run_stats(dir.string(), options);
  EXPECT_EQ(read_file(dir / "stats.csv"), first);
  options.seed = 12;
  run_stats(dir.string(), options);
  EXPECT_NE(read_file(dir / "stats.csv"), first);
  fs::remove_all(dir);
}

TEST(StatsFolder, MissingStacksCsvIsInputErrorNamingIt) {
  const fs::path dir = temp_dir();
  try {
    run_stats(dir.string(), StatsOptions{});
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(fs::path(e.file()).filename().string(), "stacks.csv");
    EXPECT_EQ(e.exit_code(), kExitNoInput);
  }
  write_file_atomic((dir / "stacks.csv").string(), "stack_id,group,animal,neuron,status\n");
  try {
    read_batch_folder(dir.string());
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("dendrite_length_um"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

TEST(StatsFolder, GroupWithOneAnimalIsNotEnoughAnimals) {
  const fs::path dir = temp_dir();
  std::vector<Animal> animals = kTwoGroups;
  animals.push_back({"lonely", "l1", 1.2});
  write_folder(dir, animals, false);
  StatsOptions options;
  options.bootstrap = 200;
  const StatsResult r = run_stats(dir.string(), options);
  const CsvTable t = read_csv((dir / "stats.csv").string());
  int lonely = 0;
  for (const auto& row : t.rows) {
    if (row[t.column("group")] != "lonely") continue;
    ++lonely;
    EXPECT_NE(row[t.column("note")].find("not enough animals"), std::string::npos) << row[t.column("test")];
    if (row[t.column("family")] == "inferential") EXPECT_EQ(row[t.column("p_value")], "") << row[t.column("test")];
  }
  EXPECT_GT(lonely, 5);
  const auto* drug = find(t, "drug", "density_per_um", "welch_t");
  ASSERT_NE(drug, nullptr);
  EXPECT_FALSE((*drug)[t.column("p_value")].empty()) << "the other comparison is unaffected";
  EXPECT_NE(read_file(dir / "report.html").find("not enough animals"), std::string::npos);
  fs::remove_all(dir);
}

TEST(StatsFolder, ControlRule) {
  const fs::path dir = temp_dir();
  std::vector<Animal> animals = {{"wt", "a", 1.0}, {"wt", "b", 1.1}, {"ko", "c", 0.8}, {"ko", "d", 0.7},
                                 {"het", "e", 0.9}, {"het", "f", 0.95}};
  write_folder(dir, animals, false);
  const BatchData data = read_batch_folder(dir.string());
  StatsOptions options;
  options.bootstrap = 200;
  StatsResult r = compute_stats(data, options);
  EXPECT_EQ(r.control, "wt") << "no control/ctrl/vehicle group: the first group in sheet order";
  std::set<std::string> comparisons;
  for (const auto& row : r.rows) comparisons.insert(row.comparison());
  EXPECT_EQ(comparisons, (std::set<std::string>{"ko vs wt", "het vs wt"}));
  options.control = "het";
  EXPECT_EQ(compute_stats(data, options).control, "het");
  options.control = "WT";
  EXPECT_THROW(compute_stats(data, options), ParameterError);
  fs::remove_all(dir);
}

// Tags open and close in order (void elements and self-closing tags aside).
::testing::AssertionResult well_formed(const std::string& html) {
  static const std::set<std::string> kVoid = {"meta", "img", "br", "hr", "link", "input"};
  std::vector<std::string> stack;
  const std::regex tag("<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), tag); it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[2];
    if ((*it)[3] == "/" || kVoid.count(name)) continue;
    if ((*it)[1] == "/") {
      if (stack.empty() || stack.back() != name)
        return ::testing::AssertionFailure() << "</" << name << "> closes <" << (stack.empty() ? "" : stack.back()) << ">";
      stack.pop_back();
    } else {
      stack.push_back(name);
    }
  }
  if (!stack.empty()) return ::testing::AssertionFailure() << "<" << stack.back() << "> never closed";
  return ::testing::AssertionSuccess();
}

TEST(StatsFolder, ReportIsSelfContainedAndWellFormed) {
  const fs::path dir = temp_dir();
  write_folder(dir, kTwoGroups);
  StatsOptions options;
  options.bootstrap = 500;
  run_stats(dir.string(), options);
  const std::string html = read_file(dir / "report.html");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_TRUE(well_formed(html));
  int svgs = 0;
  for (std::size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 1)) ++svgs;
  EXPECT_EQ(svgs, 3) << "density, head-diameter ECDF, type fractions";
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  const std::regex src("src=\"([^\"]*)\"");
  int images = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), src); it != std::sregex_iterator(); ++it, ++images)
    EXPECT_EQ((*it)[1].str().rfind("data:image/png;base64,", 0), 0u) << "only embedded images";
  EXPECT_EQ(images, 24) << "one thumbnail per ok stack";
  EXPECT_NE(html.find("higher in <b>drug</b> than in <b>vehicle</b>"), std::string::npos);
  EXPECT_NE(html.find("Welch t("), std::string::npos);
  EXPECT_NE(html.find("no voxel size in raw/broken.tif"), std::string::npos) << "failed stack listed with its error";
  EXPECT_NE(html.find("DESCRIPTIVE"), std::string::npos);
  fs::remove_all(dir);
}

TEST(StatsFolder, ReportListsStacksWhoseTraceBranches) {
  const fs::path dir = temp_dir();
  write_folder(dir, kTwoGroups);
  // stacks.csv of this version: a branch_points column; stack 0003 branches twice, the others not at all.
  const CsvTable old_stacks = read_csv((dir / "stacks.csv").string());
  const int at = old_stacks.column("output_dir");
  ASSERT_GE(at, 0);
  std::string stacks;
  auto line = [&](std::vector<std::string> fields, const std::string& forks) {
    fields.insert(fields.begin() + at, forks);
    for (std::size_t f = 0; f < fields.size(); ++f) stacks += (f ? "," : "") + csv_field(fields[f]);
    stacks += "\n";
  };
  line(old_stacks.header, "branch_points");
  for (const auto& row : old_stacks.rows) line(row, row[0] == "0003_cell" ? "2" : "0");
  write_file_atomic((dir / "stacks.csv").string(), stacks);
  StatsOptions options;
  options.bootstrap = 200;
  run_stats(dir.string(), options);
  const std::string html = read_file(dir / "report.html");
  EXPECT_TRUE(well_formed(html));
  EXPECT_NE(html.find("1 stack has a trace that branches"), std::string::npos);
  EXPECT_NE(html.find("<li>0003_cell: 2 branch points</li>"), std::string::npos);
  EXPECT_EQ(html.find("0001_cell: 0 branch"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace spinescope::stats
