#include "spinescope/filters.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace spinescope {
namespace {

constexpr double kMinSigmaVox = 0.25;

long clamp_index(long i, long n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

// out[i] = sum_t k[t] * in[i + t - r] for a symmetric kernel (k[0] is the centre), replicate borders.
void convolve_row(const float* in, float* out, long n, const std::vector<float>& k, std::vector<float>& pad) {
  const long r = static_cast<long>(k.size()) - 1;
  pad.resize(n + 2 * r);
  for (long i = 0; i < r; ++i) pad[i] = in[0], pad[n + r + i] = in[n - 1];
  std::copy(in, in + n, pad.begin() + r);
  const float* p = pad.data() + r;
  for (long i = 0; i < n; ++i) {
    float acc = k[0] * p[i];
    for (long t = 1; t <= r; ++t) acc += k[t] * (p[i - t] + p[i + t]);
    out[i] = acc;
  }
}

// Combines whole rows: out = sum_t k[t] * (row(c - t) + row(c + t)), rows given by @p row_of, vectorised along x.
template <class RowOf>
void convolve_rows(RowOf row_of, long c, long n_rows, long nx, const std::vector<float>& k, float* out) {
  const long r = static_cast<long>(k.size()) - 1;
  const float* centre = row_of(c);
  for (long i = 0; i < nx; ++i) out[i] = k[0] * centre[i];
  for (long t = 1; t <= r; ++t) {
    const float* a = row_of(clamp_index(c - t, n_rows));
    const float* b = row_of(clamp_index(c + t, n_rows));
    const float w = k[t];
    for (long i = 0; i < nx; ++i) out[i] += w * (a[i] + b[i]);
  }
}

void blur_slices_xy(Volume<float>& v, const std::vector<float>* kx, const std::vector<float>* ky) {
  const long nx = static_cast<long>(v.nx()), ny = static_cast<long>(v.ny());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, v.nz()), [&](const tbb::blocked_range<std::size_t>& range) {
    std::vector<float> pad, plane, row(nx);
    for (std::size_t k = range.begin(); k != range.end(); ++k) {
      float* s = v.slice(k);
      if (kx)
        for (long j = 0; j < ny; ++j) {
          convolve_row(s + j * nx, row.data(), nx, *kx, pad);
          std::copy(row.begin(), row.end(), s + j * nx);
        }
      if (ky) {
        plane.assign(s, s + nx * ny);
        const float* src = plane.data();
        for (long j = 0; j < ny; ++j)
          convolve_rows([&](long jj) { return src + jj * nx; }, j, ny, nx, *ky, s + j * nx);
      }
    }
  });
}

void blur_z(Volume<float>& v, const std::vector<float>& kz) {
  const long nx = static_cast<long>(v.nx()), ny = static_cast<long>(v.ny()), nz = static_cast<long>(v.nz());
  const std::size_t plane = v.plane_size();
  tbb::parallel_for(tbb::blocked_range<long>(0, ny), [&](const tbb::blocked_range<long>& range) {
    std::vector<float> column(nx * nz);
    for (long j = range.begin(); j != range.end(); ++j) {
      for (long k = 0; k < nz; ++k) std::copy_n(v.data() + k * plane + j * nx, nx, column.data() + k * nx);
      const float* src = column.data();
      for (long k = 0; k < nz; ++k)
        convolve_rows([&](long kk) { return src + kk * nx; }, k, nz, nx, kz, v.data() + k * plane + j * nx);
    }
  });
}

// Squared 1-D distance transform (Felzenszwalb & Huttenlocher 2012) of f sampled every @p step µm; when
// @p zero_outside, sites at -1 and n with f = 0 stand for the background beyond the volume.
void distance_1d(const float* f, float* d, long n, double step, bool zero_outside, std::vector<double>& pos,
                 std::vector<double>& val, std::vector<double>& z) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  pos.clear();
  val.clear();
  auto push_site = [&](double x, double fx) {
    while (!pos.empty()) {
      const double s = ((fx + x * x) - (val.back() + pos.back() * pos.back())) / (2.0 * (x - pos.back()));
      if (s > z.back()) {
        pos.push_back(x);
        val.push_back(fx);
        z.push_back(s);
        return;
      }
      pos.pop_back();
      val.pop_back();
      z.pop_back();
    }
    pos.push_back(x);
    val.push_back(fx);
    z.push_back(-kInf);
  };
  z.clear();
  if (zero_outside) push_site(-step, 0.0);
  for (long q = 0; q < n; ++q)
    if (f[q] < 1e19f) push_site(q * step, f[q]);
  if (zero_outside) push_site(n * step, 0.0);
  if (pos.empty()) {
    std::fill(d, d + n, 1e20f);
    return;
  }
  std::size_t k = 0;
  for (long q = 0; q < n; ++q) {
    const double x = q * step;
    while (k + 1 < pos.size() && z[k + 1] < x) ++k;
    const double dx = x - pos[k];
    d[q] = static_cast<float>(dx * dx + val[k]);
  }
}

}  // namespace

