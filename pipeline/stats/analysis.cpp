// The statistics of a batch: group summaries, comparisons against the control, stats.csv and stats.json.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <boost/filesystem.hpp>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "spinescope/report_html.hpp"
#include "spinescope/stats.hpp"

namespace spinescope::stats {

namespace {

namespace fs = boost::filesystem;

// FNV-1a: a portable hash of a group name (std::hash differs between standard libraries).
std::uint64_t name_hash(const std::string& s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Per group: animal name -> neuron indices, in order of appearance.
using AnimalIndex = std::vector<std::pair<std::string, std::vector<int>>>;

AnimalIndex animals_of(const BatchData& data, const std::string& group) {
  AnimalIndex out;
  for (std::size_t i = 0; i < data.neurons.size(); ++i) {
    const NeuronRecord& n = data.neurons[i];
    if (n.group != group) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& a) { return a.first == n.animal; });
    if (it == out.end()) {
      out.emplace_back(n.animal, std::vector<int>{});
      it = out.end() - 1;
    }
    it->second.push_back(static_cast<int>(i));
  }
  return out;
}

// A neuron-level value (density, or a type's density) for each neuron of each animal.
template <class F>
AnimalNeurons neuron_values(const BatchData& data, const AnimalIndex& animals, F value) {
  AnimalNeurons out;
  for (const auto& a : animals) {
    std::vector<double> v;
    for (int i : a.second) v.push_back(value(data.neurons[i]));
    out.push_back(v);
  }
  return out;
}

std::vector<double> animal_means(const AnimalNeurons& a) {
  std::vector<double> out;
  for (const auto& v : a) out.push_back(mean(v));
  return out;
}

std::string choose_control(const std::vector<std::string>& groups, const std::string& requested, std::string* rule) {
  if (!requested.empty()) {
    if (std::find(groups.begin(), groups.end(), requested) == groups.end()) {
      std::string list;
      for (const auto& g : groups) list += (list.empty() ? "" : ", ") + g;
      throw ParameterError("stats", "control", requested, "no such group (groups: " + list + ")");
    }
    *rule = "named with --control";
    return requested;
  }
  for (const auto& g : groups) {
    const std::string l = lower(g);
    if (l == "control" || l == "ctrl" || l == "vehicle") {
      *rule = "the group named '" + g + "' (a group called control, ctrl or vehicle is the control by default)";
      return g;
    }
  }
  *rule = "the first group in the sample sheet (no group is called control, ctrl or vehicle; use --control)";
  return groups.empty() ? std::string() : groups.front();
}

}  // namespace

