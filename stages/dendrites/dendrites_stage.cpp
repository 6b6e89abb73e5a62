#include "stages/dendrites/dendrites_stage.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include "spinescope/dendrite_graph.hpp"
#include "spinescope/errors.hpp"
#include "spinescope/filters.hpp"
#include "stages/dendrites/shaft.hpp"
#include "stages/dendrites/skeleton.hpp"
#include "stages/dendrites/tubularity.hpp"

namespace spinescope::stages::dendrites {
namespace {

// Nodes this close to an interpolated crossing stretch keep off the (two dendrites') intensity.
constexpr double kCrossingKeepUm = 0.4;

// Median-based background level and noise SD (the dendrite fills a small fraction of a stack).
void background_stats(const Volume<float>& v, double* level, double* noise) {
  const std::vector<double> p = sampled_percentiles(v, {25.0, 50.0});
  *level = p[1];
  *noise = (p[1] - p[0]) / 0.6745;
}

Volume<std::uint8_t> threshold(const Volume<float>& v, float level) {
  Volume<std::uint8_t> out(v.nx(), v.ny(), v.nz(), v.spacing(), 0);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, v.nz()), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      const float* s = v.slice(k);
      std::uint8_t* o = out.slice(k);
      for (std::size_t n = 0; n < v.plane_size(); ++n) o[n] = s[n] >= level;
    }
  });
  return out;
}

}  // namespace

const StageSpec& DendritesStage::spec() const {
  static const StageSpec s = [] {
    StageSpec spec;
    spec.name = "dendrites";
    spec.summary = "traces dendrites: foreground, Hessian tubularity, skeleton, branches with radii, shaft mask";
    spec.requires_artifacts = {artifacts::kPreprocessed};
    spec.provides_artifacts = {artifacts::kForeground, artifacts::kShaftMask, artifacts::kDendriteGraph,
                               artifacts::kSpineCandidates};
    spec.params = {
        real_param("min_radius_um", 0.3, 0.05, 5.0, "um", "thinnest dendrite radius the tubularity looks for"),
        real_param("max_radius_um", 2.0, 0.1, 10.0, "um", "thickest dendrite radius the tubularity looks for"),
        integer_param("scales", 3, 1, 8, "tubularity scales between min_radius_um and max_radius_um"),
        real_param("foreground_threshold", 0.2, 0.01, 10.0, "normalised",
                   "preprocessed intensity that is neuron (1 = bright dendrite)"),
        real_param("noise_factor", 5.0, 0.0, 100.0, "noise SD",
                   "the foreground threshold is at least this many background noise SDs"),
        real_param("tubularity_threshold", 0.05, 0.0, 10.0, "normalised",
                   "scale-normalised tube response that adds dim voxels (down to half the threshold) to the "
                   "foreground; 0 = intensity only"),
        real_param("trace_spacing_um", 0.2, 0.05, 1.0, "um",
                   "lateral voxel size of the grid the tubularity and skeleton use (x/y halved until reached)"),
        real_param("max_spine_length_um", 3.0, 0.5, 10.0, "um",
                   "terminal side branches protruding less than this from the shaft are spines, not dendrite"),
        real_param("gap_um", 1.0, 0.0, 10.0, "um", "largest gap bridged between two aligned dendrite pieces"),
        real_param("smoothing_um", 1.0, 0.0, 10.0, "um", "moving-average window along the centerline"),
        real_param("min_dendrite_length_um", 5.0, 0.0, 10000.0, "um",
                   "connected pieces shorter than this are dropped (puncta, debris)"),
        real_param("shaft_margin_um", 0.1, 0.0, 2.0, "um", "the shaft mask reaches this far beyond the shaft edge"),
        real_param("crossing_angle_deg", 50.0, 5.0, 90.0, "deg",
                   "largest bend paired as one dendrite's straight continuation at a crossing"),
    };
    spec.reference =
        "Sato et al. 1998 doi:10.1016/S1361-8415(98)80009-1; Bertrand & Malandain 1994 "
        "doi:10.1016/0167-8655(94)90046-9";
    return spec;
  }();
  return s;
}

void DendritesStage::on_configure(const ResolvedParams& p) {
  DendritesOptions& o = options_;
  o.min_radius_um = p.real("min_radius_um");
  o.max_radius_um = p.real("max_radius_um");
  if (o.min_radius_um > o.max_radius_um)
    throw ParameterError("dendrites", "min_radius_um", p.as_text().at("min_radius_um"),
                         "must not exceed max_radius_um (" + p.as_text().at("max_radius_um") + ")");
  o.scales = static_cast<int>(p.integer("scales"));
  o.foreground_threshold = p.real("foreground_threshold");
  o.noise_factor = p.real("noise_factor");
  o.tubularity_threshold = p.real("tubularity_threshold");
  o.trace_spacing_um = p.real("trace_spacing_um");
  o.shaft_margin_um = p.real("shaft_margin_um");
  o.trace.max_spine_length_um = p.real("max_spine_length_um");
  o.trace.gap_um = p.real("gap_um");
  o.trace.smoothing_um = p.real("smoothing_um");
  o.trace.min_dendrite_length_um = p.real("min_dendrite_length_um");
  o.trace.crossing_angle_deg = p.real("crossing_angle_deg");
}

