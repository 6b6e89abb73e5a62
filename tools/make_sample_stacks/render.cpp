// The tiled renderer: fine occupancy per tile -> separable Gaussian PSF evaluated only at the stack's voxel
// centres -> photons, attenuation, haze; then the camera (Poisson, gain, offset, read noise).
#include "tools/make_sample_stacks/render.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <limits>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"

namespace spinescope::gen::detail {
namespace {

constexpr double kFwhmToSigma = 0.42466090014400953;  // 1 / (2 sqrt(2 ln 2))
constexpr double kTruncateSigmas = 4.0;
constexpr double kTileUm = 6.4;  // output tile edge in x and y

/// Gaussian taps of one output sample along one axis, clipped to a block.
struct Taps {
  std::size_t first = 0;  // block-local index of the first tap
  std::vector<float> w;
};

/// Taps for outputs o in [o_begin, o_end) at positions o·spacing over a block axis [m0, m0 + n) of step f.
/// Weights are normalised over the untruncated-by-block support (outside the block the occupancy is zero).
/// Returns the first output index that has taps; taps of outputs that miss the block are empty.
std::vector<Taps> make_taps(long o_begin, long o_end, double spacing, long m0, std::size_t n, double f, double sigma) {
  std::vector<Taps> taps(static_cast<std::size_t>(o_end - o_begin));
  const double pad = kTruncateSigmas * sigma;
  const long m_end = m0 + static_cast<long>(n);
  for (long o = o_begin; o < o_end; ++o) {
    const double p = static_cast<double>(o) * spacing;
    const long lo = static_cast<long>(std::ceil((p - pad) / f));
    const long hi = static_cast<long>(std::floor((p + pad) / f));
    double sum = 0.0;
    for (long m = lo; m <= hi; ++m) {
      const double d = (static_cast<double>(m) * f - p) / sigma;
      sum += std::exp(-0.5 * d * d);
    }
    const long a = std::max(lo, m0), b = std::min(hi, m_end - 1);
    Taps& t = taps[static_cast<std::size_t>(o - o_begin)];
    if (a > b || sum <= 0.0) continue;
    t.first = static_cast<std::size_t>(a - m0);
    for (long m = a; m <= b; ++m) {
      const double d = (static_cast<double>(m) * f - p) / sigma;
      t.w.push_back(static_cast<float>(std::exp(-0.5 * d * d) / sum));
    }
  }
  return taps;
}

/// Renders one tile of outputs (x in [i0,i1), y in [j0,j1), all z) into @p out (blurred occupancy only).
void render_tile(std::size_t i0, std::size_t i1, std::size_t j0, std::size_t j1, const std::vector<Box>& boxes,
                 const FillFn& fill, const ImagingConfig& im, Volume<float>& out) {
  const Spacing& s = im.spacing;
  const double f = im.fine_voxel_um;
  const double sigma[3] = {im.psf_fwhm_xy_um * kFwhmToSigma, im.psf_fwhm_xy_um * kFwhmToSigma,
                           im.psf_fwhm_z_um * kFwhmToSigma};
  const double sp[3] = {s.x_um, s.y_um, s.z_um};
  const long o_lo[3] = {static_cast<long>(i0), static_cast<long>(j0), 0};
  const long o_hi[3] = {static_cast<long>(i1), static_cast<long>(j1), static_cast<long>(im.nz)};  // exclusive
  double reg_lo[3], reg_hi[3];
  for (int a = 0; a < 3; ++a) {
    reg_lo[a] = static_cast<double>(o_lo[a]) * sp[a] - kTruncateSigmas * sigma[a];
    reg_hi[a] = static_cast<double>(o_hi[a] - 1) * sp[a] + kTruncateSigmas * sigma[a];
  }
  std::vector<std::size_t> hits;
  double u_lo[3] = {std::numeric_limits<double>::max(), std::numeric_limits<double>::max(),
                    std::numeric_limits<double>::max()};
  double u_hi[3] = {-u_lo[0], -u_lo[0], -u_lo[0]};
  for (std::size_t b = 0; b < boxes.size(); ++b) {
    bool overlap = true;
    for (int a = 0; a < 3 && overlap; ++a) overlap = boxes[b].hi[a] >= reg_lo[a] && boxes[b].lo[a] <= reg_hi[a];
    if (!overlap) continue;
    hits.push_back(b);
    for (int a = 0; a < 3; ++a) {
      u_lo[a] = std::min(u_lo[a], std::max(boxes[b].lo[a], reg_lo[a]));
      u_hi[a] = std::max(u_hi[a], std::min(boxes[b].hi[a], reg_hi[a]));
    }
  }
  if (hits.empty()) return;

  FineBlock block;
  block.f = f;
  for (int a = 0; a < 3; ++a) {
    block.m[a] = static_cast<long>(std::floor(u_lo[a] / f));
    block.n[a] = static_cast<std::size_t>(static_cast<long>(std::ceil(u_hi[a] / f)) - block.m[a] + 1);
  }
  block.occ.assign(block.n[0] * block.n[1] * block.n[2], 0.0f);
  for (std::size_t b : hits) fill(b, block);

  // Outputs whose PSF support reaches the block.
  long lo[3], hi[3];
  for (int a = 0; a < 3; ++a) {
    const double pad = kTruncateSigmas * sigma[a];
    const double b_lo = static_cast<double>(block.m[a]) * f - pad;
    const double b_hi = static_cast<double>(block.m[a] + static_cast<long>(block.n[a]) - 1) * f + pad;
    lo[a] = std::max(o_lo[a], static_cast<long>(std::ceil(b_lo / sp[a])));
    hi[a] = std::min(o_hi[a], static_cast<long>(std::floor(b_hi / sp[a])) + 1);
    if (lo[a] >= hi[a]) return;
  }
  const auto tx = make_taps(lo[0], hi[0], sp[0], block.m[0], block.n[0], f, sigma[0]);
  const auto ty = make_taps(lo[1], hi[1], sp[1], block.m[1], block.n[1], f, sigma[1]);
  const auto tz = make_taps(lo[2], hi[2], sp[2], block.m[2], block.n[2], f, sigma[2]);
  const std::size_t nox = tx.size(), noy = ty.size(), noz = tz.size();
  const std::size_t nxb = block.n[0], nyb = block.n[1], nzb = block.n[2];

  // x pass: fine rows -> output columns; rows that are empty stay flagged and are skipped later.
  std::vector<float> ax(nzb * nyb * nox, 0.0f);
  std::vector<char> row_used(nzb * nyb, 0);
  for (std::size_t c = 0; c < nzb; ++c) {
    for (std::size_t b = 0; b < nyb; ++b) {
      const float* row = &block.occ[(c * nyb + b) * nxb];
      if (std::all_of(row, row + nxb, [](float v) { return v == 0.0f; })) continue;
      row_used[c * nyb + b] = 1;
      float* dst = &ax[(c * nyb + b) * nox];
      for (std::size_t o = 0; o < nox; ++o) {
        const Taps& t = tx[o];
        float acc = 0.0f;
        for (std::size_t q = 0; q < t.w.size(); ++q) acc += t.w[q] * row[t.first + q];
        dst[o] = acc;
      }
    }
  }
  // y pass.
  std::vector<float> ay(nzb * noy * nox, 0.0f);
  std::vector<char> plane_used(nzb, 0);
  for (std::size_t c = 0; c < nzb; ++c) {
    for (std::size_t o = 0; o < noy; ++o) {
      const Taps& t = ty[o];
      float* dst = &ay[(c * noy + o) * nox];
      for (std::size_t q = 0; q < t.w.size(); ++q) {
        const std::size_t b = t.first + q;
        if (!row_used[c * nyb + b]) continue;
        plane_used[c] = 1;
        const float* src = &ax[(c * nyb + b) * nox];
        const float w = t.w[q];
        for (std::size_t x = 0; x < nox; ++x) dst[x] += w * src[x];
      }
    }
  }
  // z pass, straight into the output.
  for (std::size_t o = 0; o < noz; ++o) {
    const Taps& t = tz[o];
    const std::size_t k = static_cast<std::size_t>(lo[2]) + o;
    for (std::size_t q = 0; q < t.w.size(); ++q) {
      const std::size_t c = t.first + q;
      if (!plane_used[c]) continue;
      const float w = t.w[q];
      for (std::size_t y = 0; y < noy; ++y) {
        const float* src = &ay[(c * noy + y) * nox];
        float* dst = &out(static_cast<std::size_t>(lo[0]), static_cast<std::size_t>(lo[1]) + y, k);
        for (std::size_t x = 0; x < nox; ++x) dst[x] += w * src[x];
      }
    }
  }
}

}  // namespace

double Random::poisson(double mean) {
  if (!(mean > 0.0)) return 0.0;
  if (mean >= 30.0) return std::max(0.0, std::round(mean + std::sqrt(mean) * normal()));
  const double u = uniform();
  double p = std::exp(-mean), cdf = p;
  int k = 0;
  while (u > cdf && k < 200) {
    ++k;
    p *= mean / k;
    cdf += p;
  }
  return k;
}

std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void validate_imaging(const ImagingConfig& im, bool check_size) {
  auto bad = [](const std::string& key, double value, const std::string& why) {
    throw ParameterError("make-sample-stacks", key, format_number(value), why);
  };
  if (check_size) {
    if (im.nx < 1 || im.ny < 1 || im.nz < 1) bad("size", 0, "every dimension must be at least 1 voxel");
    const double voxels = static_cast<double>(im.nx) * static_cast<double>(im.ny) * static_cast<double>(im.nz);
    if (voxels > 2.0e9) bad("size", voxels, "more than 2e9 voxels");
  }
  if (!(im.spacing.x_um > 0) || !(im.spacing.y_um > 0) || !(im.spacing.z_um > 0))
    bad("voxel_size_um", std::min({im.spacing.x_um, im.spacing.y_um, im.spacing.z_um}), "must be > 0");
  if (!(im.psf_fwhm_xy_um > 0)) bad("psf_fwhm_xy_um", im.psf_fwhm_xy_um, "must be > 0");
  if (!(im.psf_fwhm_z_um > 0)) bad("psf_fwhm_z_um", im.psf_fwhm_z_um, "must be > 0");
  const double sigma_min = std::min(im.psf_fwhm_xy_um, im.psf_fwhm_z_um) * kFwhmToSigma;
  if (!(im.fine_voxel_um > 0) || im.fine_voxel_um > sigma_min)
    bad("fine_voxel_um", im.fine_voxel_um, "must be in (0, PSF sigma = " + format_number(sigma_min) + " um]");
  if (!(im.photons >= 0) || !std::isfinite(im.photons)) bad("photons", im.photons, "must be >= 0");
  if (!(im.background_photons >= 0)) bad("background_photons", im.background_photons, "must be >= 0");
  if (!(im.read_noise >= 0)) bad("read_noise", im.read_noise, "must be >= 0");
  if (!(im.gain > 0)) bad("gain", im.gain, "must be > 0");
  if (!(im.offset >= 0)) bad("offset", im.offset, "must be >= 0");
}

Volume<float> render_expected(const std::vector<Box>& boxes, const FillFn& fill, const ImagingConfig& im) {
  validate_imaging(im);
  Volume<float> out(im.nx, im.ny, im.nz, im.spacing, 0.0f);
  const std::size_t tx = std::max<std::size_t>(16, static_cast<std::size_t>(std::ceil(kTileUm / im.spacing.x_um)));
  const std::size_t ty = std::max<std::size_t>(16, static_cast<std::size_t>(std::ceil(kTileUm / im.spacing.y_um)));
  const std::size_t ntx = (im.nx + tx - 1) / tx, nty = (im.ny + ty - 1) / ty;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, ntx * nty, 1), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t t = r.begin(); t != r.end(); ++t) {
      const std::size_t i0 = (t % ntx) * tx, j0 = (t / ntx) * ty;
      render_tile(i0, std::min(i0 + tx, im.nx), j0, std::min(j0 + ty, im.ny), boxes, fill, im, out);
    }
  });
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, im.nz), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      const double z_um = static_cast<double>(k) * im.spacing.z_um;
      const double gain =
          im.photons * (im.attenuation_length_um > 0 ? std::exp(-z_um / im.attenuation_length_um) : 1.0);
      float* p = out.slice(k);
      for (std::size_t n = 0; n < out.plane_size(); ++n) p[n] = static_cast<float>(gain * p[n] + im.background_photons);
    }
  });
  return out;
}

