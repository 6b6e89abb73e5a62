#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "batch_test_util.hpp"
#include "spinescope/batch.hpp"
#include "spinescope/errors.hpp"
#include "spinescope/registry.hpp"

namespace spinescope {
namespace {

using namespace testing_batch;

std::atomic<int> g_runs{0};
std::atomic<int> g_in_flight{0};
std::atomic<int> g_max_in_flight{0};

/// A one-stage "pipeline" over tiny text stacks: "spines N\nlength L\n" gives N spines on L µm of dendrite,
/// "forks K" a branch_points column (absent otherwise, as from an older version); "fail REASON" throws an
/// InputError, "crash" a non-spinescope exception. Writes spines.csv and dendrites.csv like the report stage.
class TextStackStage : public Stage {
 public:
  const StageSpec& spec() const override {
    static const StageSpec s = [] {
      StageSpec spec;
      spec.name = "text";
      spec.summary = "test stage: a text stack to spines.csv and dendrites.csv";
      spec.params = {real_param("offset_um", 0.0, 0.0, 100.0, "um", "added to every x"),
                     integer_param("sleep_ms", 0, 0, 1000, "pause per stack (to overlap stacks)")};
      return spec;
    }();
    return s;
  }
  void run(Context& ctx) const override {
    ++g_runs;
    const int now = ++g_in_flight;
    for (int seen = g_max_in_flight.load(); now > seen && !g_max_in_flight.compare_exchange_weak(seen, now);) {
    }
    struct Leave {
      ~Leave() { --g_in_flight; }
    } leave;
    std::this_thread::sleep_for(std::chrono::milliseconds(params().integer("sleep_ms")));
    std::istringstream in(read_file(ctx.info().path));
    std::string word;
    int spines = 0, forks = -1;
    double length_um = 0.0;
    while (in >> word) {
      if (word == "spines") in >> spines;
      else if (word == "forks") in >> forks;
      else if (word == "length") in >> length_um;
      else if (word == "fail") throw InputError(ctx.info().path, "not a TIFF file (test)");
      else if (word == "crash") throw std::runtime_error("vector::at out of range (test)");
    }
    ctx.report_progress(0.5);
    const fs::path out(ctx.info().output_dir);
    std::string csv = "spine_id,dendrite_id,x_um,y_um,z_um,head_diameter_um,type\n";
    for (int i = 0; i < spines; ++i)
      csv += std::to_string(i) + ",0," + format_number(0.5 * i + params().real("offset_um")) + ",1,0.35,0.6,thin\n";
    put(out / "spines.csv", csv);
    const bool has_forks = forks >= 0;
    put(out / "dendrites.csv", std::string("dendrite_id,length_um,spine_count,density_per_um") +
                                   (has_forks ? ",branch_points" : "") + "\n0," + format_number(length_um) + "," +
                                   std::to_string(spines) + "," + format_number(spines / length_um) +
                                   (has_forks ? "," + std::to_string(forks) : "") + "\n");
    put(out / "summary.json", "{}\n");
  }
};

Pipeline text_pipeline(const ParamSet& params) {
  auto stage = std::make_unique<TextStackStage>();
  stage->configure(params);
  Pipeline p;
  p.append(std::move(stage));
  return p;
}

/// 100 × 100 × 10 voxels (2 MB at 20 bytes per voxel) unless the file says "badheader".
StackHeader text_header(const std::string& path, const LoadOptions&) {
  if (contains(read_file(path), "badheader")) throw InputError(path, "unsupported compression (test)");
  StackHeader h;
  h.nx = 100, h.ny = 100, h.nz = 10;
  h.spacing = {0.1, 0.1, 0.35};
  return h;
}

class BatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir();
    g_runs = 0;
    g_max_in_flight = 0;
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Writes stacks and a sheet: one row per content, extra columns sex and note.
  void write_sheet(const std::vector<std::string>& contents) {
    std::string sheet = "path,group,animal,neuron,sex,note\n";
    for (std::size_t i = 0; i < contents.size(); ++i) {
      const std::string name = "cell" + std::to_string(i + 1) + ".tif";
      put(dir_ / "raw" / name, contents[i]);
      sheet += "raw/" + name + "," + (i % 2 ? "drug" : "ctrl") + ",m" + std::to_string(i / 2 + 1) + ",n" +
               std::to_string(i + 1) + ",f,\"a, b\"\n";
    }
    put(dir_ / "sheet.csv", sheet);
  }
  BatchOptions options(const std::string& out = "out") const {
    BatchOptions o;
    o.sheet = (dir_ / "sheet.csv").string();
    o.out_dir = (dir_ / out).string();
    o.make_pipeline = text_pipeline;
    o.read_header = text_header;
    o.jobs = 2;
    return o;
  }
  std::string merged(const std::string& file, const std::string& out = "out") const {
    return read_file(dir_ / out / file);
  }