StatsResult compute_stats(const BatchData& data, const StatsOptions& options) {
  if (options.bootstrap < 100 || options.bootstrap > 1000000)
    throw ParameterError("stats", "bootstrap", std::to_string(options.bootstrap), "must be in [100, 1000000]");
  StatsResult result;
  result.options = options;
  result.data = data;
  result.notes = data.notes;
  result.control = choose_control(data.groups, options.control, &result.control_rule);

  std::map<std::string, AnimalIndex> animals;
  for (const auto& g : data.groups) animals[g] = animals_of(data, g);
  const bool have_types = data.has_dendrites_csv || data.has_spines_csv;

  // ---- group summaries ----
  for (const auto& g : data.groups) {
    GroupSummary s;
    s.group = g;
    for (const auto& st : data.stacks)
      if (st.group == g) ++s.stacks, s.failed_stacks += st.ok() ? 0 : 1;
    s.animals = static_cast<int>(animals[g].size());
    for (const auto& n : data.neurons)
      if (n.group == g) {
        ++s.neurons;
        s.spines += n.spines;
        s.length_um += n.length_um;
        for (int k = 0; k < kSpineTypes; ++k) s.type_counts[k] += n.type_counts[k];
      }
    for (const auto& [n, d] : data.dendrite_densities)
      if (data.neurons[n].group == g) ++s.dendrites;
    const AnimalNeurons dens = neuron_values(data, animals[g], [](const NeuronRecord& n) { return n.density_per_um(); });
    for (std::size_t a = 0; a < dens.size(); ++a) {
      s.animal_density.emplace_back(animals[g][a].first, mean(dens[a]));
      for (double v : dens[a]) s.neuron_density.emplace_back(animals[g][a].first, v);
    }
    const std::vector<double> means = animal_means(dens);
    s.mean_density_per_um = mean(means);
    if (means.size() >= 2) {
      s.sd_animals = std::sqrt(sample_variance(means));
      const double half = student_t_quantile(0.975, static_cast<double>(means.size() - 1)) * s.sd_animals /
                          std::sqrt(static_cast<double>(means.size()));
      s.ci_low = s.mean_density_per_um - half;
      s.ci_high = s.mean_density_per_um + half;
    }
    result.summaries.push_back(s);
  }

  // ---- mixed models over every group with neurons: control is the reference level ----
  std::vector<std::string> model_groups;
  for (const auto& g : data.groups)
    if (g != result.control && !animals[g].empty()) model_groups.push_back(g);
  std::map<std::string, int> model_term;  // group -> coefficient index
  auto design_row = [&](const std::string& group, std::vector<double>* x) {
    x->push_back(1.0);
    for (const auto& g : model_groups) x->push_back(group == g ? 1.0 : 0.0);
  };
  for (std::size_t i = 0; i < model_groups.size(); ++i) model_term[model_groups[i]] = static_cast<int>(i + 1);
  int model_animals = 0;
  for (const auto& g : data.groups) model_animals += static_cast<int>(animals[g].size());
  const int model_df = model_animals - static_cast<int>(model_groups.size()) - 1;
  if (!animals[result.control].empty() && !model_groups.empty()) {
    std::map<std::string, int> animal_id;
    MixedModelInput in;
    in.p = static_cast<int>(model_groups.size()) + 1;
    for (const auto& n : data.neurons) {
      in.y.push_back(n.density_per_um());
      design_row(n.group, &in.x);
      in.animal.push_back(animal_id.emplace(n.group + "\x1f" + n.animal, static_cast<int>(animal_id.size())).first->second);
    }
    try {
      result.lmm = fit_mixed_model(in);
    } catch (const Error& e) {
      result.notes.push_back(std::string("mixed model not fitted: ") + e.what());
    }
    // Dendrite level with neuron nested, when some neuron has several dendrites.
    std::map<int, int> per_neuron;
    for (const auto& [n, d] : data.dendrite_densities) ++per_neuron[n];
    const bool repeated = std::any_of(per_neuron.begin(), per_neuron.end(), [](const auto& p) { return p.second > 1; });
    if (repeated) {
      MixedModelInput nested;
      nested.p = in.p;
      for (const auto& [n, d] : data.dendrite_densities) {
        const NeuronRecord& neuron = data.neurons[n];
        nested.y.push_back(d);
        design_row(neuron.group, &nested.x);
        nested.animal.push_back(animal_id.at(neuron.group + "\x1f" + neuron.animal));
        nested.neuron.push_back(n);
      }
      try {
        result.lmm_nested = fit_mixed_model(nested);
      } catch (const Error& e) {
        result.notes.push_back(std::string("dendrite-level mixed model not fitted: ") + e.what());
      }
    }
  }

  // ---- comparisons: each group against the control ----
  const AnimalIndex& control_animals = animals[result.control];
  for (const auto& g : data.groups) {
    if (g == result.control) continue;
    const AnimalIndex& group_animals = animals[g];
    const int na = static_cast<int>(group_animals.size()), nc = static_cast<int>(control_animals.size());
    const bool enough = na >= 2 && nc >= 2;
    const std::string short_note =
        "not enough animals (" + std::to_string(na) + " vs " + std::to_string(nc) + "; needs 2 per group)";
    auto row = [&](const std::string& measure, const std::string& test, const std::string& family,
                   const std::string& unit, int n_group, int n_control) {
      StatsRow r;
      r.group = g, r.control = result.control, r.measure = measure, r.test = test, r.family = family;
      r.unit = unit, r.n_group = n_group, r.n_control = n_control;
      if (!enough) r.note = short_note;
      return r;
    };
    auto animal_tests = [&](const std::string& measure, const AnimalNeurons& ga, const AnimalNeurons& ca) {
      const std::vector<double> a = animal_means(ga), c = animal_means(ca);
      StatsRow w = row(measure, "welch_t", "inferential", "animals", na, nc);
      StatsRow u = row(measure, "mann_whitney_u", "inferential", "animals", na, nc);
      StatsRow h = row(measure, "hedges_g", "effect_size", "animals", na, nc);
      if (enough) {
        const TestResult tw = welch_t_test(a, c);
        w.estimate = mean(a) - mean(c), w.statistic = tw.statistic, w.df = tw.df, w.p_value = tw.p_value;
        w.method = tw.method, w.note = tw.note;
        const TestResult tu = mann_whitney_u(a, c);
        u.statistic = tu.statistic, u.p_value = tu.p_value, u.method = tu.method, u.note = tu.note;
        const EffectSize e = hedges_g(a, c);
        h.estimate = e.g, h.ci_low = e.ci_low, h.ci_high = e.ci_high, h.method = "approximate normal CI";
        if (std::isnan(e.g)) h.note = "no variance";
      }
      result.rows.push_back(w);
      result.rows.push_back(u);
      result.rows.push_back(h);
    };

    const auto density = [](const NeuronRecord& n) { return n.density_per_um(); };
    const AnimalNeurons gd = neuron_values(data, group_animals, density);
    const AnimalNeurons cd = neuron_values(data, control_animals, density);
    animal_tests("density_per_um", gd, cd);

    StatsRow diff = row("density_per_um", "hierarchical_bootstrap_difference", "effect_size", "animals", na, nc);
    StatsRow ratio = row("density_per_um", "hierarchical_bootstrap_ratio", "effect_size", "animals", na, nc);
    if (enough) {
      // Each comparison draws from its own stream: results do not depend on the other groups present.
      const BootstrapResult b = hierarchical_bootstrap(gd, cd, options.bootstrap, options.seed ^ name_hash(g));
      diff.estimate = b.difference, diff.ci_low = b.difference_low, diff.ci_high = b.difference_high;
      ratio.estimate = b.ratio, ratio.ci_low = b.ratio_low, ratio.ci_high = b.ratio_high;
      diff.method = ratio.method = std::to_string(b.replicates) + " resamples of animals then neurons, seed " +
                                   std::to_string(options.seed) + ", 95 % percentile CI";
    }
    result.rows.push_back(diff);
    result.rows.push_back(ratio);

    auto lmm_row = [&](const MixedModelFit& fit, const std::string& test, const std::string& family,
                       const std::string& unit) {
      StatsRow r = row("density_per_um", test, family, unit, 0, 0);
      for (const auto& n : data.neurons) {
        if (n.group == g) ++r.n_group;
        if (n.group == result.control) ++r.n_control;
      }
      if (unit == "dendrites") {
        r.n_group = r.n_control = 0;
        for (const auto& [n, d] : data.dendrite_densities) {
          if (data.neurons[n].group == g) ++r.n_group;
          if (data.neurons[n].group == result.control) ++r.n_control;
        }
      }
      if (fit.n_obs == 0 || !model_term.count(g)) {
        if (r.note.empty()) r.note = "model not fitted";
        return r;
      }
      const int k = model_term[g];
      r.estimate = fit.beta[k];
      r.statistic = fit.z[k];
      r.method = "REML; Wald t = coefficient / SE with df = animals - groups; 95 % CI from that t";
      if (fit.boundary) r.method += "; a variance component is 0";
      if (enough && model_df >= 1) {
        r.df = model_df;
        r.p_value = std::min(1.0, 2.0 * student_t_sf(std::fabs(fit.z[k]), model_df));
        const double half = student_t_quantile(0.975, model_df) * fit.se[k];
        r.ci_low = fit.beta[k] - half;
        r.ci_high = fit.beta[k] + half;
      }
      return r;
    };
    result.rows.push_back(lmm_row(result.lmm, "lmm_reml", "inferential", "neurons"));
    if (result.lmm_nested.n_obs > 0)
      result.rows.push_back(lmm_row(result.lmm_nested, "lmm_reml_neuron_nested", "sensitivity", "dendrites"));

    if (have_types) {
      for (int k = 0; k < kSpineTypes; ++k) {
        const auto type_density = [k](const NeuronRecord& n) { return n.type_counts[k] / n.length_um; };
        animal_tests(std::string("density_") + kSpineTypeNames[k] + "_per_um",
                     neuron_values(data, group_animals, type_density), neuron_values(data, control_animals, type_density));
      }
    }

    const auto hg = data.head_diameters_um.find(g), hc = data.head_diameters_um.find(result.control);
    if (hg != data.head_diameters_um.end() && hc != data.head_diameters_um.end()) {
      StatsRow ks = row("head_diameter_um", "kolmogorov_smirnov", "descriptive", "spines",
                        static_cast<int>(hg->second.size()), static_cast<int>(hc->second.size()));
      const TestResult t = ks_2samp(hg->second, hc->second);
      ks.estimate = quantile(hg->second, 0.5) - quantile(hc->second, 0.5);
      ks.statistic = t.statistic, ks.p_value = t.p_value;
      ks.method = t.method + "; DESCRIPTIVE: spines are not independent (nested in neurons and animals)";
      ks.note = enough ? "" : short_note;
      result.rows.push_back(ks);
    }
  }

  // ---- Benjamini–Hochberg within each family ----
  std::set<std::string> families;
  for (const auto& r : result.rows) families.insert(r.family);
  for (const auto& f : families) {
    std::vector<double> p;
    std::vector<std::size_t> where;
    for (std::size_t i = 0; i < result.rows.size(); ++i)
      if (result.rows[i].family == f) p.push_back(result.rows[i].p_value), where.push_back(i);
    const std::vector<double> adj = benjamini_hochberg(p);
    for (std::size_t i = 0; i < where.size(); ++i) result.rows[where[i]].p_adjusted = adj[i];
  }
  return result;
}

