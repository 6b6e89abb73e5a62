// make-sample-stacks as a program: refuses bad arguments (exit 64) and reproduces the checked-in sample stacks.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "spinescope/io.hpp"

namespace {

namespace fs = boost::filesystem;

const std::string kTool = std::string(SPINESCOPE_BINARY_DIR) + "/bin/make-sample-stacks";

/// Runs the tool with @p args; returns its exit status and puts stdout + stderr in @p output.
int run_tool(const std::string& args, std::string* output) {
  const fs::path log = fs::temp_directory_path() / fs::unique_path("spinescope-cli-%%%%%%.log");
  const int raw = std::system((kTool + " " + args + " > " + log.string() + " 2>&1").c_str());
  std::ifstream in(log.string());
  std::stringstream s;
  s << in.rdbuf();
  *output = s.str();
  fs::remove(log);
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

TEST(MakeSampleStacksCli, RefusesBadArgumentsWithOneLineAndExit64) {
  for (const char* args :
       {"", "--out /tmp/x --size 10,a,3", "--out /tmp/x --bogus", "--out /tmp/x --voxel-size 0.1,0.1",
        "--out /tmp/x --count 0", "--out /tmp/x --size 256,256,4", "--out /tmp/x stray",
        "--out /tmp/x --effect 1.2", "--study /tmp/x --out /tmp/y", "--study /tmp/x --density 0.9",
        "--study /tmp/x --animals 2.5", "--study /tmp/x --groups control,control",
        "--out /tmp/x --touch-only --interpenetrate"}) {
    std::string out;
    EXPECT_EQ(run_tool(args, &out), 64) << args;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << args << ": " << out;
    EXPECT_EQ(out.rfind("make-sample-stacks: ", 0), 0u) << out;
  }
}

TEST(MakeSampleStacksCli, ReproducesTheCheckedInSampleStack) {
  const fs::path dir = fs::temp_directory_path() / fs::unique_path("spinescope-cli-%%%%%%");
  std::string out;
  // The command in sample_stacks/README.md, for seed 1 only.
  ASSERT_EQ(run_tool("--out " + dir.string() + " --count 1 --seed 1 --size 256,256,32 --voxel-size 0.1,0.1,0.35", &out),
            0)
      << out;
  EXPECT_NE(out.find("sample_seed1: 256x256x32, "), std::string::npos) << out;
  const fs::path checked_in = fs::path(SPINESCOPE_SOURCE_DIR) / "sample_stacks";
  for (const char* ext : {".tif", ".spines.csv", ".dendrites.csv", ".centerline.csv", ".puncta.csv"}) {
    const std::string name = std::string("sample_seed1") + ext;
    ASSERT_TRUE(fs::exists(dir / name)) << name;
    EXPECT_EQ(spinescope::sha256_file((dir / name).string()), spinescope::sha256_file((checked_in / name).string()))
        << name << " differs from sample_stacks/: the generator changed; regenerate them (sample_stacks/README.md)";
  }
  fs::remove_all(dir);
}

}  // namespace
