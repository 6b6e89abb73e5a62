#include <gtest/gtest.h>

#include "batch_test_util.hpp"
#include "spinescope/batch.hpp"
#include "spinescope/errors.hpp"

namespace spinescope {
namespace {

using namespace testing_batch;

class SampleSheetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir();
    for (const char* f : {"a.tif", "b.tif", "c d.ome.tif"}) put(dir_ / "raw" / f, "x");
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Reads @p text as a sheet; returns the problems.
  std::vector<std::string> problems_of(const std::string& text, SampleSheet* sheet = nullptr) {
    put(dir_ / "sheet.csv", text);
    std::vector<std::string> problems;
    SampleSheet s = read_sample_sheet((dir_ / "sheet.csv").string(), &problems);
    if (sheet) *sheet = s;
    return problems;
  }
  /// The single problem of @p text, which must mention @p where and @p what.
  void expect_one_problem(const std::string& text, const std::string& where, const std::string& what) {
    const auto p = problems_of(text);
    ASSERT_EQ(p.size(), 1u) << (p.empty() ? "no problem found" : p[0] + (p.size() > 1 ? " | " + p[1] : ""));
    EXPECT_TRUE(contains(p[0], "sheet.csv:" + where + ":")) << p[0];
    EXPECT_TRUE(contains(p[0], what)) << p[0];
  }

  fs::path dir_;
};

TEST_F(SampleSheetTest, ValidSheetKeepsExtraColumnsAndNamesStacks) {
  SampleSheet s;
  const auto p = problems_of("path,group,animal,neuron,sex,cage,channel\n"
                             "raw/a.tif,ctrl,m1,n1,f,7,\n"
                             "raw/c d.ome.tif,drug,m2,n1,m,8,2\n",
                             &s);
  EXPECT_TRUE(p.empty()) << p[0];
  ASSERT_EQ(s.rows.size(), 2u);
  EXPECT_EQ(s.extra_columns, (std::vector<std::string>{"sex", "cage", "channel"}));
  EXPECT_EQ(s.rows[0].stack_id, "0001_a");
  EXPECT_EQ(s.rows[1].stack_id, "0002_c_d");
  EXPECT_EQ(s.rows[1].channel, "2");
  EXPECT_EQ(s.rows[1].extras[1], "8");
  EXPECT_EQ(fs::path(s.rows[0].resolved_path), (dir_ / "raw" / "a.tif").lexically_normal());
  EXPECT_EQ(s.rows[1].line, 3);
}

TEST_F(SampleSheetTest, MisspeltColumnIsRefusedNamingTheIntendedOne) {
  const auto p = problems_of("path,group,aminal,neuron\nraw/a.tif,ctrl,m1,n1\n");
  ASSERT_GE(p.size(), 1u);
  EXPECT_TRUE(contains(p[0], "sheet.csv:header:")) << p[0];
  EXPECT_TRUE(contains(p[0], "'aminal'") && contains(p[0], "'animal'")) << p[0];
}

TEST_F(SampleSheetTest, CaseAndSpaceVariantsAreRefused) {
  expect_one_problem("path,Group ,animal,neuron,group\nraw/a.tif,x,m1,n1,ctrl\n", "header", "'Group '");
  expect_one_problem("path,group,animal,neuron,AGE\nraw/a.tif,ctrl,m1,n1,3\n", "header", "'age'");
  expect_one_problem("path,group,animal,neuron,voxel_size\nraw/a.tif,ctrl,m1,n1,x\n", "header", "'voxel_size_um'");
}

TEST_F(SampleSheetTest, MissingRequiredAndReservedColumns) {
  expect_one_problem("path,group,neuron\nraw/a.tif,ctrl,n1\n", "header", "missing required column 'animal'");
  expect_one_problem("path,group,animal,neuron,status\nraw/a.tif,ctrl,m1,n1,x\n", "header", "reserved");
  expect_one_problem("path,group,animal,neuron,sex,sex\nraw/a.tif,ctrl,m1,n1,f,f\n", "header", "twice");
}

TEST_F(SampleSheetTest, RowProblemsNameTheirLine) {
  expect_one_problem("path,group,animal,neuron\nraw/a.tif,ctrl,m1,n1\nraw/b.tif,ctrl,,n2\n", "3", "empty 'animal'");
  expect_one_problem("path,group,animal,neuron\nraw/a.tif,ctrl,m1,n1\n\nraw/typo.tif,ctrl,m1,n2\n", "4",
                     "no such file");
  expect_one_problem("path,group,animal,neuron,channel\nraw/a.tif,ctrl,m1,n1,0\n", "2", "channel '0'");
  expect_one_problem("path,group,animal,neuron,frame\nraw/a.tif,ctrl,m1,n1,two\n", "2", "frame 'two'");
  expect_one_problem("path,group,animal,neuron,voxel_size_um\nraw/a.tif,ctrl,m1,n1,\"0.1,0.1\"\n", "2",
                     "voxel_size_um");
}

TEST_F(SampleSheetTest, DuplicateRowsAreRefusedUnlessChannelOrFrameDiffers) {
  expect_one_problem("path,group,animal,neuron\nraw/a.tif,ctrl,m1,n1\nraw/../raw/a.tif,ctrl,m1,n2\n", "3",
                     "duplicate of line 2");
  const auto ok = problems_of("path,group,animal,neuron,channel\nraw/a.tif,ctrl,m1,n1,1\nraw/a.tif,ctrl,m1,n1,2\n");
  EXPECT_TRUE(ok.empty()) << ok[0];
}

TEST_F(SampleSheetTest, EmptySheetAndUnreadableSheet) {
  expect_one_problem("path,group,animal,neuron\n", "header", "no stacks");
  std::vector<std::string> problems;
  EXPECT_THROW(read_sample_sheet((dir_ / "nosuch.csv").string(), &problems), InputError);
}

}  // namespace
}  // namespace spinescope