void DendritesStage::run(Context& ctx) const {
  const DendritesOptions& o = options_;
  const Volume<float>& pre = ctx.get<Volume<float>>(artifacts::kPreprocessed);
  if (pre.empty()) throw StageError("dendrites", "the preprocessed image is empty");
  if (!pre.spacing().valid()) throw StageError("dendrites", "the preprocessed image has no valid voxel size");

  // Tracing grid: a dendrite is >= 0.6 µm across, so ~0.2 µm lateral sampling loses nothing and is 4x smaller.
  Volume<float> coarse;
  const Volume<float>* grid = &pre;
  while (grid->spacing().x_um * 2.0 <= o.trace_spacing_um * 1.001 &&
         grid->spacing().y_um * 2.0 <= o.trace_spacing_um * 1.001 && grid->nx() >= 8 && grid->ny() >= 8) {
    Volume<float> next = decimate_xy2(*grid);
    coarse = std::move(next);
    grid = &coarse;
  }
  ctx.report_progress(0.05);

  Volume<float> intensity = *grid;
  const double detail_um = 0.5 * o.min_radius_um;
  gaussian_blur(intensity, detail_um, detail_um, detail_um);
  double level = 0.0, noise = 0.0;
  background_stats(intensity, &level, &noise);
  const float fg_level = static_cast<float>(std::max(o.foreground_threshold, level + o.noise_factor * noise));
  Volume<std::uint8_t> mask = threshold(intensity, 0.5f * fg_level);
  ctx.report_progress(0.15);
  if (o.tubularity_threshold > 0.0) {
    const Volume<float> tube =
        tubularity(*grid, tube_sigmas_um(o.min_radius_um, o.max_radius_um, o.scales), &mask);
    const float tube_level = static_cast<float>(o.tubularity_threshold);
    for (std::size_t n = 0; n < mask.size(); ++n) mask[n] = intensity[n] >= fg_level || (mask[n] && tube[n] >= tube_level);
  } else {
    for (std::size_t n = 0; n < mask.size(); ++n) mask[n] = intensity[n] >= fg_level;
  }
  intensity = Volume<float>();
  coarse = Volume<float>();
  ctx.report_progress(0.55);

  // The mask before thinning: the tracer measures the local radius at skeleton voxels in it (far cheaper than a
  // distance map of the whole grid).
  const Volume<std::uint8_t> object = mask;
  thin_to_skeleton(mask, true);
  ctx.report_progress(0.7);
  const PointUm box{pre.extent_x_um(), pre.extent_y_um(), pre.extent_z_um()};
  TraceResult traced = trace_skeleton(mask, object, box, o.trace);
  ctx.report_progress(0.8);

  // Full-resolution foreground: its own noise level (less smoothing than the tracing grid).
  double full_level = 0.0, full_noise = 0.0;
  background_stats(pre, &full_level, &full_noise);
  const float full_fg_level =
      static_cast<float>(std::max(o.foreground_threshold, full_level + o.noise_factor * full_noise));
  Volume<std::uint8_t> foreground = threshold(pre, full_fg_level);
  measure_radii(traced.graph, pre, full_fg_level, o.max_radius_um);
  std::vector<std::vector<char>> keep = nodes_near(traced.graph, traced.crossing_points, kCrossingKeepUm);
  const auto fixed = nodes_near(traced.graph, traced.merged_points, kCrossingKeepUm);
  for (std::size_t b = 0; b < keep.size(); ++b)
    for (std::size_t n = 0; n < keep[b].size(); ++n)
      if (fixed[b][n]) keep[b][n] = 2;
  refine_centerline(traced.graph, pre, o.trace.smoothing_um, 2, keep);
  const auto fg_radii = measure_radii(traced.graph, pre, full_fg_level, o.max_radius_um);
  ctx.report_progress(0.9);
  Volume<std::uint8_t> shaft = rasterize_shaft(traced.graph, fg_radii, foreground, o.shaft_margin_um);

  ctx.put(artifacts::kForeground, std::move(foreground));
  ctx.put(artifacts::kShaftMask, std::move(shaft));
  ctx.put(artifacts::kDendriteGraph, std::move(traced.graph));
  ctx.put(artifacts::kSpineCandidates, std::move(traced.candidates));
}

}  // namespace spinescope::stages::dendrites
