#include "stages/dendrites/tubularity.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>

#include "spinescope/filters.hpp"

namespace spinescope::stages::dendrites {

void symmetric_eigenvalues(float a11, float a22, float a33, float a12, float a13, float a23, float ev[3]) {
  const float off = a12 * a12 + a13 * a13 + a23 * a23;
  const float q = (a11 + a22 + a33) / 3.0f;
  const float b11 = a11 - q, b22 = a22 - q, b33 = a33 - q;
  const float p2 = b11 * b11 + b22 * b22 + b33 * b33 + 2.0f * off;
  if (p2 <= 1e-30f) {
    ev[0] = ev[1] = ev[2] = q;
    return;
  }
  const float p = std::sqrt(p2 / 6.0f);
  const float det = b11 * (b22 * b33 - a23 * a23) - a12 * (a12 * b33 - a23 * a13) + a13 * (a12 * a23 - b22 * a13);
  const float r = std::clamp(det / (2.0f * p * p * p), -1.0f, 1.0f);
  const float phi = std::acos(r) / 3.0f;
  constexpr float kTwoThirdsPi = 2.0943951f;
  const float largest = q + 2.0f * p * std::cos(phi);
  const float smallest = q + 2.0f * p * std::cos(phi + kTwoThirdsPi);
  ev[0] = smallest;
  ev[1] = std::clamp(3.0f * q - largest - smallest, smallest, largest);  // rounding, where two coincide
  ev[2] = largest;
}

float bright_tube_response(const float ev[3]) {
  const float cross = ev[1];  // the weaker of the two cross-section curvatures
  if (cross >= 0.0f || ev[0] >= 0.0f) return 0.0f;
  const float axial = ev[2];
  const float alpha = axial <= 0.0f ? 0.5f : 2.0f;
  const float ratio = axial / (alpha * cross);
  return -cross * std::exp(-0.5f * ratio * ratio);
}

std::vector<double> tube_sigmas_um(double min_radius_um, double max_radius_um, int count) {
  std::vector<double> out;
  for (int t = 0; t < count; ++t) {
    const double f = count > 1 ? static_cast<double>(t) / (count - 1) : 0.0;
    out.push_back(min_radius_um * std::pow(max_radius_um / min_radius_um, f) / std::sqrt(2.0));
  }
  return out;
}

Volume<float> tubularity(const Volume<float>& volume, const std::vector<double>& sigmas_um,
                         const Volume<std::uint8_t>* where) {
  const long nx = static_cast<long>(volume.nx()), ny = static_cast<long>(volume.ny()),
             nz = static_cast<long>(volume.nz());
  Volume<float> best(volume.nx(), volume.ny(), volume.nz(), volume.spacing(), 0.0f);
  const Spacing sp = volume.spacing();
  Volume<float> smooth;
  for (double sigma : sigmas_um) {
    smooth = volume;
    gaussian_blur(smooth, sigma, sigma, sigma);
    const float s2 = static_cast<float>(sigma * sigma);
    const float cxx = s2 / static_cast<float>(sp.x_um * sp.x_um), cyy = s2 / static_cast<float>(sp.y_um * sp.y_um),
                czz = s2 / static_cast<float>(sp.z_um * sp.z_um);
    const float cxy = s2 / static_cast<float>(4.0 * sp.x_um * sp.y_um),
                cxz = s2 / static_cast<float>(4.0 * sp.x_um * sp.z_um),
                cyz = s2 / static_cast<float>(4.0 * sp.y_um * sp.z_um);
    tbb::parallel_for(tbb::blocked_range<long>(0, nz), [&](const tbb::blocked_range<long>& range) {
      for (long k = range.begin(); k != range.end(); ++k) {
        const long km = std::max(0L, k - 1), kp = std::min(nz - 1, k + 1);
        for (long j = 0; j < ny; ++j) {
          const long jm = std::max(0L, j - 1), jp = std::min(ny - 1, j + 1);
          const std::uint8_t* mask = where ? where->data() + where->index(0, j, k) : nullptr;
          const float* c = smooth.data() + smooth.index(0, j, k);
          auto at = [&](long i, long jj, long kk) { return smooth.data()[(kk * ny + jj) * nx + i]; };
          float* out = best.data() + best.index(0, j, k);
          for (long i = 0; i < nx; ++i) {
            if (mask && !mask[i]) continue;
            const long im = std::max(0L, i - 1), ip = std::min(nx - 1, i + 1);
            const float v = c[i];
            const float hxx = cxx * (c[ip] - 2.0f * v + c[im]);
            const float hyy = cyy * (at(i, jp, k) - 2.0f * v + at(i, jm, k));
            const float hzz = czz * (at(i, j, kp) - 2.0f * v + at(i, j, km));
            const float hxy = cxy * (at(ip, jp, k) - at(ip, jm, k) - at(im, jp, k) + at(im, jm, k));
            const float hxz = cxz * (at(ip, j, kp) - at(ip, j, km) - at(im, j, kp) + at(im, j, km));
            const float hyz = cyz * (at(i, jp, kp) - at(i, jp, km) - at(i, jm, kp) + at(i, jm, km));
            float ev[3];
            symmetric_eigenvalues(hxx, hyy, hzz, hxy, hxz, hyz, ev);
            out[i] = std::max(out[i], bright_tube_response(ev));
          }
        }
      }
    });
  }
  return best;
}

}  // namespace spinescope::stages::dendrites
