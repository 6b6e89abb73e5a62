#include "spinescope/evaluate.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numeric>

#include <boost/filesystem.hpp>

#include "spinescope/errors.hpp"

namespace spinescope {

namespace fs = boost::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const char* const kKnownTypes[] = {"stubby", "mushroom", "thin", "filopodium"};

bool is_known_type(const std::string& t) {
  return std::find(std::begin(kKnownTypes), std::end(kKnownTypes), t) != std::end(kKnownTypes);
}

double ratio(double num, double den) { return den > 0 ? num / den : kNaN; }

// ---- reading ----

int require_column(const CsvTable& t, const std::string& file, const std::string& name) {
  const int c = t.column(name);
  if (c < 0) throw InputError(file, "missing column '" + name + "'");
  return c;
}

/// Empty cell -> NaN; anything else must be a finite number.
double parse_cell(const CsvTable& t, std::size_t row, int col, const std::string& file) {
  const std::string& s = t.rows[row][static_cast<std::size_t>(col)];
  if (s.empty() || s == "nan" || s == "NaN") return kNaN;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v))
    throw InputError(file, "line " + std::to_string(t.line_numbers[row]) + ": column '" + t.header[col] +
                               "': not a number: '" + s + "'");
  return v;
}

PointUm parse_point(const CsvTable& t, std::size_t row, const int cols[3], const std::string& file, bool required) {
  PointUm p{parse_cell(t, row, cols[0], file), parse_cell(t, row, cols[1], file), parse_cell(t, row, cols[2], file)};
  if (required && (std::isnan(p.x_um) || std::isnan(p.y_um) || std::isnan(p.z_um)))
    throw InputError(file, "line " + std::to_string(t.line_numbers[row]) + ": empty coordinate");
  return p;
}

std::vector<EvalSpine> read_spines(const std::string& file, bool truth) {
  const CsvTable t = read_csv(file);
  const int head[3] = {require_column(t, file, "x_um"), require_column(t, file, "y_um"),
                       require_column(t, file, "z_um")};
  const int diameter = require_column(t, file, "head_diameter_um");
  const int type = require_column(t, file, "type");
  int base[3] = {-1, -1, -1};
  if (truth) {
    base[0] = require_column(t, file, "base_x_um");
    base[1] = require_column(t, file, "base_y_um");
    base[2] = require_column(t, file, "base_z_um");
  }
  std::vector<EvalSpine> out;
  out.reserve(t.rows.size());
  for (std::size_t r = 0; r < t.rows.size(); ++r) {
    EvalSpine s;
    s.head = parse_point(t, r, head, file, true);
    s.base = s.head;
    if (truth) {
      const PointUm b = parse_point(t, r, base, file, false);
      if (!std::isnan(b.x_um) && !std::isnan(b.y_um) && !std::isnan(b.z_um)) s.base = b;
    }
    s.head_diameter_um = parse_cell(t, r, diameter, file);
    s.type = t.rows[r][static_cast<std::size_t>(type)];
    if (s.type.empty()) s.type = "unknown";
    out.push_back(std::move(s));
  }
  return out;
}

/// Sum of length_um; NaN when any row's length is unknown.
double read_total_length_um(const std::string& file) {
  const CsvTable t = read_csv(file);
  const int c = require_column(t, file, "length_um");
  double sum = 0.0;
  for (std::size_t r = 0; r < t.rows.size(); ++r) sum += parse_cell(t, r, c, file);
  return sum;
}

// ---- assignment ----

