#pragma once
// Test scenes for the spines and classify stages: one straight dendrite along x rendered through the
// generator's PSF and camera, with the inputs the dendrite stage would hand over built by hand from the known
// geometry (so these tests do not depend on the dendrite stage's quality).

#include <cmath>
#include <string>
#include <vector>

#include "spinescope/context.hpp"
#include "spinescope/dendrite_graph.hpp"
#include "spinescope/stage.hpp"
#include "spinescope/volume.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope::testing {

/// Gaussian denoising (µm) applied like the preprocess stage's default.
inline constexpr double kDenoiseSigmaUm = 0.1;

/// A spine of the scene with its true geometry (µm).
struct TrueSpine {
  std::string type;
  PointUm base;  // on the shaft surface
  PointUm head;  // head centre (the tip for a filopodium)
  double head_diameter_um = 0;
};

struct SpineScene {
  gen::Scene scene;
  gen::ImagingConfig imaging;
  double shaft_radius_um = 0.6;
  double shaft_y_um = 0, shaft_z_um = 0;  // the dendrite runs along x at this y, z
  std::vector<TrueSpine> truth;

  /// A dendrite along x across the stack, centred in y and z, at anisotropic spacing 0.1 x 0.1 x 0.35 µm.
  SpineScene(std::size_t nx, std::size_t ny, std::size_t nz, std::uint64_t seed = 7) {
    imaging.nx = nx, imaging.ny = ny, imaging.nz = nz;
    imaging.spacing = {0.1, 0.1, 0.35};
    imaging.attenuation_length_um = 0;
    imaging.seed = seed;
    shaft_y_um = 0.5 * (ny - 1) * imaging.spacing.y_um;
    shaft_z_um = 0.5 * (nz - 1) * imaging.spacing.z_um;
    const double x_end = (nx - 1) * imaging.spacing.x_um;
    scene.tubes.push_back({{{-1.0, shaft_y_um, shaft_z_um}, {x_end + 1.0, shaft_y_um, shaft_z_um}},
                           {shaft_radius_um, shaft_radius_um}, 1.0});
  }

  /// A spine leaving the shaft at x along unit direction (dy, dz) in the y-z plane: a neck tube of
  /// @p neck_length_um and @p neck_width_um, then a head ball (head_diameter_um 0: no head, the neck is the
  /// whole protrusion). The neck starts inside the shaft so that it is attached.
  void add_spine(const std::string& type, double x_um, double dy, double dz, double neck_length_um,
                 double neck_width_um, double head_diameter_um, double neck_brightness = 1.0) {
    const double n = std::sqrt(dy * dy + dz * dz);
    dy /= n, dz /= n;
    auto at = [&](double r) { return PointUm{x_um, shaft_y_um + r * dy, shaft_z_um + r * dz}; };
    const double r0 = shaft_radius_um;
    TrueSpine t;
    t.type = type;
    t.base = at(r0);
    if (neck_length_um > 0)
      scene.tubes.push_back({{at(r0 - 0.2), at(r0 + neck_length_um)}, {0.5 * neck_width_um, 0.5 * neck_width_um},
                             neck_brightness});
    if (head_diameter_um > 0) {
      scene.balls.push_back({at(r0 + neck_length_um + 0.5 * head_diameter_um), 0.5 * head_diameter_um, 1.0});
      t.head = at(r0 + neck_length_um + 0.5 * head_diameter_um);
    } else {
      t.head = at(r0 + neck_length_um);
    }
    t.head_diameter_um = head_diameter_um > 0 ? head_diameter_um : neck_width_um;
    truth.push_back(t);
  }

  /// A stubby spine: a short capsule as wide as it is long.
  void add_stubby(double x_um, double dy, double dz, double length_um, double width_um) {
    const double n = std::sqrt(dy * dy + dz * dz);
    dy /= n, dz /= n;
    auto at = [&](double r) { return PointUm{x_um, shaft_y_um + r * dy, shaft_z_um + r * dz}; };
    const double r0 = shaft_radius_um, w = 0.5 * width_um;
    scene.tubes.push_back({{at(r0 - w), at(r0 + length_um - w)}, {w, w}, 1.0});
    truth.push_back({"stubby", at(r0), at(r0 + length_um - w), width_um});
  }

  /// Renders (with photon noise unless @p noise is false) and builds the context the spines stage expects:
  /// preprocessed (photons above the haze / photons of a filled voxel, smoothed by kDenoiseSigmaUm and recorded
  /// as preprocess.denoise_sigma_um in the stack info), foreground (>= @p threshold), the shaft
  /// mask (foreground within shaft radius + @p shaft_margin_um of the axis laterally, 3.5 times that margin
  /// axially), a one-branch graph, no candidates.
  Context make_context(bool noise = true, double threshold = 0.25, double shaft_margin_um = 0.1) const;
};

/// One spine of each type on a 15 µm dendrite, one of them pointing along the optical axis.
inline SpineScene four_types_scene() {
  SpineScene s(150, 80, 30);
  s.add_spine("mushroom", 2.0, 1, 0, 0.7, 0.16, 0.7);
  s.add_spine("thin", 4.5, -1, 0, 0.9, 0.14, 0.32);
  s.add_stubby(7.0, 1, 0, 0.5, 0.6);
  s.add_spine("filopodium", 9.5, -1, 0, 2.0, 0.18, 0.0);
  s.add_spine("mushroom", 12.0, 0, 1, 0.8, 0.16, 0.7);  // along z
  return s;
}

/// Distance between two points (µm).
inline double distance_um(const PointUm& a, const PointUm& b) {
  return std::sqrt((a.x_um - b.x_um) * (a.x_um - b.x_um) + (a.y_um - b.y_um) * (a.y_um - b.y_um) +
                   (a.z_um - b.z_um) * (a.z_um - b.z_um));
}

/// Distance (µm) from @p p to the segment @p a - @p b.
inline double distance_to_segment_um(const PointUm& p, const PointUm& a, const PointUm& b) {
  const double ux = b.x_um - a.x_um, uy = b.y_um - a.y_um, uz = b.z_um - a.z_um;
  const double len2 = ux * ux + uy * uy + uz * uz;
  double t = len2 > 0 ? ((p.x_um - a.x_um) * ux + (p.y_um - a.y_um) * uy + (p.z_um - a.z_um) * uz) / len2 : 0;
  t = t < 0 ? 0 : (t > 1 ? 1 : t);
  return distance_um(p, {a.x_um + t * ux, a.y_um + t * uy, a.z_um + t * uz});
}

}  // namespace spinescope::testing