namespace {
std::uint16_t to_counts(double counts) {
  if (!(counts > 0.0)) return 0;
  if (counts >= 65535.0) return 65535;
  return static_cast<std::uint16_t>(std::lround(counts));
}
}  // namespace

Volume<std::uint16_t> apply_camera(const Volume<float>& expected, const ImagingConfig& im) {
  Volume<std::uint16_t> out(expected.nx(), expected.ny(), expected.nz(), expected.spacing());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, expected.nz()), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t k = r.begin(); k != r.end(); ++k) {
      Random rng(mix_seed(im.seed, k));
      const float* src = expected.slice(k);
      std::uint16_t* dst = out.slice(k);
      for (std::size_t n = 0; n < expected.plane_size(); ++n) {
        const double photons = rng.poisson(src[n]);
        dst[n] = to_counts(photons * im.gain + im.offset + im.read_noise * rng.normal());
      }
    }
  });
  return out;
}

Volume<std::uint16_t> apply_camera_noiseless(const Volume<float>& expected, const ImagingConfig& im) {
  Volume<std::uint16_t> out(expected.nx(), expected.ny(), expected.nz(), expected.spacing());
  for (std::size_t n = 0; n < expected.size(); ++n) out[n] = to_counts(expected[n] * im.gain + im.offset);
  return out;
}

}  // namespace spinescope::gen::detail