namespace {

Json number_or_null(double v) { return std::isfinite(v) ? Json(v) : Json(); }

Json fit_json(const MixedModelFit& fit, const std::vector<std::string>& terms) {
  Json j = Json::object();
  if (fit.n_obs == 0) return j;
  j.set("n_obs", fit.n_obs).set("n_animals", fit.n_animals);
  if (fit.n_neurons > 0) j.set("n_neurons", fit.n_neurons);
  Json coef = Json::array();
  for (std::size_t i = 0; i < fit.beta.size(); ++i) {
    Json c = Json::object();
    c.set("term", i < terms.size() ? terms[i] : std::to_string(i)).set("estimate", fit.beta[i]);
    c.set("se", number_or_null(fit.se[i])).set("z", number_or_null(fit.z[i]));
    c.set("p_normal", number_or_null(fit.p_normal[i]));
    coef.push(c);
  }
  j.set("coefficients", coef);
  j.set("var_animal", fit.var_animal).set("var_neuron", number_or_null(fit.var_neuron));
  j.set("var_residual", fit.var_residual).set("reml_log_likelihood", fit.reml_log_likelihood);
  j.set("variance_component_on_boundary", fit.boundary);
  return j;
}

const char* kCsvHeader =
    "comparison,group,control,measure,test,family,unit,n_group,n_control,n_animals_group,n_animals_control,"
    "estimate,ci_low,ci_high,statistic,df,p_value,p_adjusted_bh,method,note\n";

}  // namespace