/// Hungarian method with potentials on a dense n × m matrix, n <= m. Returns col index per row.
std::vector<int> hungarian(int n, int m, const std::vector<double>& a) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(static_cast<std::size_t>(n) + 1, 0.0), v(static_cast<std::size_t>(m) + 1, 0.0);
  std::vector<int> p(static_cast<std::size_t>(m) + 1, 0), way(static_cast<std::size_t>(m) + 1, 0);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(static_cast<std::size_t>(m) + 1, inf);
    std::vector<char> used(static_cast<std::size_t>(m) + 1, 0);
    do {
      used[j0] = 1;
      const int i0 = p[j0];
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double cur = a[static_cast<std::size_t>(i0 - 1) * m + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) minv[j] = cur, way[j] = j0;
        if (minv[j] < delta) delta = minv[j], j1 = j;
      }
      for (int j = 0; j <= m; ++j) {
        if (used[j]) u[p[j]] += delta, v[j] -= delta;
        else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> col_of_row(static_cast<std::size_t>(n), -1);
  for (int j = 1; j <= m; ++j)
    if (p[j] > 0) col_of_row[p[j] - 1] = j - 1;
  return col_of_row;
}

int find_root(std::vector<int>& parent, int x) {
  while (parent[x] != x) x = parent[x] = parent[parent[x]];
  return x;
}

}  // namespace

double distance_to_segment_um(const PointUm& p, const PointUm& a, const PointUm& b) {
  const double dx = b.x_um - a.x_um, dy = b.y_um - a.y_um, dz = b.z_um - a.z_um;
  const double len2 = dx * dx + dy * dy + dz * dz;
  double t = 0.0;
  if (len2 > 0.0)
    t = std::clamp(((p.x_um - a.x_um) * dx + (p.y_um - a.y_um) * dy + (p.z_um - a.z_um) * dz) / len2, 0.0, 1.0);
  const double ex = a.x_um + t * dx - p.x_um, ey = a.y_um + t * dy - p.y_um, ez = a.z_um + t * dz - p.z_um;
  return std::sqrt(ex * ex + ey * ey + ez * ez);
}

std::vector<std::pair<int, int>> min_cost_matching(int rows, int cols, const std::vector<double>& cost,
                                                   const std::vector<char>& admissible) {
  // Components of the admissible bipartite graph (rows are nodes 0..rows-1, cols rows..rows+cols-1).
  std::vector<int> parent(static_cast<std::size_t>(rows + cols));
  std::iota(parent.begin(), parent.end(), 0);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c)
      if (admissible[static_cast<std::size_t>(r) * cols + c]) parent[find_root(parent, r)] = find_root(parent, rows + c);
  std::map<int, std::pair<std::vector<int>, std::vector<int>>> components;
  for (int r = 0; r < rows; ++r) components[find_root(parent, r)].first.push_back(r);
  for (int c = 0; c < cols; ++c) components[find_root(parent, rows + c)].second.push_back(c);

  std::vector<std::pair<int, int>> out;
  for (const auto& [root, members] : components) {
    const auto& [rs, cs] = members;
    if (rs.empty() || cs.empty()) continue;
    // Transpose so the Hungarian rows are the smaller side.
    const bool transpose = rs.size() > cs.size();
    const std::vector<int>& small = transpose ? cs : rs;
    const std::vector<int>& large = transpose ? rs : cs;
    const int n = static_cast<int>(small.size()), m = static_cast<int>(large.size());
    auto at = [&](int i, int j) {
      const int r = transpose ? large[j] : small[i], c = transpose ? small[i] : large[j];
      return static_cast<std::size_t>(r) * cols + c;
    };
    double max_cost = 0.0;
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < m; ++j)
        if (admissible[at(i, j)]) max_cost = std::max(max_cost, cost[at(i, j)]);
    // An inadmissible pair costs more than any set of n admissible ones: the cardinality is maximised first.
    const double forbidden = (max_cost + 1.0) * (n + 1);
    std::vector<double> a(static_cast<std::size_t>(n) * m);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < m; ++j) a[static_cast<std::size_t>(i) * m + j] = admissible[at(i, j)] ? cost[at(i, j)] : forbidden;
    const std::vector<int> assigned = hungarian(n, m, a);
    for (int i = 0; i < n; ++i) {
      if (assigned[i] < 0 || !admissible[at(i, assigned[i])]) continue;
      out.emplace_back(transpose ? large[assigned[i]] : small[i], transpose ? small[i] : large[assigned[i]]);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<int, int>> match_spines(const std::vector<EvalSpine>& truth,
                                              const std::vector<EvalSpine>& detected, double tolerance_um) {
  const int rows = static_cast<int>(truth.size()), cols = static_cast<int>(detected.size());
  std::vector<double> cost(static_cast<std::size_t>(rows) * cols, 0.0);
  std::vector<char> admissible(cost.size(), 0);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const double d = distance_to_segment_um(detected[c].head, truth[r].base, truth[r].head);
      cost[static_cast<std::size_t>(r) * cols + c] = d;
      admissible[static_cast<std::size_t>(r) * cols + c] = d <= tolerance_um;
    }
  return min_cost_matching(rows, cols, cost, admissible);
}

