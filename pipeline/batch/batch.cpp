// The batch runner: a TBB flow graph over the rows of a sample sheet (DESIGN.md "Across stacks", STYLE.md §5).
#include "spinescope/batch.hpp"

#include <unistd.h>

#include <tbb/flow_graph.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

#include <boost/filesystem.hpp>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "spinescope/threads.hpp"

namespace spinescope {

namespace fs = boost::filesystem;

namespace {

constexpr double kBytesPerVoxel = 20.0;  // raw float + preprocessed + masks + labels + filter scratch
constexpr double kGB = 1e9;
const char* const kRecord = "done.json";

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p.string(), std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The string value of "key" in a flat JSON text written by Json::dump ("" when absent).
std::string json_string_member(const std::string& text, const std::string& key) {
  const std::string needle = "\"" + key + "\": \"";
  const auto at = text.find(needle);
  if (at == std::string::npos) return "";
  std::string out;
  for (std::size_t i = at + needle.size(); i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') return out;
    if (c == '\\' && i + 1 < text.size()) {
      const char e = text[++i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
    } else {
      out += c;
    }
  }
  return "";
}

double physical_memory_gb() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) / kGB : 8.0;
}

ParamSet row_params(const ParamSet& base, const SheetRow& row) {
  ParamSet p = base;
  if (!row.channel.empty()) p.set("load.channel", row.channel);
  if (!row.frame.empty()) p.set("load.frame", row.frame);
  if (!row.voxel_size_um.empty()) p.set("load.voxel_size_um", row.voxel_size_um);
  return p;
}

LoadOptions load_options(const ParamSet& params) {
  LoadOptions o;
  const auto& v = params.values();
  if (auto it = v.find("load.voxel_size_um"); it != v.end() && !it->second.empty())
    o.voxel_size = parse_voxel_size(it->second, "load.voxel_size_um");
  if (auto it = v.find("load.channel"); it != v.end()) o.channel = std::atoi(it->second.c_str());
  if (auto it = v.find("load.frame"); it != v.end()) o.frame = std::atoi(it->second.c_str());
  return o;
}

PipelineFactory factory_of(const BatchOptions& options) {
  if (options.make_pipeline) return options.make_pipeline;
  const std::vector<std::string> names = options.stages.empty() ? default_chain() : options.stages;
  return [names](const ParamSet& params) { return Pipeline::from_names(names, params); };
}

std::string parameter_text(const Pipeline& pipeline) {
  std::string text = "chain=";
  for (const auto& s : pipeline.stages()) text += s->spec().name + ",";
  text += "\n";
  for (const auto& [stage, values] : pipeline.resolved_parameters())
    for (const auto& [key, value] : values) text += stage + "." + key + "=" + value + "\n";
  return text;
}

/// Per-stack numbers from its folder: spine rows and the summed dendrite length.
void summarise_folder(const fs::path& dir, StackResult* r) {
  const CsvTable spines = read_csv((dir / "spines.csv").string());
  const CsvTable dendrites = read_csv((dir / "dendrites.csv").string());
  r->spine_count = static_cast<long>(spines.rows.size());
  r->dendrite_length_um = 0.0;
  const int c = dendrites.column("length_um");
  if (c >= 0)
    for (const auto& row : dendrites.rows) r->dendrite_length_um += std::atof(row[static_cast<std::size_t>(c)].c_str());
  r->branch_points = -1;
  if (const int f = dendrites.column("branch_points"); f >= 0) {
    r->branch_points = 0;
    for (const auto& row : dendrites.rows) r->branch_points += std::atol(row[static_cast<std::size_t>(f)].c_str());
  }
}

/// Removes OUT/stacks/.tmp-<id>-* (all of them when @p id is empty): what a killed run left behind.
void remove_temporaries(const fs::path& stacks_dir, const std::string& id) {
  boost::system::error_code ec;
  if (!fs::is_directory(stacks_dir, ec)) return;
  const std::string prefix = ".tmp-" + id + (id.empty() ? "" : "-");
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(stacks_dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().rfind(prefix, 0) == 0) stale.push_back(it->path());
  for (const auto& p : stale) fs::remove_all(p, ec);
}

/// What the runner knows of one row before it runs.
struct Job {
  const SheetRow* row = nullptr;
  std::unique_ptr<Pipeline> pipeline;
  std::string parameter_hash;
  std::string precheck_error;  // header unreadable or too big for the budget: fails without running
  double estimated_gb = 0.0;
};

struct Plan {
  const BatchOptions* options = nullptr;
  fs::path stacks_dir;
  std::vector<Job> jobs;
};

Json record_json(const Job& job, const StackResult& r, const std::string& input_sha, const std::string& key) {
  Json j = Json::object();
  j.set("stack_id", r.stack_id).set("row", job.row->row).set("input", job.row->resolved_path);
  j.set("status", r.status).set("error", r.error);
  j.set("input_sha256", input_sha).set("parameter_hash", job.parameter_hash);
  j.set("version", SPINESCOPE_VERSION).set("key", key);
  j.set("spine_count", r.spine_count).set("dendrite_length_um", r.dendrite_length_um);
  return j;
}

/// Moves a finished temporary folder into place as the stack's folder (replacing an older one).
void publish(const fs::path& temp, const fs::path& final_dir) {
  boost::system::error_code ec;
  fs::remove_all(final_dir, ec);
  fs::rename(temp, final_dir, ec);
  if (ec) throw OutputError(final_dir.string(), "cannot move the finished stack into place: " + ec.message());
}

/// The per-stack unit. Never throws: any error becomes status "failed" with its message. A cancelled stack is
/// "interrupted" and its folder is left as it was (a finished result from an earlier run stays).
StackResult process_stack(const Plan& plan, const Job& job, const std::function<void(double)>& progress) {
  const BatchOptions& o = *plan.options;
  const SheetRow& row = *job.row;
  StackResult r;
  r.row = row.row;
  r.stack_id = row.stack_id;
  r.path = row.path;
  r.status = "ok";
  r.estimated_gb = job.estimated_gb;
  const fs::path final_dir = plan.stacks_dir / row.stack_id;
  fs::path temp;
  std::string input_sha, key;
  try {
    remove_temporaries(plan.stacks_dir, row.stack_id);
    if (!job.precheck_error.empty()) throw InputError(row.resolved_path, job.precheck_error);
    if (o.cancel && o.cancel->load()) throw Cancelled();
    input_sha = sha256_file(row.resolved_path);
    key = completion_key(input_sha, *job.pipeline);
    if (o.resume) {
      boost::system::error_code ec;
      const fs::path record = final_dir / kRecord;
      if (fs::exists(record, ec)) {
        const std::string text = slurp(record);
        if (json_string_member(text, "status") == "ok" && json_string_member(text, "key") == key) {
          summarise_folder(final_dir, &r);
          r.reused = true;
          return r;
        }
      }
    }
    temp = plan.stacks_dir / fs::unique_path(".tmp-" + row.stack_id + "-%%%%%%%%");
    fs::create_directories(temp);
    {
      StackInfo info;
      info.path = row.resolved_path;
      info.output_dir = temp.string();
      Context ctx(info);
      ctx.set_cancel_flag(o.cancel);
      ctx.set_progress_sink([&progress](const Progress& p) { progress(p.overall); });
      job.pipeline->run(ctx);
    }  // the stack's volumes are freed here, before the limiter lets the next stack in
    for (const char* f : {"spines.csv", "dendrites.csv"})
      if (!fs::exists(temp / f))
        throw StageError("batch", std::string("the pipeline wrote no ") + f + " (is the report stage in the chain?)");
    summarise_folder(temp, &r);
    write_file_atomic((temp / kRecord).string(), record_json(job, r, input_sha, key).dump());
    publish(temp, final_dir);
  } catch (const Cancelled& e) {
    r.status = "interrupted";
    r.error = one_line(e.what());
    r.spine_count = 0;
    r.dendrite_length_um = 0.0;
    boost::system::error_code ec;
    if (!temp.empty()) fs::remove_all(temp, ec);
  } catch (const std::exception& e) {
    r.status = "failed";
    r.error = one_line(e.what());
    r.spine_count = 0;
    r.dendrite_length_um = 0.0;
  } catch (...) {
    r.status = "failed";
    r.error = "unknown error";
  }
  if (r.status == "failed") {
    // The failure is recorded in the stack's folder too, so a merge or a rerun sees it; --resume retries it.
    try {
      boost::system::error_code ec;
      if (!temp.empty()) fs::remove_all(temp, ec);
      temp = plan.stacks_dir / fs::unique_path(".tmp-" + row.stack_id + "-%%%%%%%%");
      fs::create_directories(temp);
      write_file_atomic((temp / kRecord).string(), record_json(job, r, input_sha, key).dump());
      publish(temp, final_dir);
    } catch (const std::exception& e) {
      r.error += " (and its failure record could not be written: " + one_line(e.what()) + ")";
    }
  }
  return r;
}

// ---- merged outputs ----

std::vector<std::string> sheet_values(const SheetRow& row) {
  std::vector<std::string> v = {row.stack_id, row.path, row.group, row.animal, row.neuron};
  v.insert(v.end(), row.extras.begin(), row.extras.end());
  return v;
}

void append_csv_line(std::string& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + csv_field(fields[i]);
  out += "\n";
}

/// One merged table: the sheet columns, then the union of the stacks' own columns (first-seen order).
std::string merge_tables(const SampleSheet& sheet, const std::vector<const SheetRow*>& rows,
                         const std::vector<CsvTable>& tables) {
  std::vector<std::string> columns;
  for (const auto& t : tables)
    for (const auto& c : t.header)
      if (std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
  std::vector<std::string> header = {"stack_id", "path", "group", "animal", "neuron"};
  header.insert(header.end(), sheet.extra_columns.begin(), sheet.extra_columns.end());
  header.insert(header.end(), columns.begin(), columns.end());
  std::string out;
  append_csv_line(out, header);
  for (std::size_t s = 0; s < tables.size(); ++s) {
    const std::vector<std::string> front = sheet_values(*rows[s]);
    std::vector<int> at;
    for (const auto& c : columns) at.push_back(tables[s].column(c));
    for (const auto& r : tables[s].rows) {
      std::vector<std::string> line = front;
      for (int a : at) line.push_back(a >= 0 ? r[static_cast<std::size_t>(a)] : "");
      append_csv_line(out, line);
    }
  }
  return out;
}

void write_merged(const BatchOptions& o, const SampleSheet& sheet, const std::vector<Job>& jobs,
                  const std::vector<StackResult>& results, const Pipeline& base) {
  const fs::path out(o.out_dir);
  std::vector<std::string> header = {"stack_id", "path", "group", "animal", "neuron"};
  header.insert(header.end(), sheet.extra_columns.begin(), sheet.extra_columns.end());
  for (const char* c : {"status", "error", "dendrite_length_um", "spine_count", "density_per_um", "branch_points",
                        "output_dir", "overlay"})
    header.push_back(c);
  std::string stacks_csv;
  append_csv_line(stacks_csv, header);
  std::vector<const SheetRow*> ok_rows;
  std::vector<CsvTable> spines, dendrites;
  Json failures = Json::array();
  for (std::size_t i = 0; i < results.size(); ++i) {
    const StackResult& r = results[i];
    const SheetRow& row = *jobs[i].row;
    const std::string dir = "stacks/" + row.stack_id;
    std::vector<std::string> line = sheet_values(row);
    const bool ok = r.status == "ok";
    line.push_back(r.status);
    line.push_back(r.error);
    line.push_back(ok ? format_number(r.dendrite_length_um, 6) : "");
    line.push_back(ok ? std::to_string(r.spine_count) : "");
    line.push_back(ok && r.dendrite_length_um > 0 ? format_number(r.spine_count / r.dendrite_length_um, 5) : "");
    line.push_back(ok && r.branch_points >= 0 ? std::to_string(r.branch_points) : "");
    line.push_back(dir);
    line.push_back(ok && fs::exists(out / dir / "overlay.png") ? dir + "/overlay.png" : "");
    append_csv_line(stacks_csv, line);
    if (ok) {
      ok_rows.push_back(&row);
      spines.push_back(read_csv((out / dir / "spines.csv").string()));
      dendrites.push_back(read_csv((out / dir / "dendrites.csv").string()));
    } else {
      failures.push(Json::object()
                        .set("stack_id", row.stack_id)
                        .set("path", row.path)
                        .set("line", row.line)
                        .set("error", r.error));
    }
  }
  write_file_atomic((out / "spines.csv").string(), merge_tables(sheet, ok_rows, spines));
  write_file_atomic((out / "dendrites.csv").string(), merge_tables(sheet, ok_rows, dendrites));
  write_file_atomic((out / "stacks.csv").string(), stacks_csv);

  int ok = 0, reused = 0;
  long spine_total = 0;
  for (const auto& r : results) ok += r.status == "ok", reused += r.reused, spine_total += r.spine_count;
  Json j = Json::object();
  j.set("spinescope_version", SPINESCOPE_VERSION);
  j.set("sheet", o.sheet);
  Json chain = Json::array();
  for (const auto& s : base.stages()) chain.push(s->spec().name);
  j.set("chain", chain);
  Json params = Json::object();
  for (const auto& [stage, values] : base.resolved_parameters()) {
    Json p = Json::object();
    for (const auto& [k, v] : values) p.set(k, v);
    params.set(stage, p);
  }
  j.set("parameters", params);
  j.set("counts", Json::object()
                      .set("stacks", static_cast<unsigned long>(results.size()))
                      .set("ok", ok)
                      .set("failed", static_cast<int>(results.size()) - ok)
                      .set("reused", reused)
                      .set("spines", spine_total));
  j.set("failures", failures);
  write_file_atomic((out / "batch.json").string(), j.dump());
}

}  // namespace

std::string completion_key(const std::string& input_sha256, const Pipeline& pipeline) {
  return sha256_string("input_sha256=" + input_sha256 + "\nparameters=" + sha256_string(parameter_text(pipeline)) +
                       "\nversion=" SPINESCOPE_VERSION "\n");
}

std::vector<std::string> check_batch(const BatchOptions& options, bool read_headers) {
  std::vector<std::string> problems;
  const SampleSheet sheet = read_sample_sheet(options.sheet, &problems);
  if (options.only_row < 0 || (options.only_row > 0 && options.only_row > static_cast<int>(sheet.rows.size())))
    problems.push_back(options.sheet + ": --only " + std::to_string(options.only_row) + ": the sheet has " +
                       std::to_string(sheet.rows.size()) + " row(s)");
  const PipelineFactory make = factory_of(options);
  make(options.params).validate();  // batch-wide parameter errors are ParameterError (exit 64), not row problems
  const HeaderReader header = options.read_header ? options.read_header : HeaderReader(read_stack_header);
  for (const auto& row : sheet.rows) {
    if (options.only_row > 0 && row.row != options.only_row) continue;
    const std::string where = options.sheet + ":" + std::to_string(row.line) + ": ";
    // One report per cause: a row the sheet check already faulted is not checked again through its parameters.
    if (std::any_of(problems.begin(), problems.end(), [&](const std::string& p) { return p.rfind(where, 0) == 0; }))
      continue;
    ParamSet params;
    try {
      params = row_params(options.params, row);
      make(params).validate();
    } catch (const Error& e) {
      problems.push_back(where + e.what());
      continue;
    }
    if (!read_headers || row.resolved_path.empty() || !fs::is_regular_file(row.resolved_path)) continue;
    try {
      header(row.resolved_path, load_options(params));
    } catch (const Error& e) {
      problems.push_back(where + e.what());
    }
  }
  return problems;
}

BatchResult run_batch(const BatchOptions& options) {
  if (options.out_dir.empty()) throw ParameterError("batch: no output folder (--out DIR)");
  // Declare, then run: the sheet, every row's parameters and the output folder are checked before any work.
  std::vector<std::string> problems = check_batch(options, false);
  if (!problems.empty())
    throw InputError(options.sheet, problems.front() + (problems.size() > 1 ? " (and " +
                                        std::to_string(problems.size() - 1) + " more problem(s); --dry-run lists all)"
                                                                          : std::string()));
  std::vector<std::string> ignored;
  const SampleSheet sheet = read_sample_sheet(options.sheet, &ignored);
  const PipelineFactory make = factory_of(options);
  const Pipeline base = make(options.params);

  Plan plan;
  plan.options = &options;
  plan.stacks_dir = fs::path(options.out_dir) / "stacks";
  boost::system::error_code ec;
  fs::create_directories(plan.stacks_dir, ec);
  if (ec || !fs::is_directory(plan.stacks_dir))
    throw OutputError(plan.stacks_dir.string(), "cannot create the output folder: " + ec.message());
  if (options.only_row == 0) remove_temporaries(plan.stacks_dir, "");

  BatchResult result;
  result.memory_budget_gb = options.memory_gb > 0 ? options.memory_gb : 0.75 * physical_memory_gb();
  const HeaderReader header = options.read_header ? options.read_header : HeaderReader(read_stack_header);
  double largest_gb = 0.0;
  for (const auto& row : sheet.rows) {
    if (options.only_row > 0 && row.row != options.only_row) continue;
    Job job;
    job.row = &row;
    const ParamSet params = row_params(options.params, row);
    job.pipeline = std::make_unique<Pipeline>(make(params));
    job.parameter_hash = sha256_string(parameter_text(*job.pipeline));
    try {
      const StackHeader h = header(row.resolved_path, load_options(params));
      job.estimated_gb = kBytesPerVoxel * static_cast<double>(h.nx) * static_cast<double>(h.ny) *
                         static_cast<double>(h.nz) / kGB;
      if (job.estimated_gb > result.memory_budget_gb)
        job.precheck_error = "needs about " + format_number(job.estimated_gb, 3) + " GB (" +
                             format_number(kBytesPerVoxel, 3) + " bytes per voxel), more than the memory budget of " +
                             format_number(result.memory_budget_gb, 3) + " GB (--memory-gb)";
      else
        largest_gb = std::max(largest_gb, job.estimated_gb);
    } catch (const std::exception& e) {
      job.precheck_error = one_line(e.what());
      // InputError already names the file: keep only the reason after it.
      if (job.precheck_error.rfind(row.resolved_path + ": ", 0) == 0)
        job.precheck_error.erase(0, row.resolved_path.size() + 2);
    }
    plan.jobs.push_back(std::move(job));
  }

  // Stacks in flight: --jobs (default: the threads we may use), never more than the budget holds at once
  // (sized by the largest stack, so any mix of stacks fits).
  int slots = options.jobs > 0 ? options.jobs : std::max(1, ThreadLimit::current());
  if (largest_gb > 0) slots = std::min(slots, std::max(1, static_cast<int>(result.memory_budget_gb / largest_gb)));
  slots = std::max(1, std::min(slots, static_cast<int>(plan.jobs.size())));
  result.jobs = slots;

  const std::size_t n = plan.jobs.size();
  std::vector<StackResult> results(n);
  std::unique_ptr<std::atomic<double>[]> in_flight(new std::atomic<double>[n]);
  for (std::size_t i = 0; i < n; ++i) in_flight[i] = 0.0;
  std::mutex progress_mutex;
  BatchProgress progress;
  progress.total = static_cast<int>(n);
  auto report = [&](const StackResult* finished) {
    if (!options.on_progress) return;
    std::lock_guard<std::mutex> lock(progress_mutex);
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += in_flight[i].load();
    progress.fraction = n ? sum / static_cast<double>(n) : 1.0;
    progress.finished = finished;
    options.on_progress(progress);
  };

  struct Done {
    std::size_t index;
    StackResult result;
  };
  namespace flow = tbb::flow;
  flow::graph g;
  std::size_t next = 0;
  flow::input_node<std::size_t> source(g, [&](tbb::flow_control& fc) -> std::size_t {
    if (next >= n) {
      fc.stop();
      return 0;
    }
    return next++;
  });
  flow::limiter_node<std::size_t> limiter(g, static_cast<std::size_t>(slots));
  using Worker = flow::multifunction_node<std::size_t, std::tuple<Done, flow::continue_msg>>;
  Worker worker(g, flow::unlimited, [&](std::size_t i, Worker::output_ports_type& ports) {
    StackResult r = process_stack(plan, plan.jobs[i], [&, i](double f) {
      in_flight[i] = std::min(0.99, std::max(0.0, f));
      report(nullptr);
    });
    in_flight[i] = 1.0;
    std::get<0>(ports).try_put(Done{i, std::move(r)});
    std::get<1>(ports).try_put(flow::continue_msg());
  });
  flow::sequencer_node<Done> in_order(g, [](const Done& d) { return d.index; });
  flow::function_node<Done> writer(g, flow::serial, [&](const Done& d) {
    results[d.index] = d.result;
    {
      std::lock_guard<std::mutex> lock(progress_mutex);
      ++progress.done;
      progress.failed += d.result.status == "failed";
      progress.spines += d.result.spine_count;
    }
    report(&results[d.index]);
  });
  flow::make_edge(source, limiter);
  flow::make_edge(limiter, worker);
  flow::make_edge(flow::output_port<0>(worker), in_order);
  flow::make_edge(flow::output_port<1>(worker), limiter.decrementer());
  flow::make_edge(in_order, writer);
  source.activate();
  g.wait_for_all();

  for (const auto& r : results) {
    result.ok += r.status == "ok";
    result.failed += r.status == "failed";
    result.interrupted += r.status == "interrupted";
    result.reused += r.reused;
    result.spines += r.spine_count;
  }
  result.stacks = std::move(results);
  if (options.only_row == 0 && result.interrupted == 0) {
    write_merged(options, sheet, plan.jobs, result.stacks, base);
    result.merged = true;
  }
  return result;
}

}  // namespace spinescope
