#pragma once
/// @file batch.hpp
/// @brief Many stacks from a sample sheet: checked before any work, run concurrently under a memory budget
/// (TBB flow graph), each stack's outputs in its own folder with a completion record (resumable, kill-safe),
/// failures isolated and recorded, merged tables at the end.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "spinescope/params.hpp"
#include "spinescope/registry.hpp"
#include "spinescope/stack_reader.hpp"

namespace spinescope {

/// @brief One row of a sample sheet.
struct SheetRow {
  int row = 0;                 ///< 1-based data row: the N of `--only N` and of the stack id
  int line = 0;                ///< line in the sheet file (for messages)
  std::string path;            ///< as written in the sheet
  std::string resolved_path;   ///< relative paths resolved against the sheet's folder
  std::string group, animal, neuron;
  std::vector<std::string> extras;            ///< values of SampleSheet::extra_columns, in that order
  std::string channel, frame, voxel_size_um;  ///< optional per-row load overrides as text ("" = not given)
  std::string stack_id;        ///< "0001_<sanitised file stem>": the stack's folder under OUT/stacks/
};

/// @brief A parsed sample sheet (CSV with at least path,group,animal,neuron).
struct SampleSheet {
  std::string path;
  std::vector<std::string> extra_columns;  ///< every column besides path,group,animal,neuron, in sheet order
  std::vector<SheetRow> rows;
};

/// @brief Column names a sheet column may not be a near-miss of: the required path, group, animal, neuron, the
/// load overrides channel, frame, voxel_size_um and common metadata (dendrite, condition, sex, age, genotype,
/// treatment). A column that equals one of them only after trimming and lower-casing, or lies within edit
/// distance 2 of one of 5 or more letters, or is
/// the start of one (4 letters or more: 'chan', 'voxel_size'), is refused as a likely typo.
const std::vector<std::string>& sample_sheet_known_columns();

/// @brief Reads and checks a sample sheet: columns (required, near-misses, duplicates, names reserved for the
/// outputs), empty required fields, missing files, duplicate rows (same file, channel and frame), malformed
/// channel/frame/voxel_size_um. Each problem is appended to @p problems as "SHEET:LINE: what". Throws InputError
/// only when the sheet itself cannot be read.
SampleSheet read_sample_sheet(const std::string& path, std::vector<std::string>* problems);

/// @brief Builds a configured pipeline from one row's parameters (the batch's plus the row's load overrides
/// load.channel, load.frame, load.voxel_size_um).
using PipelineFactory = std::function<Pipeline(const ParamSet& params)>;
/// @brief Reads a stack's header (default: read_stack_header).
using HeaderReader = std::function<StackHeader(const std::string& path, const LoadOptions& options)>;

/// @brief The outcome of one stack.
struct StackResult {
  int row = 0;
  std::string stack_id;
  std::string path;              ///< as in the sheet
  std::string status;            ///< "ok", "failed", or "interrupted" (cancelled: its folder was left as it was)
  std::string error;             ///< one line, when failed
  bool reused = false;           ///< --resume found a matching completion record
  long spine_count = 0;
  double dendrite_length_um = 0.0;
  long branch_points = -1;       ///< where the trace branches (dendrites.csv); -1 when its folder does not say
  double estimated_gb = 0.0;     ///< memory estimate from the header (20 bytes per voxel)
};

/// @brief Progress of a batch, reported from worker threads (calls are serialised).
struct BatchProgress {
  int total = 0, done = 0, failed = 0;
  long spines = 0;
  double fraction = 0.0;                ///< 0..1 including the stacks in flight
  const StackResult* finished = nullptr;  ///< the stack that just finished, else nullptr (a progress tick)
};

/// @brief Everything a batch needs.
struct BatchOptions {
  std::string sheet;                  ///< the sample sheet (CSV)
  std::string out_dir;                ///< results folder: the only state shared between runs and cluster jobs
  std::vector<std::string> stages;    ///< stage chain by name; empty = default_chain()
  ParamSet params;                    ///< stage parameters for every stack
  PipelineFactory make_pipeline;      ///< overrides @p stages (custom workflows, tests)
  HeaderReader read_header;           ///< empty = read_stack_header
  int jobs = 0;                       ///< stacks in flight at most; 0 = as many as threads and memory allow
  double memory_gb = 0.0;             ///< memory budget in GB; 0 = 75 % of the physical memory
  bool resume = false;                ///< skip stacks whose completion record matches (input, parameters, version)
  int only_row = 0;                   ///< run this 1-based sheet row only (a cluster array job); 0 = all rows
  const std::atomic<bool>* cancel = nullptr;  ///< raised: stacks in flight stop, the rest are not started
  std::function<void(const BatchProgress&)> on_progress;  ///< called per progress tick and per finished stack
};

/// @brief What a batch did.
struct BatchResult {
  std::vector<StackResult> stacks;  ///< the rows processed, in sheet order
  int ok = 0, failed = 0, reused = 0;
  int interrupted = 0;              ///< stacks stopped or not started because the cancel flag was raised
  long spines = 0;
  int jobs = 1;                     ///< stacks in flight at most
  double memory_budget_gb = 0.0;
  bool merged = false;  ///< stacks.csv, spines.csv, dendrites.csv, batch.json written (not with only_row, not
                        ///< when interrupted: a rerun with resume merges)
};

/// @brief Checks a batch before any work: the sheet (see read_sample_sheet), every row's parameters and, with
/// @p read_headers, every stack's header (the --dry-run). Returns one "SHEET:LINE: what" line per problem.
/// Throws ParameterError for a batch-wide parameter error (a --set typo).
std::vector<std::string> check_batch(const BatchOptions& options, bool read_headers);

/// @brief Runs a batch. Throws InputError/ParameterError before any work when check_batch finds a problem.
///
/// Each stack runs in a temporary folder OUT/stacks/.tmp-<id>-* that is renamed to OUT/stacks/<id>/ when it is
/// complete, with done.json (status, error, input sha256, parameter hash, version, key). A failing stack is
/// recorded (status failed and its error) and the batch goes on. Unless only_row is set, writes OUT/stacks.csv,
/// OUT/spines.csv and OUT/dendrites.csv (sheet columns and stack_id in front of each stack's rows) and
/// OUT/batch.json, all atomically.
BatchResult run_batch(const BatchOptions& options);

/// @brief The completion key of a stack: sha256 of its input's sha256, the resolved parameters and the version.
std::string completion_key(const std::string& input_sha256, const Pipeline& pipeline);

}  // namespace spinescope