std::string truth_prefix(const std::string& truth) {
  auto strip = [&](const std::string& suffix) {
    return truth.size() > suffix.size() && truth.compare(truth.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const char* suffix : {".spines.csv", ".dendrites.csv", ".ome.tiff", ".ome.tif", ".tiff", ".tif"})
    if (strip(suffix)) return truth.substr(0, truth.size() - std::string(suffix).size());
  return truth;
}

std::vector<EvalPair> expand_pair(const EvalPair& pair) {
  const fs::path dir(pair.results);
  if (!fs::exists(dir / "stacks.csv")) return {pair};
  if (!fs::is_directory(pair.truth))
    throw InputError(pair.truth, "a batch folder (" + pair.results +
                                     ") is scored against a folder of truths NAME.spines.csv, NAME.dendrites.csv",
                     kExitNoInput);
  const std::string file = (dir / "stacks.csv").string();
  const CsvTable t = read_csv(file);
  const int path = require_column(t, file, "path"), status = require_column(t, file, "status");
  const int out = require_column(t, file, "output_dir");
  std::vector<EvalPair> pairs;
  for (const auto& row : t.rows) {
    if (row[status] != "ok") continue;
    const std::string stem = truth_prefix(fs::path(row[path]).filename().string());
    pairs.push_back({(dir / row[out]).string(), (fs::path(pair.truth) / stem).string()});
  }
  if (pairs.empty()) throw InputError(file, "no stack with status ok to evaluate");
  return pairs;
}

EvalMetrics evaluate_stack(const EvalPair& pair, double tolerance_um) {
  const std::string prefix = truth_prefix(pair.truth);
  const std::string files[4] = {(fs::path(pair.results) / "spines.csv").string(),
                                (fs::path(pair.results) / "dendrites.csv").string(), prefix + ".spines.csv",
                                prefix + ".dendrites.csv"};
  std::string missing;
  for (const auto& f : files)
    if (!fs::is_regular_file(f)) missing += (missing.empty() ? "" : ", ") + f;
  if (!missing.empty()) throw InputError(missing, "missing (evaluate needs results spines.csv, dendrites.csv and "
                                                  "truth PREFIX.spines.csv, PREFIX.dendrites.csv)", kExitNoInput);
  const std::vector<EvalSpine> detected = read_spines(files[0], false);
  const std::vector<EvalSpine> truth = read_spines(files[2], true);

  EvalMetrics m;
  m.results = pair.results;
  m.truth = prefix;
  m.true_spines = static_cast<int>(truth.size());
  m.detected_spines = static_cast<int>(detected.size());
  const auto matches = match_spines(truth, detected, tolerance_um);
  m.matched = static_cast<int>(matches.size());
  m.precision = ratio(m.matched, m.detected_spines);
  m.recall = ratio(m.matched, m.true_spines);
  m.f1 = ratio(2.0 * m.matched, m.true_spines + m.detected_spines);
  for (const auto& s : truth) ++m.true_by_type[s.type], m.matched_by_type[s.type] += 0;

  double abs_sum = 0.0, signed_sum = 0.0;
  std::map<std::string, std::pair<double, double>> by_type_sums;
  for (const auto& [t, d] : matches) {
    const EvalSpine& ts = truth[t];
    const EvalSpine& ds = detected[d];
    ++m.matched_by_type[ts.type];
    if (!std::isnan(ts.head_diameter_um) && !std::isnan(ds.head_diameter_um)) {
      const double e = ds.head_diameter_um - ts.head_diameter_um;
      ++m.diameter_pairs;
      abs_sum += std::abs(e), signed_sum += e;
      auto& ty = m.diameter_by_type[ts.type];
      ++ty.pairs;
      by_type_sums[ts.type].first += std::abs(e), by_type_sums[ts.type].second += e;
    }
    if (is_known_type(ts.type)) {
      ++m.typed_pairs;
      if (ds.type == ts.type) ++m.type_correct;
      ++m.confusion[ts.type][ds.type];
    }
  }
  m.diameter_mae_um = ratio(abs_sum, m.diameter_pairs);
  m.diameter_bias_um = ratio(signed_sum, m.diameter_pairs);
  for (auto& [type, e] : m.diameter_by_type) {
    e.mae_um = by_type_sums[type].first / e.pairs;
    e.bias_um = by_type_sums[type].second / e.pairs;
  }
  m.type_accuracy = ratio(m.type_correct, m.typed_pairs);

  m.dendrite_length_um = read_total_length_um(files[1]);
  m.true_dendrite_length_um = read_total_length_um(files[3]);
  m.density_per_um = m.detected_spines == 0 ? 0.0 : ratio(m.detected_spines, m.dendrite_length_um);
  m.true_density_per_um = ratio(m.true_spines, m.true_dendrite_length_um);
  m.length_rel_error = (m.dendrite_length_um - m.true_dendrite_length_um) / m.true_dendrite_length_um;
  m.density_rel_error = (m.density_per_um - m.true_density_per_um) / m.true_density_per_um;
  if (!(m.true_dendrite_length_um > 0)) m.length_rel_error = m.density_rel_error = kNaN;
  return m;
}

EvalReport evaluate(const std::vector<EvalPair>& pairs, double tolerance_um) {
  if (!(tolerance_um > 0) || !std::isfinite(tolerance_um))
    throw ParameterError("", "tolerance_um", format_number(tolerance_um), "must be a positive distance in um");
  EvalReport report;
  report.tolerance_um = tolerance_um;
  for (const auto& p : pairs)
    for (const auto& q : expand_pair(p)) report.stacks.push_back(evaluate_stack(q, tolerance_um));

  EvalMetrics& pool = report.pooled;
  pool.results = "pooled";
  double len = 0.0, true_len = 0.0, abs_sum = 0.0, signed_sum = 0.0, abs_density = 0.0;
  int det_known = 0, true_known = 0, density_stacks = 0;
  std::map<std::string, std::pair<double, double>> by_type_sums;
  report.worst_density_error = kNaN;
  for (const auto& s : report.stacks) {
    pool.true_spines += s.true_spines;
    pool.detected_spines += s.detected_spines;
    pool.matched += s.matched;
    for (const auto& [t, n] : s.true_by_type) pool.true_by_type[t] += n;
    for (const auto& [t, n] : s.matched_by_type) pool.matched_by_type[t] += n;
    pool.diameter_pairs += s.diameter_pairs;
    if (s.diameter_pairs > 0) {
      abs_sum += s.diameter_mae_um * s.diameter_pairs;
      signed_sum += s.diameter_bias_um * s.diameter_pairs;
    }
    for (const auto& [t, e] : s.diameter_by_type) {
      pool.diameter_by_type[t].pairs += e.pairs;
      by_type_sums[t].first += e.mae_um * e.pairs, by_type_sums[t].second += e.bias_um * e.pairs;
    }
    pool.typed_pairs += s.typed_pairs;
    pool.type_correct += s.type_correct;
    for (const auto& [t, row] : s.confusion)
      for (const auto& [d, n] : row) pool.confusion[t][d] += n;
    pool.dendrite_length_um += s.dendrite_length_um;
    if (s.true_dendrite_length_um > 0) {
      len += s.dendrite_length_um, true_len += s.true_dendrite_length_um;
      det_known += s.detected_spines, true_known += s.true_spines;
    }
    if (!std::isnan(s.density_rel_error)) {
      ++density_stacks;
      abs_density += std::abs(s.density_rel_error);
      if (std::isnan(report.worst_density_error) ||
          std::abs(s.density_rel_error) > std::abs(report.worst_density_error)) {
        report.worst_density_error = s.density_rel_error;
        report.worst_density_stack = s.results;
      }
    }
  }
  pool.precision = ratio(pool.matched, pool.detected_spines);
  pool.recall = ratio(pool.matched, pool.true_spines);
  pool.f1 = ratio(2.0 * pool.matched, pool.true_spines + pool.detected_spines);
  pool.diameter_mae_um = ratio(abs_sum, pool.diameter_pairs);
  pool.diameter_bias_um = ratio(signed_sum, pool.diameter_pairs);
  for (auto& [t, e] : pool.diameter_by_type) {
    e.mae_um = ratio(by_type_sums[t].first, e.pairs);
    e.bias_um = ratio(by_type_sums[t].second, e.pairs);
  }
  pool.type_accuracy = ratio(pool.type_correct, pool.typed_pairs);
  // Pooled density and length: over the stacks whose true length is known only.
  pool.true_dendrite_length_um = true_len > 0 ? true_len : kNaN;
  pool.density_per_um = det_known == 0 ? 0.0 : ratio(det_known, len);
  pool.true_density_per_um = ratio(true_known, true_len);
  pool.length_rel_error = true_len > 0 ? (len - true_len) / true_len : kNaN;
  pool.density_rel_error = (pool.density_per_um - pool.true_density_per_um) / pool.true_density_per_um;
  report.mean_abs_density_error = ratio(abs_density, density_stacks);
  return report;
}

namespace {

Json metrics_json(const EvalMetrics& m) {
  Json j = Json::object();
  j.set("results", m.results);
  if (!m.truth.empty()) j.set("truth", m.truth);
  j.set("true_spines", m.true_spines).set("detected_spines", m.detected_spines).set("matched", m.matched);
  j.set("precision", m.precision).set("recall", m.recall).set("f1", m.f1);
  Json recall = Json::object();
  for (const auto& [t, n] : m.true_by_type) {
    const int hit = m.matched_by_type.count(t) ? m.matched_by_type.at(t) : 0;
    recall.set(t, Json::object().set("true", n).set("matched", hit).set("recall", ratio(hit, n)));
  }
  j.set("recall_by_type", recall);
  j.set("dendrite_length_um", m.dendrite_length_um).set("true_dendrite_length_um", m.true_dendrite_length_um);
  j.set("length_rel_error", m.length_rel_error);
  j.set("density_per_um", m.density_per_um).set("true_density_per_um", m.true_density_per_um);
  j.set("density_rel_error", m.density_rel_error);
  j.set("head_diameter", Json::object()
                             .set("pairs", m.diameter_pairs)
                             .set("mae_um", m.diameter_mae_um)
                             .set("bias_um", m.diameter_bias_um));
  Json by_type = Json::object();
  for (const auto& [t, e] : m.diameter_by_type)
    by_type.set(t, Json::object().set("pairs", e.pairs).set("mae_um", e.mae_um).set("bias_um", e.bias_um));
  j.set("head_diameter_by_type", by_type);
  j.set("type_accuracy", m.type_accuracy).set("typed_pairs", m.typed_pairs).set("type_correct", m.type_correct);
  Json confusion = Json::object();
  for (const auto& [t, row] : m.confusion) {
    Json r = Json::object();
    for (const auto& [d, n] : row) r.set(d, n);
    confusion.set(t, r);
  }
  j.set("type_confusion", confusion);
  return j;
}

std::string cell(double v, const char* format) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

std::string short_name(const std::string& path) {
  const fs::path p(path);
  std::string name = p.filename().string();
  if (name.empty() || name == ".") name = p.parent_path().filename().string();
  return name.size() > 24 ? name.substr(0, 21) + "..." : name;
}

}  // namespace

Json to_json(const EvalReport& report) {
  Json j = Json::object();
  j.set("spinescope_version", SPINESCOPE_VERSION);
  j.set("tolerance_um", report.tolerance_um);
  j.set("match_rule", "detection head point within tolerance_um of the true spine's axis (base to head centre); "
                      "one-to-one, most matches then least total distance");
  Json stacks = Json::array();
  for (const auto& s : report.stacks) stacks.push(metrics_json(s));
  j.set("stacks", stacks);
  Json pooled = metrics_json(report.pooled);
  pooled.set("mean_abs_density_rel_error", report.mean_abs_density_error);
  pooled.set("worst_density_rel_error", report.worst_density_error);
  pooled.set("worst_density_stack", report.worst_density_stack);
  j.set("pooled", pooled);
  return j;
}

std::string format_table(const EvalReport& report) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-24s %6s %6s %6s %6s %6s %6s %9s %9s %9s %9s %6s\n", "stack", "true", "found",
                "match", "prec", "recall", "F1", "dens.err", "len.err", "diam.MAE", "diam.bias", "type");
  out += line;
  auto row = [&](const EvalMetrics& m, const std::string& name) {
    std::snprintf(line, sizeof line, "%-24s %6d %6d %6d %6s %6s %6s %9s %9s %9s %9s %6s\n", name.c_str(),
                  m.true_spines, m.detected_spines, m.matched, cell(m.precision, "%.3f").c_str(),
                  cell(m.recall, "%.3f").c_str(), cell(m.f1, "%.3f").c_str(),
                  cell(100.0 * m.density_rel_error, "%+.1f%%").c_str(), cell(100.0 * m.length_rel_error, "%+.1f%%").c_str(),
                  cell(m.diameter_mae_um, "%.3f").c_str(), cell(m.diameter_bias_um, "%+.3f").c_str(),
                  cell(m.type_accuracy, "%.3f").c_str());
    out += line;
  };
  for (const auto& s : report.stacks) row(s, short_name(s.results));
  if (report.stacks.size() > 1) row(report.pooled, "pooled (micro)");
  const EvalMetrics& p = report.pooled;
  out += "recall by type:";
  for (const auto& [t, n] : p.true_by_type) {
    const int hit = p.matched_by_type.count(t) ? p.matched_by_type.at(t) : 0;
    std::snprintf(line, sizeof line, "  %s %d/%d (%s)", t.c_str(), hit, n, cell(ratio(hit, n), "%.3f").c_str());
    out += line;
  }
  out += "\n";
  if (!p.diameter_by_type.empty()) {
    out += "head diameter by type (MAE / bias, um):";
    for (const auto& [t, e] : p.diameter_by_type) {
      std::snprintf(line, sizeof line, "  %s %s / %s (n=%d)", t.c_str(), cell(e.mae_um, "%.3f").c_str(),
                    cell(e.bias_um, "%+.3f").c_str(), e.pairs);
      out += line;
    }
    out += "\n";
  }
  if (report.stacks.size() > 1 && std::isnan(report.mean_abs_density_error)) {
    out += "density error per stack: not known (the truth gives no dendrite length)\n";
  } else if (report.stacks.size() > 1) {
    std::snprintf(line, sizeof line, "density error per stack: mean |err| %s, worst %s (%s)\n",
                  cell(100.0 * report.mean_abs_density_error, "%.1f%%").c_str(),
                  cell(100.0 * report.worst_density_error, "%+.1f%%").c_str(),
                  short_name(report.worst_density_stack).c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "match tolerance %.3g um to the true spine axis (base to head centre)\n",
                report.tolerance_um);
  out += line;
  return out;
}

}  // namespace spinescope
