#pragma once
// Shared helpers of the dendrites tests: render a scene, run preprocess + dendrites, compare with the truth.

#include <cmath>
#include <vector>

#include "spinescope/context.hpp"
#include "spinescope/dendrite_graph.hpp"
#include "spinescope/stage.hpp"
#include "stages/dendrites/dendrites_stage.hpp"
#include "stages/preprocess/preprocess_stage.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope::test {

/// @brief The imaging settings of the geometric tests: anisotropic 0.1 × 0.1 × 0.35 µm, default noise.
inline gen::ImagingConfig test_imaging(std::size_t nx, std::size_t ny, std::size_t nz, std::uint64_t seed = 7) {
  gen::ImagingConfig im;
  im.nx = nx, im.ny = ny, im.nz = nz;
  im.spacing = {0.1, 0.1, 0.35};
  im.seed = seed;
  return im;
}

inline Volume<float> to_float(const Volume<std::uint16_t>& v) {
  Volume<float> out(v.nx(), v.ny(), v.nz(), v.spacing());
  for (std::size_t n = 0; n < v.size(); ++n) out[n] = v[n];
  return out;
}

/// @brief Runs preprocess and dendrites (parameters from @p params) on @p image; returns the context.
inline std::unique_ptr<Context> run_dendrites(Volume<float> image, const ParamSet& params = {}) {
  stages::preprocess::PreprocessStage pre;
  stages::dendrites::DendritesStage den;
  pre.configure(params);
  den.configure(params);
  auto ctx = std::make_unique<Context>();
  ctx->put(artifacts::kImage, std::move(image));
  pre.run(*ctx);
  den.run(*ctx);
  return ctx;
}

inline double distance(const PointUm& a, const PointUm& b) {
  return std::sqrt((a.x_um - b.x_um) * (a.x_um - b.x_um) + (a.y_um - b.y_um) * (a.y_um - b.y_um) +
                   (a.z_um - b.z_um) * (a.z_um - b.z_um));
}

/// @brief @p polyline sampled every <= @p step µm and clipped to the stack box [0, extent].
inline std::vector<PointUm> clip_dense(const std::vector<PointUm>& polyline, const PointUm& extent,
                                       double step = 0.01) {
  std::vector<PointUm> out;
  auto inside = [&](const PointUm& p) {
    return p.x_um >= 0 && p.y_um >= 0 && p.z_um >= 0 && p.x_um <= extent.x_um && p.y_um <= extent.y_um &&
           p.z_um <= extent.z_um;
  };
  for (std::size_t n = 1; n < polyline.size(); ++n) {
    const PointUm a = polyline[n - 1], b = polyline[n];
    const int count = std::max(1, static_cast<int>(std::ceil(distance(a, b) / step)));
    for (int t = 0; t <= count; ++t) {
      const double f = static_cast<double>(t) / count;
      const PointUm p{a.x_um + f * (b.x_um - a.x_um), a.y_um + f * (b.y_um - a.y_um), a.z_um + f * (b.z_um - a.z_um)};
      if (inside(p)) out.push_back(p);
    }
  }
  return out;
}

/// @brief Length of a dense point list (consecutive points closer than @p max_step).
inline double dense_length(const std::vector<PointUm>& p, double max_step = 0.05) {
  double sum = 0.0;
  for (std::size_t n = 1; n < p.size(); ++n) {
    const double d = distance(p[n - 1], p[n]);
    if (d < max_step) sum += d;
  }
  return sum;
}

/// @brief Straight segment a -> b as a polyline of two points.
inline std::vector<PointUm> segment(PointUm a, PointUm b) { return {a, b}; }

/// @brief Centerline agreement: RMS over traced nodes of the distance to the nearest truth point, and the truth
/// length farther than @p cover_um from every traced node.
struct CenterlineMatch {
  double rms_um = 0.0;
  double uncovered_um = 0.0;
  double max_um = 0.0;
};

inline CenterlineMatch match_centerline(const DendriteGraph& graph, const std::vector<PointUm>& truth_dense,
                                        double cover_um = 1.0) {
  CenterlineMatch m;
  double sum2 = 0.0;
  std::size_t count = 0;
  std::vector<PointUm> nodes;
  for (const auto& b : graph.branches)
    for (const auto& n : b.nodes) nodes.push_back({n.x_um, n.y_um, n.z_um});
  for (const auto& p : nodes) {
    double best = 1e300;
    for (const auto& t : truth_dense) best = std::min(best, distance(p, t));
    sum2 += best * best;
    m.max_um = std::max(m.max_um, best);
    ++count;
  }
  m.rms_um = count ? std::sqrt(sum2 / count) : 0.0;
  for (std::size_t n = 1; n < truth_dense.size(); ++n) {
    const double step = distance(truth_dense[n - 1], truth_dense[n]);
    if (step > 0.2) continue;
    double best = 1e300;
    for (const auto& p : nodes) best = std::min(best, distance(p, truth_dense[n]));
    if (best > cover_um) m.uncovered_um += step;
  }
  return m;
}

}  // namespace spinescope::test
