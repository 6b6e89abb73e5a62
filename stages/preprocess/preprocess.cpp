#include "stages/preprocess/preprocess.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "spinescope/filters.hpp"

namespace spinescope::stages::preprocess {
namespace {

constexpr double kFwhmPerSigma = 2.354820045;

// Applies f(value) to every voxel, slab-parallel.
template <class F>
void for_each_voxel(Volume<float>& v, F f) {
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, v.nz()), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      float* s = v.slice(k);
      for (std::size_t n = 0; n < v.plane_size(); ++n) s[n] = f(s[n]);
    }
  });
}

// Minimum of each block of bx × by voxels of every slice: grid gx × gy × nz.
std::vector<float> block_minima(const Volume<float>& v, long bx, long by, long gx, long gy) {
  const long nx = static_cast<long>(v.nx()), ny = static_cast<long>(v.ny());
  std::vector<float> grid(static_cast<std::size_t>(gx * gy) * v.nz());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, v.nz()), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      const float* s = v.slice(k);
      float* g = grid.data() + k * gx * gy;
      std::fill(g, g + gx * gy, std::numeric_limits<float>::max());
      for (long j = 0; j < ny; ++j) {
        float* grow = g + (j / by) * gx;
        const float* row = s + j * nx;
        for (long i = 0; i < nx; ++i) grow[i / bx] = std::min(grow[i / bx], row[i]);
      }
    }
  });
  return grid;
}

}  // namespace

void subtract_background(Volume<float>& v, double radius_um) {
  if (radius_um <= 0.0 || v.empty()) return;
  const long nx = static_cast<long>(v.nx()), ny = static_cast<long>(v.ny()), nz = static_cast<long>(v.nz());
  const long bx = std::max<long>(2, std::lround(v.spacing().x_vox(2.0 * radius_um)));
  const long by = std::max<long>(2, std::lround(v.spacing().y_vox(2.0 * radius_um)));
  const long gx = (nx + bx - 1) / bx, gy = (ny + by - 1) / by;
  const std::vector<float> minima = block_minima(v, bx, by, gx, gy);
  // Mean over three neighbouring slices: the minimum of one block is noisy; the haze varies slowly in z. (Not
  // over neighbouring blocks: that would flatten a lateral gradient.)
  std::vector<float> grid(minima.size());
  for (long k = 0; k < nz; ++k)
    for (long n = 0; n < gx * gy; ++n) {
      double sum = 0.0;
      int count = 0;
      for (long c = std::max(0L, k - 1); c <= std::min(nz - 1, k + 1); ++c, ++count) sum += minima[c * gx * gy + n];
      grid[k * gx * gy + n] = static_cast<float>(sum / count);
    }
  // Bilinear between block centres, extrapolated linearly beyond the outer ones.
  auto axis_weights = [](long i, long block, long cells, long* lo, long* hi, float* w) {
    const double u = (i + 0.5) / block - 0.5;
    *lo = cells > 1 ? std::clamp(static_cast<long>(std::floor(u)), 0L, cells - 2) : 0;
    *hi = std::min(cells - 1, *lo + 1);
    *w = cells > 1 ? static_cast<float>(u - *lo) : 0.0f;
  };
  tbb::parallel_for(tbb::blocked_range<long>(0, nz), [&](const tbb::blocked_range<long>& r) {
    std::vector<long> i0(nx), i1(nx);
    std::vector<float> wx(nx);
    for (long i = 0; i < nx; ++i) axis_weights(i, bx, gx, &i0[i], &i1[i], &wx[i]);
    for (long k = r.begin(); k != r.end(); ++k) {
      const float* g = grid.data() + k * gx * gy;
      float* s = v.slice(k);
      for (long j = 0; j < ny; ++j) {
        long j0, j1;
        float wy;
        axis_weights(j, by, gy, &j0, &j1, &wy);
        const float* g0 = g + j0 * gx;
        const float* g1 = g + j1 * gx;
        float* row = s + j * nx;
        for (long i = 0; i < nx; ++i) {
          const float top = g0[i0[i]] + wx[i] * (g0[i1[i]] - g0[i0[i]]);
          const float bottom = g1[i0[i]] + wx[i] * (g1[i1[i]] - g1[i0[i]]);
          row[i] -= top + wy * (bottom - top);
        }
      }
    }
  });
}

void normalise_percentiles(Volume<float>& v, double low_percentile, double high_percentile) {
  if (v.empty()) return;
  const std::vector<double> p = sampled_percentiles(v, {low_percentile, high_percentile});
  const double range = p[1] - p[0];
  const float offset = static_cast<float>(p[0]);
  const float scale = range > 1e-6 * (std::abs(p[1]) + std::abs(p[0]) + 1e-12) ? static_cast<float>(1.0 / range) : 1.0f;
  for_each_voxel(v, [=](float x) { return (x - offset) * scale; });
}

void richardson_lucy(Volume<float>& v, double psf_fwhm_xy_um, double psf_fwhm_z_um, int iterations,
                     const std::function<void(double)>& progress) {
  if (v.empty() || iterations <= 0) return;
  const double sxy = psf_fwhm_xy_um / kFwhmPerSigma, sz = psf_fwhm_z_um / kFwhmPerSigma;
  const float offset = static_cast<float>(volume_percentiles(v, {0.1})[0]);
  for_each_voxel(v, [=](float x) { return std::max(0.0f, x - offset); });
  const Volume<float> observed = v;  // v becomes the estimate
  Volume<float> ratio(v.nx(), v.ny(), v.nz(), v.spacing());
  constexpr float kTiny = 1e-6f;
  for (int it = 0; it < iterations; ++it) {
    std::copy(v.data(), v.data() + v.size(), ratio.data());
    gaussian_blur(ratio, sxy, sxy, sz);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, v.size(), 1 << 16),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        for (std::size_t n = r.begin(); n != r.end(); ++n)
                          ratio[n] = observed[n] / std::max(ratio[n], kTiny);
                      });
    gaussian_blur(ratio, sxy, sxy, sz);  // the Gaussian PSF is its own mirror image
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, v.size(), 1 << 16),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        for (std::size_t n = r.begin(); n != r.end(); ++n) v[n] *= ratio[n];
                      });
    if (progress) progress((it + 1.0) / iterations);
  }
}

void preprocess_volume(Volume<float>& v, const PreprocessOptions& o, const std::function<void(double)>& progress) {
  auto report = [&](double f) {
    if (progress) progress(f);
  };
  double done = 0.0;
  if (o.deconvolve) {
    richardson_lucy(v, o.psf_fwhm_xy_um, o.psf_fwhm_z_um, o.deconvolution_iterations,
                    [&](double f) { report(0.7 * f); });
    done = 0.7;
  }
  if (o.denoise_sigma_um > 0.0) gaussian_blur(v, o.denoise_sigma_um, o.denoise_sigma_um, o.denoise_sigma_um);
  report(done + (1.0 - done) * 0.5);
  subtract_background(v, o.background_radius_um);
  report(done + (1.0 - done) * 0.75);
  normalise_percentiles(v, o.low_percentile, o.high_percentile);
  report(1.0);
}

}  // namespace spinescope::stages::preprocess