void write_stats(const std::string& dir, const StatsResult& result) {
  std::map<std::string, const GroupSummary*> summary;
  for (const auto& s : result.summaries) summary[s.group] = &s;
  auto num = [](double v) { return std::isfinite(v) ? format_number(v, 10) : std::string(); };
  std::string csv = kCsvHeader;
  Json rows = Json::array();
  for (const auto& r : result.rows) {
    const int ag = summary.count(r.group) ? summary[r.group]->animals : 0;
    const int ac = summary.count(r.control) ? summary[r.control]->animals : 0;
    csv += csv_field(r.comparison()) + "," + csv_field(r.group) + "," + csv_field(r.control) + "," + r.measure + "," +
           r.test + "," + r.family + "," + r.unit + "," + std::to_string(r.n_group) + "," +
           std::to_string(r.n_control) + "," + std::to_string(ag) + "," + std::to_string(ac) + "," + num(r.estimate) +
           "," + num(r.ci_low) + "," + num(r.ci_high) + "," + num(r.statistic) + "," + num(r.df) + "," +
           num(r.p_value) + "," + num(r.p_adjusted) + "," + csv_field(r.method) + "," + csv_field(r.note) + "\n";
    Json j = Json::object();
    j.set("comparison", r.comparison()).set("group", r.group).set("control", r.control).set("measure", r.measure);
    j.set("test", r.test).set("family", r.family).set("unit", r.unit).set("n_group", r.n_group);
    j.set("n_control", r.n_control).set("n_animals_group", ag).set("n_animals_control", ac);
    j.set("estimate", number_or_null(r.estimate)).set("ci_low", number_or_null(r.ci_low));
    j.set("ci_high", number_or_null(r.ci_high)).set("statistic", number_or_null(r.statistic));
    j.set("df", number_or_null(r.df)).set("p_value", number_or_null(r.p_value));
    j.set("p_adjusted_bh", number_or_null(r.p_adjusted)).set("method", r.method).set("note", r.note);
    rows.push(j);
  }

  Json root = Json::object();
  root.set("spinescope_version", SPINESCOPE_VERSION);
  root.set("options", Json::object()
                          .set("control", result.options.control)
                          .set("seed", static_cast<unsigned long>(result.options.seed))
                          .set("bootstrap", result.options.bootstrap));
  root.set("control", result.control).set("control_rule", result.control_rule);
  root.set("design",
           "The animal is the unit of replication: a neuron's density is its spines / its dendrite length (summed "
           "over its stacks and dendrites); an animal's density is the mean of its neurons' densities; Welch t, "
           "Mann-Whitney U and Hedges' g compare animal densities; the hierarchical bootstrap resamples animals "
           "within group, then neurons within animal; the mixed model is density ~ group + (1 | animal) on neurons "
           "(REML), and on dendrites with neuron nested in animal as a sensitivity analysis.");
  root.set("multiple_comparisons",
           "Benjamini-Hochberg within each family: 'inferential' (Welch, Mann-Whitney, mixed model on every "
           "measure and comparison), 'sensitivity' (the nested model), 'descriptive' (Kolmogorov-Smirnov on spines: "
           "spines are not independent, so these p-values describe, they do not test).");
  Json groups = Json::array();
  for (const auto& s : result.summaries) {
    Json g = Json::object();
    g.set("group", s.group).set("is_control", s.group == result.control);
    g.set("n_stacks", s.stacks).set("n_failed_stacks", s.failed_stacks).set("n_animals", s.animals);
    g.set("n_neurons", s.neurons).set("n_dendrites", s.dendrites).set("n_spines", s.spines);
    g.set("dendrite_length_um", s.length_um).set("mean_density_per_um", number_or_null(s.mean_density_per_um));
    g.set("sd_density_per_um_animals", number_or_null(s.sd_animals));
    g.set("ci95_density_per_um", Json::array().push(number_or_null(s.ci_low)).push(number_or_null(s.ci_high)));
    Json types = Json::object();
    for (int k = 0; k < kSpineTypes; ++k) types.set(kSpineTypeNames[k], s.type_counts[k]);
    g.set("type_counts", types);
    Json animals = Json::array();
    for (const auto& [a, d] : s.animal_density)
      animals.push(Json::object().set("animal", a).set("density_per_um", number_or_null(d)));
    g.set("animals", animals);
    groups.push(g);
  }
  root.set("groups", groups);
  std::vector<std::string> terms{"intercept (" + result.control + ")"};
  for (const auto& g : result.data.groups)
    if (g != result.control && std::any_of(result.data.neurons.begin(), result.data.neurons.end(),
                                           [&](const NeuronRecord& n) { return n.group == g; }))
      terms.push_back(g);
  root.set("mixed_model", fit_json(result.lmm, terms));
  root.set("mixed_model_neuron_nested", fit_json(result.lmm_nested, terms));
  root.set("results", rows);
  Json notes = Json::array();
  for (const auto& n : result.notes) notes.push(n);
  root.set("notes", notes);

  write_file_atomic((fs::path(dir) / "stats.csv").string(), csv);
  write_file_atomic((fs::path(dir) / "stats.json").string(), root.dump());
}