  fs::path dir_;
};

TEST_F(BatchTest, FailingStackIsIsolatedAndOutputsCarrySheetColumns) {
  write_sheet({"spines 3 length 10 forks 2", "fail", "spines 2 length 8", "crash"});
  const BatchResult r = run_batch(options());
  ASSERT_EQ(r.stacks.size(), 4u);
  EXPECT_EQ(r.ok, 2);
  EXPECT_EQ(r.failed, 2);
  EXPECT_EQ(r.spines, 5);
  EXPECT_EQ(r.stacks[1].status, "failed");
  EXPECT_TRUE(contains(r.stacks[1].error, "not a TIFF file")) << r.stacks[1].error;
  EXPECT_TRUE(contains(r.stacks[3].error, "out of range")) << r.stacks[3].error;
  EXPECT_TRUE(r.merged);

  const std::string stacks = merged("stacks.csv");
  EXPECT_TRUE(contains(stacks, "stack_id,path,group,animal,neuron,sex,note,status,error,dendrite_length_um,"
                               "spine_count,density_per_um,branch_points,output_dir,overlay\n"))
      << stacks;
  EXPECT_TRUE(contains(stacks, "0001_cell1,raw/cell1.tif,ctrl,m1,n1,f,\"a, b\",ok,,10,3,0.3,2,stacks/0001_cell1,\n"))
      << stacks;
  // A folder whose dendrites.csv has no branch_points column leaves the cell empty (not known), not 0.
  EXPECT_TRUE(contains(stacks, ",ok,,8,2,0.25,,stacks/0003_cell3,\n")) << stacks;
  EXPECT_TRUE(contains(stacks, "0002_cell2,raw/cell2.tif,drug,m1,n2,f,\"a, b\",failed,")) << stacks;

  const CsvTable spines = read_csv((dir_ / "out" / "spines.csv").string());
  ASSERT_EQ(spines.rows.size(), 5u);
  EXPECT_EQ(spines.header[0], "stack_id");
  EXPECT_EQ(spines.column("note"), 6);
  EXPECT_EQ(spines.column("spine_id"), 7);
  EXPECT_EQ(spines.rows[3][0], "0003_cell3");
  EXPECT_EQ(spines.rows[3][spines.column("group")], "ctrl");
  EXPECT_EQ(spines.rows[3][spines.column("x_um")], "0");
  const CsvTable dendrites = read_csv((dir_ / "out" / "dendrites.csv").string());
  ASSERT_EQ(dendrites.rows.size(), 2u);
  EXPECT_EQ(dendrites.rows[1][dendrites.column("length_um")], "8");

  // Each stack has its folder with a completion record; the failure is recorded too.
  EXPECT_TRUE(contains(read_file(dir_ / "out/stacks/0001_cell1/done.json"), "\"status\": \"ok\""));
  EXPECT_TRUE(contains(read_file(dir_ / "out/stacks/0002_cell2/done.json"), "\"status\": \"failed\""));
  EXPECT_FALSE(fs::exists(dir_ / "out/stacks/0002_cell2/spines.csv"));
  const std::string batch = merged("batch.json");
  EXPECT_TRUE(contains(batch, "\"failed\": 2")) << batch;
  EXPECT_TRUE(contains(batch, "\"stack_id\": \"0004_cell4\"")) << batch;
}

TEST_F(BatchTest, ResumeSkipsDoneStacksAndRedoesOneAKilledRunLeftBehind) {
  write_sheet({"spines 3 length 10", "spines 1 length 4", "spines 2 length 8", "spines 5 length 12"});
  run_batch(options());
  EXPECT_EQ(g_runs, 4);
  const std::string spines = merged("spines.csv"), dendrites = merged("dendrites.csv"), stacks = merged("stacks.csv");

  // Simulate kill -9 during stack 3: its finished folder is not there, a half-written temporary one is.
  fs::remove_all(dir_ / "out/stacks/0003_cell3");
  put(dir_ / "out/stacks/.tmp-0003_cell3-1a2b3c4d/spines.csv", "spine_id,dend");
  fs::remove(dir_ / "out/spines.csv");
  g_runs = 0;
  BatchOptions o = options();
  o.resume = true;
  const BatchResult r = run_batch(o);
  EXPECT_EQ(g_runs, 1);
  EXPECT_EQ(r.reused, 3);
  EXPECT_FALSE(r.stacks[2].reused);
  EXPECT_FALSE(fs::exists(dir_ / "out/stacks/.tmp-0003_cell3-1a2b3c4d"));
  EXPECT_EQ(merged("spines.csv"), spines);
  EXPECT_EQ(merged("dendrites.csv"), dendrites);
  EXPECT_EQ(merged("stacks.csv"), stacks);

  // A record of another run (different key) is not trusted.
  put(dir_ / "out/stacks/0002_cell2/done.json", "{\n  \"status\": \"ok\",\n  \"key\": \"0000\"\n}\n");
  g_runs = 0;
  run_batch(o);
  EXPECT_EQ(g_runs, 1);
}

TEST_F(BatchTest, InterruptKeepsFinishedStacksAndMergesNothingUntilResumed) {
  write_sheet({"spines 3 length 10", "spines 1 length 4", "spines 2 length 8"});
  run_batch(options());
  const std::string record = read_file(dir_ / "out/stacks/0002_cell2/done.json");

  // Ctrl-C before anything starts (the flag as the CLI's signal handler raises it): no stack runs, every finished
  // folder from the earlier run is left as it was (not replaced by a failure record), nothing is merged.
  fs::remove(dir_ / "out/stacks.csv");
  std::atomic<bool> cancel{true};
  g_runs = 0;
  BatchOptions o = options();
  o.cancel = &cancel;
  const BatchResult r = run_batch(o);
  EXPECT_EQ(g_runs, 0);
  EXPECT_EQ(r.interrupted, 3);
  EXPECT_EQ(r.failed, 0);
  EXPECT_FALSE(r.merged);
  EXPECT_EQ(r.stacks[1].status, "interrupted");
  EXPECT_TRUE(contains(r.stacks[1].error, "interrupted")) << r.stacks[1].error;
  EXPECT_EQ(read_file(dir_ / "out/stacks/0002_cell2/done.json"), record);
  EXPECT_FALSE(fs::exists(dir_ / "out/stacks.csv"));

  // Interrupted inside a stack (its pipeline sees the flag at its first progress step): that stack's temporary
  // folder goes, its earlier result stays.
  put(dir_ / "raw/cell2.tif", "spines 4 length 4");
  cancel = false;
  o.jobs = 1;
  o.params.set("text.sleep_ms", "50");
  std::thread raiser([&cancel] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    cancel = true;
  });
  const BatchResult mid = run_batch(o);
  raiser.join();
  EXPECT_GE(mid.interrupted, 2);
  EXPECT_EQ(read_file(dir_ / "out/stacks/0002_cell2/done.json"), record);
  for (fs::directory_iterator it(dir_ / "out/stacks"), end; it != end; ++it)
    EXPECT_NE(it->path().filename().string().rfind(".tmp-", 0), 0u) << it->path();