std::vector<float> gaussian_kernel(double sigma_vox, int order, double truncate) {
  const long r = std::max<long>(1, static_cast<long>(std::ceil(truncate * sigma_vox)));
  std::vector<float> k(r + 1);
  std::vector<double> g(r + 1);
  double sum = 0.0;
  for (long t = 0; t <= r; ++t) {
    g[t] = std::exp(-0.5 * t * t / (sigma_vox * sigma_vox));
    sum += (t == 0 ? 1.0 : 2.0) * g[t];
  }
  for (long t = 0; t <= r; ++t) {
    double value = g[t] / sum;
    if (order == 1) value *= -t / (sigma_vox * sigma_vox);
    if (order == 2) value *= (t * static_cast<double>(t) - sigma_vox * sigma_vox) / std::pow(sigma_vox, 4);
    k[t] = static_cast<float>(value);
  }
  if (order == 2) {  // zero DC response and unit response to x^2 / 2
    double dc = k[0], m2 = 0.0;
    for (long t = 1; t <= r; ++t) dc += 2.0 * k[t];
    for (long t = 0; t <= r; ++t) k[t] -= static_cast<float>(dc / (2 * r + 1));
    for (long t = 1; t <= r; ++t) m2 += 2.0 * k[t] * t * t / 2.0;
    for (auto& w : k) w = static_cast<float>(w / m2);
  }
  return k;
}

void gaussian_blur_xy(Volume<float>& volume, double sigma_x_um, double sigma_y_um) {
  if (volume.empty()) return;
  const double sx = volume.spacing().x_vox(sigma_x_um), sy = volume.spacing().y_vox(sigma_y_um);
  std::vector<float> kx, ky;
  if (sx >= kMinSigmaVox && volume.nx() > 1) kx = gaussian_kernel(sx);
  if (sy >= kMinSigmaVox && volume.ny() > 1) ky = gaussian_kernel(sy);
  if (kx.empty() && ky.empty()) return;
  blur_slices_xy(volume, kx.empty() ? nullptr : &kx, ky.empty() ? nullptr : &ky);
}

void gaussian_blur(Volume<float>& volume, double sigma_x_um, double sigma_y_um, double sigma_z_um) {
  gaussian_blur_xy(volume, sigma_x_um, sigma_y_um);
  if (volume.empty()) return;
  const double sz = volume.spacing().z_vox(sigma_z_um);
  if (sz >= kMinSigmaVox && volume.nz() > 1) blur_z(volume, gaussian_kernel(sz));
}

Volume<float> decimate_xy2(const Volume<float>& in) {
  const long nx = static_cast<long>(in.nx()), ny = static_cast<long>(in.ny());
  const long ox = (nx + 1) / 2, oy = (ny + 1) / 2;
  Spacing s = in.spacing();
  s.x_um *= 2.0;
  s.y_um *= 2.0;
  Volume<float> out(ox, oy, in.nz(), s);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, in.nz()), [&](const tbb::blocked_range<std::size_t>& range) {
    std::vector<float> row(ox);
    for (std::size_t k = range.begin(); k != range.end(); ++k) {
      const float* src = in.slice(k);
      float* dst = out.slice(k);
      for (long j = 0; j < oy; ++j) {
        const float* rows[3] = {src + clamp_index(2 * j - 1, ny) * nx, src + 2 * j * nx,
                                src + clamp_index(2 * j + 1, ny) * nx};
        for (long i = 0; i < ox; ++i) {
          const long a = clamp_index(2 * i - 1, nx), b = 2 * i, c = clamp_index(2 * i + 1, nx);
          float acc = 0.0f;
          for (int t = 0; t < 3; ++t) {
            const float w = t == 1 ? 0.5f : 0.25f;
            acc += w * (0.25f * rows[t][a] + 0.5f * rows[t][b] + 0.25f * rows[t][c]);
          }
          dst[j * ox + i] = acc;
        }
      }
    }
  });
  return out;
}