StatsResult run_stats(const std::string& dir, const StatsOptions& options) {
  const StatsResult result = compute_stats(read_batch_folder(dir), options);
  write_stats(dir, result);
  write_report_html(dir, result);
  return result;
}

StatsOptions read_recorded_options(const std::string& dir) {
  StatsOptions o;
  std::ifstream in((fs::path(dir) / "stats.json").string());
  if (!in) return o;
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  const std::size_t at = text.find("\"options\"");
  if (at == std::string::npos) return o;
  const std::size_t end = text.find('}', at);
  const std::string block = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
  auto value_after = [&](const std::string& key) -> std::string {
    const std::size_t k = block.find("\"" + key + "\"");
    if (k == std::string::npos) return "";
    std::size_t v = block.find(':', k);
    if (v == std::string::npos) return "";
    ++v;
    while (v < block.size() && block[v] == ' ') ++v;
    if (v < block.size() && block[v] == '"') {
      std::string s;
      for (++v; v < block.size() && block[v] != '"'; ++v) {
        if (block[v] == '\\' && v + 1 < block.size()) ++v;
        s += block[v];
      }
      return s;
    }
    std::size_t e = v;
    while (e < block.size() && (std::isdigit(static_cast<unsigned char>(block[e])))) ++e;
    return block.substr(v, e - v);
  };
  o.control = value_after("control");
  const std::string seed = value_after("seed"), reps = value_after("bootstrap");
  if (!seed.empty()) o.seed = std::stoull(seed);
  if (!reps.empty()) o.bootstrap = std::stoi(reps);
  return o;
}

}  // namespace spinescope::stats
