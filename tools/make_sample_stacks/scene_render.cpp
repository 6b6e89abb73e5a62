// Scene (tubes and balls) -> capsules -> the tiled renderer.
#include <algorithm>

#include "spinescope/errors.hpp"
#include "tools/make_sample_stacks/generator.hpp"
#include "tools/make_sample_stacks/render.hpp"

namespace spinescope::gen {
namespace {

using detail::Box;
using detail::FineBlock;
using detail::V3;

/// A segment with linearly varying radius (a ball when a == b).
struct Capsule {
  V3 a, b;
  double ra = 0, rb = 0;
  float brightness = 1.0f;
};

std::vector<Capsule> to_capsules(const Scene& scene) {
  std::vector<Capsule> caps;
  auto bad = [](const std::string& what) { throw ParameterError("render_scene: " + what); };
  for (std::size_t t = 0; t < scene.tubes.size(); ++t) {
    const Tube& tube = scene.tubes[t];
    if (tube.points.empty()) bad("tube " + std::to_string(t) + " has no points");
    if (tube.points.size() != tube.radii_um.size()) bad("tube " + std::to_string(t) + " needs one radius per point");
    if (!(tube.brightness >= 0)) bad("tube " + std::to_string(t) + " has a negative brightness");
    for (double r : tube.radii_um)
      if (!(r > 0)) bad("tube " + std::to_string(t) + " has a radius <= 0");
    if (tube.points.size() == 1)
      caps.push_back({V3(tube.points[0]), V3(tube.points[0]), tube.radii_um[0], tube.radii_um[0],
                      static_cast<float>(tube.brightness)});
    for (std::size_t i = 1; i < tube.points.size(); ++i)
      caps.push_back({V3(tube.points[i - 1]), V3(tube.points[i]), tube.radii_um[i - 1], tube.radii_um[i],
                      static_cast<float>(tube.brightness)});
  }
  for (std::size_t b = 0; b < scene.balls.size(); ++b) {
    const Ball& ball = scene.balls[b];
    if (!(ball.radius_um > 0)) bad("ball " + std::to_string(b) + " has a radius <= 0");
    if (!(ball.brightness >= 0)) bad("ball " + std::to_string(b) + " has a negative brightness");
    caps.push_back(
        {V3(ball.centre), V3(ball.centre), ball.radius_um, ball.radius_um, static_cast<float>(ball.brightness)});
  }
  return caps;
}

Box capsule_box(const Capsule& c, double f) {
  const double r = std::max(c.ra, c.rb) + f;
  Box box;
  const double a[3] = {c.a.x, c.a.y, c.a.z}, b[3] = {c.b.x, c.b.y, c.b.z};
  for (int k = 0; k < 3; ++k) {
    box.lo[k] = std::min(a[k], b[k]) - r;
    box.hi[k] = std::max(a[k], b[k]) + r;
  }
  return box;
}

void fill_capsule(const Capsule& cap, const Box& box, FineBlock& blk) {
  const double f = blk.f;
  long lo[3], hi[3];
  for (int k = 0; k < 3; ++k) {
    lo[k] = std::max(blk.m[k], static_cast<long>(std::ceil(box.lo[k] / f)));
    hi[k] = std::min(blk.m[k] + static_cast<long>(blk.n[k]) - 1, static_cast<long>(std::floor(box.hi[k] / f)));
    if (lo[k] > hi[k]) return;
  }
  const V3 ab = cap.b - cap.a;
  const double len2 = ab.dot(ab), dr = cap.rb - cap.ra;
  for (long mz = lo[2]; mz <= hi[2]; ++mz) {
    for (long my = lo[1]; my <= hi[1]; ++my) {
      float* row = &blk.at(0, static_cast<std::size_t>(my - blk.m[1]), static_cast<std::size_t>(mz - blk.m[2]));
      for (long mx = lo[0]; mx <= hi[0]; ++mx) {
        const V3 p(mx * f, my * f, mz * f);
        const V3 ap = p - cap.a;
        double t = len2 > 0 ? ap.dot(ab) / len2 : 0.0;
        t = t < 0 ? 0 : (t > 1 ? 1 : t);
        const double d = (ap - ab * t).norm() - (cap.ra + t * dr);
        const float v = detail::coverage(d, f) * cap.brightness;
        float& o = row[mx - blk.m[0]];
        if (v > o) o = v;
      }
    }
  }
}

}  // namespace

Volume<float> render_scene_expected(const Scene& scene, const ImagingConfig& imaging) {
  detail::validate_imaging(imaging);
  const std::vector<Capsule> caps = to_capsules(scene);
  std::vector<Box> boxes;
  boxes.reserve(caps.size());
  for (const Capsule& c : caps) boxes.push_back(capsule_box(c, imaging.fine_voxel_um));
  return detail::render_expected(
      boxes, [&](std::size_t i, FineBlock& blk) { fill_capsule(caps[i], boxes[i], blk); }, imaging);
}

Volume<std::uint16_t> render_scene(const Scene& scene, const ImagingConfig& imaging) {
  const Volume<float> expected = render_scene_expected(scene, imaging);
  return imaging.noise ? detail::apply_camera(expected, imaging) : detail::apply_camera_noiseless(expected, imaging);
}

}  // namespace spinescope::gen