Volume<float> distance_transform_um(const Volume<std::uint8_t>& mask, bool outside_is_background) {
  const long nx = static_cast<long>(mask.nx()), ny = static_cast<long>(mask.ny()), nz = static_cast<long>(mask.nz());
  const Spacing sp = mask.spacing();
  Volume<float> d(mask.nx(), mask.ny(), mask.nz(), sp);
  for (std::size_t n = 0; n < mask.size(); ++n) d[n] = mask[n] ? 1e20f : 0.0f;
  // x lines
  tbb::parallel_for(tbb::blocked_range<long>(0, ny * nz), [&](const tbb::blocked_range<long>& range) {
    std::vector<double> pos, val, z;
    std::vector<float> f(nx);
    for (long line = range.begin(); line != range.end(); ++line) {
      float* row = d.data() + line * nx;
      std::copy_n(row, nx, f.data());
      distance_1d(f.data(), row, nx, sp.x_um, outside_is_background, pos, val, z);
    }
  });
  // y lines within each slice, then z lines: gather, transform, scatter.
  auto pass = [&](long n_lines, long length, long stride, auto start_of, double step) {
    tbb::parallel_for(tbb::blocked_range<long>(0, n_lines), [&](const tbb::blocked_range<long>& range) {
      std::vector<double> pos, val, z;
      std::vector<float> f(length), out(length);
      for (long line = range.begin(); line != range.end(); ++line) {
        float* base = d.data() + start_of(line);
        for (long q = 0; q < length; ++q) f[q] = base[q * stride];
        distance_1d(f.data(), out.data(), length, step, outside_is_background, pos, val, z);
        for (long q = 0; q < length; ++q) base[q * stride] = out[q];
      }
    });
  };
  pass(nx * nz, ny, nx, [&](long line) { return (line / nx) * nx * ny + line % nx; }, sp.y_um);
  pass(nx * ny, nz, nx * ny, [&](long line) { return line; }, sp.z_um);
  for (std::size_t n = 0; n < d.size(); ++n) d[n] = std::sqrt(d[n]);
  return d;
}

std::vector<double> volume_percentiles(const Volume<float>& volume, const std::vector<double>& percentiles) {
  std::vector<double> out(percentiles.size(), 0.0);
  if (volume.empty()) return out;
  const float* p = volume.data();
  const auto [lo_it, hi_it] = std::minmax_element(p, p + volume.size());
  const double lo = *lo_it, hi = *hi_it;
  if (!(hi > lo)) {
    std::fill(out.begin(), out.end(), lo);
    return out;
  }
  constexpr int kBins = 65536;
  const double scale = kBins / (hi - lo);
  const std::size_t blocks = std::min<std::size_t>(volume.nz(), 16);
  std::vector<std::vector<std::uint64_t>> partial(blocks, std::vector<std::uint64_t>(kBins, 0));
  tbb::parallel_for(std::size_t{0}, blocks, [&](std::size_t b) {
    const std::size_t k0 = volume.nz() * b / blocks, k1 = volume.nz() * (b + 1) / blocks;
    auto& h = partial[b];
    for (std::size_t n = k0 * volume.plane_size(); n < k1 * volume.plane_size(); ++n)
      ++h[std::min(kBins - 1, static_cast<int>((p[n] - lo) * scale))];
  });
  std::vector<std::uint64_t> hist(kBins, 0);
  for (const auto& h : partial)
    for (int i = 0; i < kBins; ++i) hist[i] += h[i];
  const double total = static_cast<double>(volume.size());
  for (std::size_t q = 0; q < percentiles.size(); ++q) {
    const double rank = std::clamp(percentiles[q], 0.0, 100.0) / 100.0 * total;
    double cum = 0.0;
    int bin = 0;
    for (; bin < kBins - 1 && cum + hist[bin] < rank; ++bin) cum += hist[bin];
    const double frac = hist[bin] > 0 ? (rank - cum) / hist[bin] : 0.0;
    out[q] = lo + (bin + std::clamp(frac, 0.0, 1.0)) / scale;
  }
  return out;
}

std::vector<double> sampled_percentiles(const Volume<float>& volume, const std::vector<double>& percentiles,
                                        std::size_t max_samples) {
  const std::size_t stride = (volume.size() / std::max<std::size_t>(max_samples, 1)) | 1u;
  if (stride == 1) return volume_percentiles(volume, percentiles);
  // Odd stride: rows and slices are not sampled in step with the image.
  Volume<float> sample((volume.size() + stride - 1) / stride, 1, 1, volume.spacing());
  for (std::size_t n = 0, m = 0; n < volume.size(); n += stride, ++m) sample[m] = volume[n];
  return volume_percentiles(sample, percentiles);
}

}  // namespace spinescope
