// report.html: a self-contained page of plots (inline SVG), statistics in words and QC.
#include "spinescope/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include <boost/filesystem.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"

namespace spinescope {

namespace {

namespace fs = boost::filesystem;
using stats::GroupSummary;
using stats::StatsResult;
using stats::StatsRow;

const char* const kGroupColours[] = {"#4d4d4d", "#d6604d", "#4393c3", "#5aae61", "#9970ab", "#e08214"};
const char* const kTypeColours[] = {"#fdb863", "#b2182b", "#2166ac", "#1b7837"};  // stubby mushroom thin filopodium

std::string colour(std::size_t group) { return kGroupColours[group % (sizeof kGroupColours / sizeof *kGroupColours)]; }

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Two significant digits, as a biologist reads them: 0.016, 0.24, 3.1, 12.
std::string sig2(double v) {
  if (!std::isfinite(v)) return "–";
  if (v == 0.0) return "0";
  const int decimals = std::max(0, 1 - static_cast<int>(std::floor(std::log10(std::fabs(v)))));
  return fixed(v, std::min(decimals, 6));
}

// Three significant digits (ratios: 1.42×).
std::string sig3(double v) {
  if (!std::isfinite(v)) return "–";
  if (v == 0.0) return "0";
  const int decimals = std::max(0, 2 - static_cast<int>(std::floor(std::log10(std::fabs(v)))));
  return fixed(v, std::min(decimals, 6));
}

std::string p_text(double p) {
  if (!std::isfinite(p)) return "p not defined";
  if (p < 0.001) return "p &lt; 0.001";
  return "p = " + sig2(p);
}

std::string base64(const std::vector<unsigned char>& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const unsigned v = (bytes[i] << 16) | ((i + 1 < bytes.size() ? bytes[i + 1] : 0) << 8) |
                       (i + 2 < bytes.size() ? bytes[i + 2] : 0);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// A downscaled PNG of an overlay as a data URI, or "" when it cannot be read.
std::string thumbnail_uri(const std::string& path, int max_width_px) {
  if (path.empty() || !fs::exists(path)) return "";
  cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
  if (image.empty()) return "";
  if (image.cols > max_width_px) {
    const double f = static_cast<double>(max_width_px) / image.cols;
    cv::resize(image, image, cv::Size(), f, f, cv::INTER_AREA);
  }
  std::vector<unsigned char> png;
  if (!cv::imencode(".png", image, png)) return "";
  return "data:image/png;base64," + base64(png);
}

// A "nice" axis maximum and tick step for values up to @p v.
void axis(double v, double* top, double* step) {
  if (!(v > 0.0)) v = 1.0;
  const double raw = v / 4.0, mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  *step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  *top = std::ceil(v / *step) * *step;
}

std::string count(int n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

// Tick label with the decimals the step needs (0, 0.5, 1.0 -> "0", "0.5", "1.0").
std::string tick(double v, double step) {
  const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return fixed(v, decimals);
}

// Deterministic jitter in [-1, 1] for the i-th point.
double jitter(std::size_t i) { return std::fmod(static_cast<double>(i) * 0.6180339887498949, 1.0) * 2.0 - 1.0; }

std::string density_svg(const StatsResult& r) {
  const double w = 150.0 * std::max<std::size_t>(2, r.summaries.size()) + 80, h = 320, left = 60, bottom = 280, top = 20;
  double vmax = 0.0;
  for (const auto& s : r.summaries) {
    for (const auto& n : s.neuron_density) vmax = std::max(vmax, n.second);
    if (std::isfinite(s.ci_high)) vmax = std::max(vmax, s.ci_high);
  }
  double ytop, ystep;
  axis(vmax * 1.05, &ytop, &ystep);
  auto y = [&](double v) { return bottom - (bottom - top) * v / ytop; };
  std::string svg = "<svg class=\"plot\" width=\"" + fixed(1.6 * w, 0) + "\" viewBox=\"0 0 " + fixed(w, 0) + " " +
                    fixed(h, 0) + "\" role=\"img\" aria-label=\"spine density per group\">\n";
  for (double t = 0; t <= ytop + 1e-9; t += ystep) {
    svg += "<line x1=\"" + fixed(left, 0) + "\" x2=\"" + fixed(w - 10, 0) + "\" y1=\"" + fixed(y(t), 1) + "\" y2=\"" +
           fixed(y(t), 1) + "\" class=\"grid\"/><text x=\"" + fixed(left - 6, 0) + "\" y=\"" + fixed(y(t) + 4, 1) +
           "\" class=\"tick\" text-anchor=\"end\">" + tick(t, ystep) + "</text>\n";
  }
  svg += "<text x=\"14\" y=\"" + fixed((top + bottom) / 2, 0) + "\" class=\"label\" transform=\"rotate(-90 14 " +
         fixed((top + bottom) / 2, 0) + ")\" text-anchor=\"middle\">spines per µm</text>\n";
  for (std::size_t g = 0; g < r.summaries.size(); ++g) {
    const GroupSummary& s = r.summaries[g];
    const double cx = left + 75 + 150.0 * g;
    for (std::size_t i = 0; i < s.neuron_density.size(); ++i)
      if (std::isfinite(s.neuron_density[i].second))
        svg += "<circle cx=\"" + fixed(cx + 28 * jitter(i), 1) + "\" cy=\"" + fixed(y(s.neuron_density[i].second), 1) +
               "\" r=\"2.5\" fill=\"" + colour(g) + "\" opacity=\"0.25\"><title>neuron of " + escape(s.neuron_density[i].first) +
               ": " + fixed(s.neuron_density[i].second, 3) + " /µm</title></circle>\n";
    for (std::size_t a = 0; a < s.animal_density.size(); ++a)
      svg += "<circle cx=\"" + fixed(cx + 16 * jitter(a + 7), 1) + "\" cy=\"" + fixed(y(s.animal_density[a].second), 1) +
             "\" r=\"5\" fill=\"" + colour(g) + "\" stroke=\"white\"><title>animal " + escape(s.animal_density[a].first) +
             ": " + fixed(s.animal_density[a].second, 3) + " /µm</title></circle>\n";
    if (std::isfinite(s.mean_density_per_um)) {
      svg += "<line x1=\"" + fixed(cx - 34, 1) + "\" x2=\"" + fixed(cx + 34, 1) + "\" y1=\"" + fixed(y(s.mean_density_per_um), 1) +
             "\" y2=\"" + fixed(y(s.mean_density_per_um), 1) + "\" stroke=\"black\" stroke-width=\"2.5\"/>\n";
      if (std::isfinite(s.ci_low))
        svg += "<line x1=\"" + fixed(cx + 40, 1) + "\" x2=\"" + fixed(cx + 40, 1) + "\" y1=\"" + fixed(y(std::max(0.0, s.ci_low)), 1) +
               "\" y2=\"" + fixed(y(s.ci_high), 1) + "\" stroke=\"black\" stroke-width=\"1.5\"/>\n";
    }
    svg += "<text x=\"" + fixed(cx, 1) + "\" y=\"" + fixed(bottom + 18, 0) + "\" class=\"label\" text-anchor=\"middle\">" +
           escape(s.group) + "</text><text x=\"" + fixed(cx, 1) + "\" y=\"" + fixed(bottom + 34, 0) +
           "\" class=\"tick\" text-anchor=\"middle\">" + count(s.animals, "animal") + ", " + count(s.neurons, "neuron") +
           "</text>\n";
  }
  svg += "<line x1=\"" + fixed(left, 0) + "\" x2=\"" + fixed(left, 0) + "\" y1=\"" + fixed(top, 0) + "\" y2=\"" +
         fixed(bottom, 0) + "\" class=\"axis\"/>\n</svg>\n";
  return svg;
}

std::string ecdf_svg(const StatsResult& r) {
  const double w = 520, h = 300, left = 50, right = 500, top = 16, bottom = 250;
  double vmax = 0.0;
  for (const auto& [g, v] : r.data.head_diameters_um)
    for (double d : v) vmax = std::max(vmax, d);
  double xtop, xstep;
  axis(vmax, &xtop, &xstep);
  auto x = [&](double v) { return left + (right - left) * v / xtop; };
  auto y = [&](double f) { return bottom - (bottom - top) * f; };
  std::string svg = "<svg class=\"plot\" width=\"" + fixed(1.6 * w, 0) + "\" viewBox=\"0 0 " + fixed(w, 0) + " " +
                    fixed(h, 0) + "\" role=\"img\" aria-label=\"head diameter ECDF per group\">\n";
  for (double t = 0; t <= xtop + 1e-9; t += xstep)
    svg += "<line x1=\"" + fixed(x(t), 1) + "\" x2=\"" + fixed(x(t), 1) + "\" y1=\"" + fixed(top, 0) + "\" y2=\"" +
           fixed(bottom, 0) + "\" class=\"grid\"/><text x=\"" + fixed(x(t), 1) + "\" y=\"" + fixed(bottom + 16, 0) +
           "\" class=\"tick\" text-anchor=\"middle\">" + tick(t, xstep) + "</text>\n";
  for (int k = 0; k <= 4; ++k)
    svg += "<text x=\"" + fixed(left - 6, 0) + "\" y=\"" + fixed(y(k / 4.0) + 4, 1) + "\" class=\"tick\" text-anchor=\"end\">" +
           fixed(k / 4.0, 2) + "</text>\n";
  svg += "<text x=\"" + fixed((left + right) / 2, 0) + "\" y=\"" + fixed(bottom + 36, 0) +
         "\" class=\"label\" text-anchor=\"middle\">head diameter (µm)</text>\n";
  std::size_t legend = 0;
  for (std::size_t g = 0; g < r.data.groups.size(); ++g) {
    const auto it = r.data.head_diameters_um.find(r.data.groups[g]);
    if (it == r.data.head_diameters_um.end() || it->second.empty()) continue;
    std::vector<double> v = it->second;
    std::sort(v.begin(), v.end());
    // At most ~400 steps per curve: enough for the eye, small file.
    const std::size_t stride = std::max<std::size_t>(1, v.size() / 400);
    std::string path = "M" + fixed(x(v.front()), 1) + "," + fixed(y(0), 1);
    for (std::size_t i = 0; i < v.size(); i += stride) {
      const std::size_t last = std::min(v.size() - 1, i + stride - 1);
      path += " H" + fixed(x(v[i]), 1) + " V" + fixed(y(static_cast<double>(last + 1) / v.size()), 1);
    }
    svg += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + colour(g) + "\" stroke-width=\"2\"/>\n";
    const double ly = bottom - 12 - 18.0 * legend;
    svg += "<line x1=\"" + fixed(right - 160, 0) + "\" x2=\"" + fixed(right - 140, 0) + "\" y1=\"" + fixed(ly - 4, 0) +
           "\" y2=\"" + fixed(ly - 4, 0) + "\" stroke=\"" + colour(g) + "\" stroke-width=\"3\"/><text x=\"" +
           fixed(right - 134, 0) + "\" y=\"" + fixed(ly, 0) + "\" class=\"label\">" + escape(r.data.groups[g]) + " (" +
           count(static_cast<int>(v.size()), "spine") + ")</text>\n";
    ++legend;
  }
  svg += "</svg>\n";
  return svg;
}

std::string types_svg(const StatsResult& r) {
  const double w = 560, bar_h = 26, left = 110, right = 520;
  const double h = 40 + bar_h * 1.5 * r.summaries.size() + 30;
  std::string svg = "<svg class=\"plot\" width=\"" + fixed(1.6 * w, 0) + "\" viewBox=\"0 0 " + fixed(w, 0) + " " +
                    fixed(h, 0) + "\" role=\"img\" aria-label=\"spine type fractions per group\">\n";
  for (std::size_t g = 0; g < r.summaries.size(); ++g) {
    const GroupSummary& s = r.summaries[g];
    double total = 0.0;
    for (double c : s.type_counts) total += c;
    const double y0 = 20 + bar_h * 1.5 * g;
    svg += "<text x=\"" + fixed(left - 8, 0) + "\" y=\"" + fixed(y0 + bar_h * 0.65, 1) + "\" class=\"label\" text-anchor=\"end\">" +
           escape(s.group) + "</text>\n";
    double x = left;
    for (int k = 0; k < stats::kSpineTypes && total > 0; ++k) {
      const double f = s.type_counts[k] / total, width = (right - left) * f;
      svg += "<rect x=\"" + fixed(x, 1) + "\" y=\"" + fixed(y0, 1) + "\" width=\"" + fixed(width, 1) + "\" height=\"" +
             fixed(bar_h, 0) + "\" fill=\"" + kTypeColours[k] + "\"><title>" + stats::kSpineTypeNames[k] + ": " +
             fixed(100 * f, 1) + " % (" + fixed(s.type_counts[k], 0) + " spines)</title></rect>\n";
      if (f > 0.07)
        svg += "<text x=\"" + fixed(x + width / 2, 1) + "\" y=\"" + fixed(y0 + bar_h * 0.65, 1) +
               "\" class=\"inbar\" text-anchor=\"middle\">" + fixed(100 * f, 0) + "%</text>\n";
      x += width;
    }
    if (total <= 0)
      svg += "<text x=\"" + fixed(left, 0) + "\" y=\"" + fixed(y0 + bar_h * 0.65, 1) + "\" class=\"tick\">no typed spines</text>\n";
  }
  const double ly = h - 14;
  for (int k = 0; k < stats::kSpineTypes; ++k) {
    const double lx = left + 105.0 * k;
    svg += "<rect x=\"" + fixed(lx, 0) + "\" y=\"" + fixed(ly - 10, 0) + "\" width=\"12\" height=\"12\" fill=\"" +
           kTypeColours[k] + "\"/><text x=\"" + fixed(lx + 16, 0) + "\" y=\"" + fixed(ly, 0) + "\" class=\"tick\">" +
           stats::kSpineTypeNames[k] + "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

const StatsRow* find_row(const StatsResult& r, const std::string& group, const std::string& measure,
                         const std::string& test) {
  for (const auto& row : r.rows)
    if (row.group == group && row.measure == measure && row.test == test) return &row;
  return nullptr;
}

// The headline sentence of one comparison.
std::string sentence(const StatsResult& r, const std::string& group) {
  const StatsRow* welch = find_row(r, group, "density_per_um", "welch_t");
  const StatsRow* ratio = find_row(r, group, "density_per_um", "hierarchical_bootstrap_ratio");
  const StatsRow* lmm = find_row(r, group, "density_per_um", "lmm_reml");
  const StatsRow* mwu = find_row(r, group, "density_per_um", "mann_whitney_u");
  const std::string g = "<b>" + escape(group) + "</b>", c = "<b>" + escape(r.control) + "</b>";
  if (!welch || !ratio) return "";
  if (!welch->note.empty() && !std::isfinite(welch->statistic))
    return "Spine density could not be compared between " + g + " and " + c + ": " + escape(welch->note) + ".";
  std::string s;
  const double f = ratio->estimate;
  if (std::isfinite(f) && f >= 1.0)
    s = "Spine density was " + sig3(f) + "× higher in " + g + " than in " + c + " (95% CI " + sig3(ratio->ci_low) +
        "–" + sig3(ratio->ci_high) + "×; ";
  else if (std::isfinite(f))
    s = "Spine density in " + g + " was " + sig3(f) + "× that in " + c + " (" + fixed(100 * (1 - f), 0) +
        "% lower; 95% CI " + sig3(ratio->ci_low) + "–" + sig3(ratio->ci_high) + "×; ";
  else
    s = "Spine density in " + g + " vs " + c + " (";
  s += "Welch t(" + sig2(welch->df) + ") = " + sig2(welch->statistic) + ", " + p_text(welch->p_value) + ", n = " +
       std::to_string(welch->n_group) + " vs " + std::to_string(welch->n_control) + " animals).";
  if (mwu && std::isfinite(mwu->p_value))
    s += " Mann–Whitney U = " + sig2(mwu->statistic) + ", " + p_text(mwu->p_value) + " (" + mwu->method + ").";
  if (lmm && std::isfinite(lmm->estimate))
    s += " Mixed model (animal as random effect, " + std::to_string(lmm->n_group + lmm->n_control) +
         " neurons): difference " + sig2(lmm->estimate) + " spines/µm (95% CI " + sig2(lmm->ci_low) + " to " +
         sig2(lmm->ci_high) + "), " + p_text(lmm->p_value) + ".";
  if (std::isfinite(welch->p_adjusted))
    s += " Benjamini–Hochberg adjusted p (Welch) = " + sig2(welch->p_adjusted) + ".";
  return s;
}

std::string test_name(const StatsRow& r) {
  if (r.test == "welch_t") return "Welch t-test";
  if (r.test == "mann_whitney_u") return "Mann–Whitney U";
  if (r.test == "hedges_g") return "Hedges' g";
  if (r.test == "hierarchical_bootstrap_difference") return "bootstrap difference";
  if (r.test == "hierarchical_bootstrap_ratio") return "bootstrap ratio";
  if (r.test == "lmm_reml") return "mixed model (neurons)";
  if (r.test == "lmm_reml_neuron_nested") return "mixed model (dendrites, neuron nested)";
  if (r.test == "kolmogorov_smirnov") return "Kolmogorov–Smirnov (DESCRIPTIVE)";
  return r.test;
}

std::string measure_name(const std::string& m) {
  if (m == "density_per_um") return "spine density (/µm)";
  if (m == "head_diameter_um") return "head diameter (µm)";
  if (m.rfind("density_", 0) == 0) return m.substr(8, m.size() - 15) + " density (/µm)";
  return m;
}

const char* kStyle = R"(body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.sub{color:#666}.plot{max-width:100%;height:auto;display:block;margin:1em 0}
.grid{stroke:#eee}.axis{stroke:#888}.tick{font-size:11px;fill:#555}.label{font-size:13px;fill:#222}.inbar{font-size:11px;fill:white}
table{border-collapse:collapse;font-size:.88em;margin:1em 0}th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}tr.failed td{background:#fdecea}
.sentence{background:#f6f8fa;border-left:4px solid #4393c3;padding:.6em 1em;margin:.8em 0}
.thumbs{display:flex;flex-wrap:wrap;gap:12px}.thumb{width:240px;font-size:.8em}.thumb img{width:100%;border:1px solid #ccc}
.note{color:#8a4b00}.desc{color:#666;font-style:italic})";

}  // namespace

std::string render_report_html(const StatsResult& r, const std::string& dir, int thumbnail_px) {
  std::string html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>spinescope report</title>\n<style>\n";
  html += kStyle;
  html += "\n</style>\n</head>\n<body>\n<h1>Dendritic spine report</h1>\n<p class=\"sub\">" + escape(dir) +
          " · spinescope " + SPINESCOPE_VERSION + " · control group: <b>" + escape(r.control) + "</b> (" +
          escape(r.control_rule) + ")</p>\n";

  html += "<h2>Results</h2>\n";
  bool any = false;
  for (const auto& g : r.data.groups) {
    if (g == r.control) continue;
    const std::string s = sentence(r, g);
    if (!s.empty()) html += "<p class=\"sentence\">" + s + "</p>\n", any = true;
  }
  if (!any) html += "<p class=\"note\">Only one group: there is nothing to compare.</p>\n";
  html += "<p class=\"desc\">The animal is the unit of replication: a neuron's density is its spines divided by its "
          "dendrite length; an animal's density is the mean of its neurons; tests compare animals. CIs of the ratio "
          "come from a hierarchical bootstrap (" + std::to_string(r.options.bootstrap) +
          " resamples of animals, then neurons within animal; seed " + std::to_string(r.options.seed) + ").</p>\n";

  html += "<h2>Spine density per group</h2>\n" + density_svg(r) +
          "<p class=\"desc\">Large points: animals (mean of their neurons). Faint points: neurons. Bar: mean of the "
          "animals; whisker: its 95% t confidence interval.</p>\n";

  html += "<h2>Head diameter</h2>\n";
  if (r.data.head_diameters_um.empty()) html += "<p class=\"note\">No spines.csv: no head diameters.</p>\n";
  else
    html += ecdf_svg(r) + "<p class=\"desc\">Empirical cumulative distributions of every spine's head diameter. "
                          "The Kolmogorov–Smirnov p-values below are DESCRIPTIVE: spines of one neuron are not "
                          "independent.</p>\n";

  html += "<h2>Spine types</h2>\n" + types_svg(r);

  html += "<h2>Numbers at every level</h2>\n<table>\n<tr><th>group</th><th>stacks (failed)</th><th>animals</th>"
          "<th>neurons</th><th>dendrites</th><th>spines</th><th>dendrite length (µm)</th>"
          "<th>density /µm: mean of animals [95% CI]</th></tr>\n";
  for (const auto& s : r.summaries)
    html += "<tr><td>" + escape(s.group) + "</td><td class=\"n\">" + std::to_string(s.stacks) + " (" +
            std::to_string(s.failed_stacks) + ")</td><td class=\"n\">" + std::to_string(s.animals) +
            "</td><td class=\"n\">" + std::to_string(s.neurons) + "</td><td class=\"n\">" + std::to_string(s.dendrites) +
            "</td><td class=\"n\">" + fixed(s.spines, 0) + "</td><td class=\"n\">" + fixed(s.length_um, 1) +
            "</td><td class=\"n\">" + fixed(s.mean_density_per_um, 3) + " [" + fixed(s.ci_low, 3) + ", " +
            fixed(s.ci_high, 3) + "]</td></tr>\n";
  html += "</table>\n";

  html += "<h2>All statistics</h2>\n<table>\n<tr><th>comparison</th><th>measure</th><th>test</th><th>n</th>"
          "<th>estimate [95% CI]</th><th>statistic (df)</th><th>p</th><th>p (BH)</th><th>note</th></tr>\n";
  for (const auto& row : r.rows) {
    std::string est = sig2(row.estimate);
    if (std::isfinite(row.ci_low)) est += " [" + sig2(row.ci_low) + ", " + sig2(row.ci_high) + "]";
    std::string stat = sig2(row.statistic);
    if (std::isfinite(row.df)) stat += " (" + sig2(row.df) + ")";
    html += "<tr><td>" + escape(row.comparison()) + "</td><td>" + escape(measure_name(row.measure)) + "</td><td>" +
            escape(test_name(row)) + "</td><td class=\"n\">" + std::to_string(row.n_group) + " vs " +
            std::to_string(row.n_control) + " " + row.unit + "</td><td class=\"n\">" + est + "</td><td class=\"n\">" +
            stat + "</td><td class=\"n\">" + (std::isfinite(row.p_value) ? sig2(row.p_value) : "–") +
            "</td><td class=\"n\">" + (std::isfinite(row.p_adjusted) ? sig2(row.p_adjusted) : "–") + "</td><td>" +
            escape(row.note) + "</td></tr>\n";
  }
  html += "</table>\n<p class=\"desc\">Benjamini–Hochberg adjustment within each family: inferential tests "
          "(Welch, Mann–Whitney, mixed model), the nested-model sensitivity analysis, and the descriptive "
          "Kolmogorov–Smirnov comparisons. Full precision in stats.csv and stats.json.</p>\n";
  if (!r.notes.empty()) {
    html += "<ul>\n";
    for (const auto& n : r.notes) html += "<li class=\"note\">" + escape(n) + "</li>\n";
    html += "</ul>\n";
  }

  html += "<h2>Quality control</h2>\n";
  int failed = 0;
  for (const auto& s : r.data.stacks) failed += s.ok() ? 0 : 1;
  html += "<p>" + std::to_string(r.data.stacks.size()) + " stacks, " + std::to_string(failed) + " failed.</p>\n";
  if (failed > 0) {
    html += "<table>\n<tr><th>stack</th><th>group / animal / neuron</th><th>error</th></tr>\n";
    for (const auto& s : r.data.stacks)
      if (!s.ok())
        html += "<tr class=\"failed\"><td>" + escape(s.stack_id.empty() ? s.path : s.stack_id) + "</td><td>" +
                escape(s.group + " / " + s.animal + " / " + s.neuron) + "</td><td>" + escape(s.error) + "</td></tr>\n";
    html += "</table>\n";
  }
  auto branch_points = [](double n) { return fixed(n, 0) + (n == 1 ? " branch point" : " branch points"); };
  std::vector<const stats::StackRecord*> forked;
  for (const auto& s : r.data.stacks)
    if (s.ok() && s.branch_points > 0) forked.push_back(&s);
  if (!forked.empty()) {
    html += "<p>" + std::to_string(forked.size()) + (forked.size() == 1 ? " stack has" : " stacks have") +
            " a trace that branches. Where the dendrites imaged do not branch, a branch point is where two touched "
            "or crossed, and the length there may be off: check these overlays first (the white rings).</p>\n<ul>\n";
    for (const stats::StackRecord* s : forked)
      html += "<li>" + escape(s->stack_id.empty() ? s->path : s->stack_id) + ": " + branch_points(s->branch_points) +
              "</li>\n";
    html += "</ul>\n";
  }
  html += "<div class=\"thumbs\">\n";
  for (const auto& s : r.data.stacks) {
    if (!s.ok()) continue;
    const std::string uri = s.overlay.empty() ? "" : thumbnail_uri((fs::path(dir) / s.overlay).string(), thumbnail_px);
    html += "<div class=\"thumb\">";
    if (!uri.empty()) html += "<img alt=\"overlay of " + escape(s.stack_id) + "\" src=\"" + uri + "\">";
    else html += "<p class=\"note\">no overlay</p>";
    html += "<div>" + escape(s.stack_id) + " · " + escape(s.group + " / " + s.animal + " / " + s.neuron) + "<br>" +
            fixed(s.spine_count, 0) + " spines on " + fixed(s.dendrite_length_um, 1) + " µm (" +
            fixed(s.dendrite_length_um > 0 ? s.spine_count / s.dendrite_length_um : NAN, 3) + " /µm)" +
            (s.branch_points > 0 ? " · " + branch_points(s.branch_points) : "") +
            "</div></div>\n";
  }
  html += "</div>\n</body>\n</html>\n";
  return html;
}

void write_report_html(const std::string& dir, const StatsResult& result) {
  write_file_atomic((fs::path(dir) / "report.html").string(), render_report_html(result, dir));
}

}  // namespace spinescope
