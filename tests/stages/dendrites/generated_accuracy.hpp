#pragma once
// Dendrite accuracy on generated stacks (shared by the CI test and the dendrite_accuracy program).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dendrite_test_util.hpp"

namespace spinescope::test {

struct StackAccuracy {
  double truth_um = 0.0, traced_um = 0.0;
  double length_error = 0.0;  ///< (traced - truth) / truth
  double rms_um = 0.0, max_um = 0.0;
  double uncovered_um = 0.0;
  int dendrites_true = 0, dendrites_traced = 0;
  int branch_points = 0;  ///< of the trace (the generator's dendrites never branch)
  double outside_um = 0.0;  ///< how far the farthest traced node lies outside the stack (0: none does)
  /// One per true end (two per dendrite): where the trace ends against it, along the true path (µm; < 0 short).
  struct End {
    bool at_face = false;   ///< the dendrite leaves the stack here (else: its tip inside)
    double face_cos = 1.0;  ///< |cos| of the angle between the dendrite's last 1 µm and the face's normal
    bool matched = false;   ///< a traced branch ends within kEndMatchUm
    double error_um = 0.0;  ///< signed: beyond the true end (> 0) or short of it along the true path (< 0)
  };
  std::vector<End> ends;
  double face_ends_um = 0.0, tip_ends_um = 0.0;  ///< sums of the matched ends' errors
};

/// A true end and a traced one farther apart than this (µm) are not matched.
constexpr double kEndMatchUm = 3.0;

/// @brief The true ends of @p centerline against the traced branch ends @p traced_ends, in the box [0, @p box].
inline void measure_ends(const std::vector<PointUm>& centerline, const std::vector<PointUm>& traced_ends,
                         const double box[3], std::vector<StackAccuracy::End>* ends) {
  if (centerline.size() < 2) return;
  std::vector<double> arc(centerline.size(), 0.0);
  for (std::size_t n = 1; n < centerline.size(); ++n) arc[n] = arc[n - 1] + distance(centerline[n - 1], centerline[n]);
  auto coord = [](const PointUm& p, int a) { return a == 0 ? p.x_um : a == 1 ? p.y_um : p.z_um; };
  for (int which = 0; which < 2; ++which) {
    const std::size_t at = which == 0 ? 0 : centerline.size() - 1;
    const PointUm& e = centerline[at];
    // Outward direction over the last 1 µm.
    std::size_t in = at;
    while (in != (which == 0 ? centerline.size() - 1 : 0) && std::abs(arc[in] - arc[at]) < 1.0)
      in += which == 0 ? 1 : -1;
    const double span = distance(e, centerline[in]);
    double out[3] = {0, 0, 0};
    for (int a = 0; a < 3 && span > 0; ++a) out[a] = (coord(e, a) - coord(centerline[in], a)) / span;
    StackAccuracy::End end;
    for (int a = 0; a < 3; ++a)
      if (std::min(coord(e, a), box[a] - coord(e, a)) < 0.02) end.at_face = true, end.face_cos = std::abs(out[a]);
    double nearest = 1e300;
    const PointUm* q = nullptr;
    for (const PointUm& t : traced_ends)
      if (distance(t, e) < nearest) nearest = distance(t, e), q = &t;
    if (q && nearest <= kEndMatchUm) {
      end.matched = true;
      double along = 0.0;
      for (int a = 0; a < 3; ++a) along += (coord(*q, a) - coord(e, a)) * out[a];
      if (along > 0) {
        end.error_um = along;
      } else {  // short: the arc from the true end to the true point nearest the traced end
        std::size_t best = at;
        for (std::size_t n = 0; n < centerline.size(); ++n)
          if (distance(centerline[n], *q) < distance(centerline[best], *q)) best = n;
        end.error_um = -std::abs(arc[best] - arc[at]);
      }
    }
    ends->push_back(end);
  }
}

/// @brief Generates a stack (default noise) with @p seed and size, runs preprocess + dendrites and compares.
/// @p ends_inside: the generator's chance that a dendrite ends inside the stack; @p touch_only: dendrites touch
/// but never pass through one another (the generator's default; false: the interpenetrating scenes of earlier
/// sessions, seed for seed).
inline StackAccuracy measure_generated(std::uint64_t seed, std::size_t nx, std::size_t ny, std::size_t nz,
                                       double ends_inside = 0.0, bool touch_only = true) {
  gen::GeneratorConfig cfg;
  cfg.ends_inside_fraction = ends_inside;
  cfg.touch_only = touch_only;
  cfg.imaging.nx = nx, cfg.imaging.ny = ny, cfg.imaging.nz = nz;
  cfg.imaging.seed = seed;
  const gen::GeneratedStack stack = gen::generate_stack(cfg);
  const auto ctx = run_dendrites(to_float(stack.image));
  const auto& g = ctx->get<DendriteGraph>(artifacts::kDendriteGraph);
  StackAccuracy a;
  std::vector<PointUm> truth;
  for (const auto& d : stack.dendrites) {
    a.truth_um += d.length_um;
    truth.insert(truth.end(), d.centerline.begin(), d.centerline.end());
    truth.push_back({-1e9, -1e9, -1e9});  // a break between dendrites (never nearest, never a step)
  }
  a.traced_um = g.total_length_um();
  a.length_error = a.truth_um > 0 ? (a.traced_um - a.truth_um) / a.truth_um : 0.0;
  const CenterlineMatch m = match_centerline(g, truth);
  a.rms_um = m.rms_um, a.max_um = m.max_um, a.uncovered_um = m.uncovered_um;
  a.dendrites_true = static_cast<int>(stack.dendrites.size());
  a.dendrites_traced = static_cast<int>(g.dendrite_ids().size());
  a.branch_points = static_cast<int>(g.branch_points().size());
  const double box[3] = {stack.image.extent_x_um(), stack.image.extent_y_um(), stack.image.extent_z_um()};
  std::vector<PointUm> traced_ends;
  for (const auto& b : g.branches)
    if (!b.nodes.empty())
      for (const auto* n : {&b.nodes.front(), &b.nodes.back()}) traced_ends.push_back({n->x_um, n->y_um, n->z_um});
  for (const auto& d : stack.dendrites) measure_ends(d.centerline, traced_ends, box, &a.ends);
  for (const auto& end : a.ends)
    if (end.matched) (end.at_face ? a.face_ends_um : a.tip_ends_um) += end.error_um;
  for (const auto& b : g.branches)
    for (const auto& n : b.nodes) {
      const double at[3] = {n.x_um, n.y_um, n.z_um};
      for (int axis = 0; axis < 3; ++axis)
        a.outside_um = std::max({a.outside_um, -at[axis], at[axis] - box[axis]});
    }
  if (const char* dir = std::getenv("SPINESCOPE_ACCURACY_DUMP")) {  // truth and traced points, for plots
    const std::string prefix = std::string(dir) + "/seed" + std::to_string(seed);
    if (std::FILE* f = std::fopen((prefix + "_truth.csv").c_str(), "w")) {
      for (const auto& d : stack.dendrites)
        for (const auto& p : d.centerline) std::fprintf(f, "%d,%.4f,%.4f,%.4f\n", d.dendrite_id, p.x_um, p.y_um, p.z_um);
      std::fclose(f);
    }
    if (std::FILE* f = std::fopen((prefix + "_traced.csv").c_str(), "w")) {
      for (const auto& b : g.branches)
        for (const auto& n : b.nodes)
          std::fprintf(f, "%d,%d,%.4f,%.4f,%.4f,%.3f\n", b.id, b.dendrite_id, n.x_um, n.y_um, n.z_um, n.radius_um);
      std::fclose(f);
    }
  }
  if (std::getenv("SPINESCOPE_ACCURACY_DETAIL"))
    for (const auto& d : stack.dendrites) std::fprintf(stderr, "  truth dendrite %d: %.2f um\n", d.dendrite_id, d.length_um);
  if (std::getenv("SPINESCOPE_ACCURACY_DETAIL"))
    for (const auto& b : g.branches) {
      double worst = 0.0;
      for (const auto& n : b.nodes) {
        double best = 1e300;
        for (const auto& t : truth) best = std::min(best, distance({n.x_um, n.y_um, n.z_um}, t));
        worst = std::max(worst, best);
      }
      std::fprintf(stderr, "  branch %d dendrite %d parent %d length %.2f um, farthest node %.2f um from truth, "
                   "from (%.1f %.1f %.1f) to (%.1f %.1f %.1f)\n", b.id, b.dendrite_id, b.parent_branch, b.length_um(),
                   worst, b.nodes.front().x_um, b.nodes.front().y_um, b.nodes.front().z_um, b.nodes.back().x_um,
                   b.nodes.back().y_um, b.nodes.back().z_um);
    }
  return a;
}

}  // namespace spinescope::test
