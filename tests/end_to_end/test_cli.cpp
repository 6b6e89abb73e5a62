// The spinescope binary as a user meets it: a good run prints its numbers, bad input gets one line and the
// right exit status, and nothing half-written is left behind.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <boost/filesystem.hpp>
#include <cstdio>
#include <fstream>

#include "spinescope/io.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope {
namespace {

namespace fs = boost::filesystem;

struct CliRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

CliRun run_cli(const std::string& args) {
  CliRun r;
  const std::string cmd = std::string(SPINESCOPE_CLI) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int raw = pclose(p);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fs::unique_path("spinescope-cli-%%%%%%");
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(Cli, AnalyzePrintsResultLineAndWritesContract) {
  gen::GeneratorConfig config;
  config.imaging.seed = 77;
  config.imaging.nx = 160, config.imaging.ny = 160, config.imaging.nz = 24;
  gen::write_generated(path("cell"), gen::generate_stack(config));
  const CliRun r = run_cli("analyze " + path("cell.tif") + " --out " + path("res") + " --quiet");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("dendrite length"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("spines, density"), std::string::npos) << r.output;
  for (const char* f : {"spines.csv", "dendrites.csv", "summary.json", "labels.tif", "trace.swc", "overlay.png"})
    EXPECT_TRUE(fs::exists(dir_ / "res" / f)) << f;
  for (auto it = fs::directory_iterator(dir_ / "res"); it != fs::directory_iterator(); ++it)
    EXPECT_EQ(it->path().filename().string().find(".tmp"), std::string::npos) << it->path();
}

TEST_F(Cli, MissingFileIsExit66OneLine) {
  const CliRun r = run_cli("analyze " + path("nope.tif") + " --out " + path("res") + " --quiet");
  EXPECT_EQ(r.status, 66) << r.output;
  EXPECT_NE(r.output.find("nope.tif"), std::string::npos) << r.output;
  EXPECT_LE(lines(r.output), 2) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "res" / "spines.csv"));
}

TEST_F(Cli, NotATiffIsExit65) {
  std::ofstream(path("text.tif")) << "this is not a TIFF\n";
  const CliRun r = run_cli("analyze " + path("text.tif") + " --quiet");
  EXPECT_EQ(r.status, 65) << r.output;
  EXPECT_NE(r.output.find("text.tif"), std::string::npos) << r.output;
}

TEST_F(Cli, TruncatedTiffIsExit65) {
  gen::GeneratorConfig config;
  config.imaging.nx = 64, config.imaging.ny = 64, config.imaging.nz = 16;
  gen::write_generated(path("cut"), gen::generate_stack(config));
  fs::resize_file(dir_ / "cut.tif", fs::file_size(dir_ / "cut.tif") / 2);
  const CliRun r = run_cli("analyze " + path("cut.tif") + " --out " + path("res") + " --quiet");
  EXPECT_EQ(r.status, 65) << r.output;
  EXPECT_NE(r.output.find("cut.tif"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir_ / "res" / "spines.csv"));
}

TEST_F(Cli, BadParametersAreExit64BeforeAnyWork) {
  CliRun r = run_cli("analyze x.tif --set spines.max_spine_lenght_um=2");
  EXPECT_EQ(r.status, 64) << r.output;
  EXPECT_NE(r.output.find("max_spine_lenght_um"), std::string::npos) << r.output;
  r = run_cli("analyze x.tif --set spines.max_spine_length_um=50");
  EXPECT_EQ(r.status, 64) << r.output;
  r = run_cli("analyze x.tif --voxel-size 0.1,0.1");
  EXPECT_EQ(r.status, 64) << r.output;
  r = run_cli("analyze");
  EXPECT_EQ(r.status, 64) << r.output;
  r = run_cli("frobnicate");
  EXPECT_EQ(r.status, 64) << r.output;
}

TEST_F(Cli, HelpExplainsUnits) {
  const CliRun r = run_cli("analyze --help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.output.find("--voxel-size"), std::string::npos);
  EXPECT_NE(r.output.find("um"), std::string::npos);
}

TEST_F(Cli, StagesListsEveryStageAndParameterWithUnits) {
  const CliRun r = run_cli("stages");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* s : {"load", "preprocess", "dendrites", "spines", "classify", "report", "max_spine_length_um"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s;
}

}  // namespace
}  // namespace spinescope
