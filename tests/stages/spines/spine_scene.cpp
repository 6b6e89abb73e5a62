#include "spine_scene.hpp"

#include "spinescope/filters.hpp"

namespace spinescope::testing {

Context SpineScene::make_context(bool noise, double threshold, double shaft_margin_um) const {
  gen::ImagingConfig im = imaging;
  im.noise = noise;
  const Volume<std::uint16_t> raw = gen::render_scene(scene, im);
  const Spacing s = im.spacing;
  VolumeF pre(raw.nx(), raw.ny(), raw.nz(), s);
  VolumeU8 fg(raw.nx(), raw.ny(), raw.nz(), s), shaft(raw.nx(), raw.ny(), raw.nz(), s);
  for (std::size_t v = 0; v < raw.size(); ++v) {
    const double photons = (raw[v] - im.offset) / im.gain;
    pre[v] = static_cast<float>((photons - im.background_photons) / im.photons);
  }
  gaussian_blur(pre, kDenoiseSigmaUm, kDenoiseSigmaUm, kDenoiseSigmaUm);  // as the preprocess stage denoises
  for (std::size_t k = 0; k < raw.nz(); ++k)
    for (std::size_t j = 0; j < raw.ny(); ++j)
      for (std::size_t i = 0; i < raw.nx(); ++i) {
        const bool f = pre(i, j, k) >= threshold;
        fg(i, j, k) = f;
        const double dy = j * s.y_um - shaft_y_um, dz = k * s.z_um - shaft_z_um;
        // The foreground reaches further out along z (axial blur): an elliptic cross-section.
        const double ry = shaft_radius_um + shaft_margin_um, rz = shaft_radius_um + 3.5 * shaft_margin_um;
        shaft(i, j, k) = f && (dy * dy) / (ry * ry) + (dz * dz) / (rz * rz) <= 1.0;
      }
  DendriteGraph graph;
  DendriteBranch branch;
  for (double x = 0; x <= (raw.nx() - 1) * s.x_um + 1e-9; x += 0.2)
    branch.nodes.push_back({x, shaft_y_um, shaft_z_um, shaft_radius_um});
  graph.branches.push_back(branch);
  Context ctx;
  ctx.info().spacing = s;
  ctx.info().parameters["preprocess"]["denoise_sigma_um"] = std::to_string(kDenoiseSigmaUm);
  ctx.put(artifacts::kPreprocessed, std::move(pre));
  ctx.put(artifacts::kForeground, std::move(fg));
  ctx.put(artifacts::kShaftMask, std::move(shaft));
  ctx.put(artifacts::kDendriteGraph, std::move(graph));
  ctx.put(artifacts::kSpineCandidates, SpineCandidates{});
  return ctx;
}

}  // namespace spinescope::testing