  // --resume after the interruption: the parameters changed, so every stack runs, and the tables are merged.
  cancel = false;
  o.resume = true;
  g_runs = 0;
  const BatchResult resumed = run_batch(o);
  EXPECT_EQ(g_runs, 3);
  EXPECT_TRUE(resumed.merged);
  EXPECT_EQ(resumed.stacks[1].spine_count, 4);
  EXPECT_TRUE(contains(merged("stacks.csv"), "0002_cell2")) << merged("stacks.csv");
}

TEST_F(BatchTest, ResumeRedoesStacksWhoseInputOrParametersChanged) {
  write_sheet({"spines 3 length 10", "spines 1 length 4", "fail"});
  BatchOptions o = options();
  o.resume = true;
  run_batch(o);
  EXPECT_EQ(g_runs, 3);
  g_runs = 0;
  put(dir_ / "raw/cell2.tif", "spines 2 length 4");  // new input: redone; the failed stack is retried
  const BatchResult r = run_batch(o);
  EXPECT_EQ(g_runs, 2);
  EXPECT_EQ(r.stacks[1].spine_count, 2);
  g_runs = 0;
  o.params.set("text.offset_um", "1.5");  // new parameters: everything redone
  run_batch(o);
  EXPECT_EQ(g_runs, 3);
  EXPECT_TRUE(contains(merged("spines.csv"), ",1.5,1,0.35,")) << merged("spines.csv");
  g_runs = 0;
  o.resume = false;  // without --resume everything runs again
  run_batch(o);
  EXPECT_EQ(g_runs, 3);
}

TEST_F(BatchTest, OneRowAloneThenResumeMerges) {
  write_sheet({"spines 3 length 10", "spines 1 length 4", "spines 2 length 8"});
  BatchOptions o = options();
  o.only_row = 2;
  const BatchResult one = run_batch(o);
  ASSERT_EQ(one.stacks.size(), 1u);
  EXPECT_EQ(one.stacks[0].stack_id, "0002_cell2");
  EXPECT_FALSE(one.merged);
  EXPECT_FALSE(fs::exists(dir_ / "out/stacks.csv"));
  EXPECT_TRUE(fs::exists(dir_ / "out/stacks/0002_cell2/done.json"));
  o.only_row = 0;
  o.resume = true;
  g_runs = 0;
  const BatchResult all = run_batch(o);
  EXPECT_EQ(g_runs, 2);
  EXPECT_EQ(all.reused, 1);
  // Same tables as one uninterrupted run elsewhere.
  run_batch(options("out2"));
  EXPECT_EQ(merged("spines.csv"), merged("spines.csv", "out2"));
  EXPECT_EQ(merged("stacks.csv"), merged("stacks.csv", "out2"));
}

TEST_F(BatchTest, BadHeaderOrOversizedStackFailsWithoutRunning) {
  write_sheet({"spines 3 length 10", "badheader", "spines 1 length 4"});
  BatchOptions o = options();
  o.memory_gb = 0.003;  // one 2 MB stack at a time
  o.jobs = 4;
  const BatchResult r = run_batch(o);
  EXPECT_EQ(r.jobs, 1);
  EXPECT_EQ(g_runs, 2);
  EXPECT_EQ(r.stacks[1].status, "failed");
  EXPECT_TRUE(contains(r.stacks[1].error, "unsupported compression")) << r.stacks[1].error;
  EXPECT_LE(g_max_in_flight, 1);

  o.memory_gb = 0.001;  // below one stack's estimate: every stack fails with the budget named
  g_runs = 0;
  const BatchResult small = run_batch(o);
  EXPECT_EQ(g_runs, 0);
  EXPECT_EQ(small.failed, 3);
  EXPECT_TRUE(contains(small.stacks[0].error, "--memory-gb")) << small.stacks[0].error;
}

TEST_F(BatchTest, StacksInFlightNeverExceedJobsAndResultsDoNotDependOnIt) {
  std::vector<std::string> contents;
  for (int i = 0; i < 6; ++i) contents.push_back("spines " + std::to_string(i + 1) + " length 10");
  write_sheet(contents);
  BatchOptions o = options("two");
  o.params.set("text.sleep_ms", "30");
  run_batch(o);
  EXPECT_LE(g_max_in_flight, 2);
  o.jobs = 1;
  o.out_dir = (dir_ / "one").string();
  g_max_in_flight = 0;
  run_batch(o);
  EXPECT_EQ(g_max_in_flight, 1);
  EXPECT_EQ(merged("spines.csv", "one"), merged("spines.csv", "two"));
  EXPECT_EQ(merged("dendrites.csv", "one"), merged("dendrites.csv", "two"));
}

TEST_F(BatchTest, SheetProblemsStopTheBatchBeforeAnyWork) {
  write_sheet({"spines 3 length 10"});
  put(dir_ / "sheet.csv", read_file(dir_ / "sheet.csv") + "raw/missing.tif,ctrl,m9,n9,f,\n");
  try {
    run_batch(options());
    FAIL() << "no error for a sheet row naming a missing file";
  } catch (const InputError& e) {
    EXPECT_TRUE(contains(e.what(), "sheet.csv:3:")) << e.what();
    EXPECT_EQ(e.exit_code(), kExitDataError);
  }
  EXPECT_EQ(g_runs, 0);
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

TEST_F(BatchTest, DryRunReadsEveryHeaderAndNamesTheRow) {
  write_sheet({"spines 3 length 10", "badheader", "spines 1 length 4"});
  const auto problems = check_batch(options(), true);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_TRUE(contains(problems[0], "sheet.csv:3:") && contains(problems[0], "unsupported compression"))
      << problems[0];
  EXPECT_TRUE(check_batch(options(), false).empty());
  EXPECT_EQ(g_runs, 0);
}

TEST_F(BatchTest, ParameterTypoIsAParameterError) {
  write_sheet({"spines 3 length 10"});
  BatchOptions o = options();
  o.params.set("text.ofset_um", "1");
  EXPECT_THROW(run_batch(o), ParameterError);
}

}  // namespace
}  // namespace spinescope
