#pragma once
/// @file render.hpp
/// @brief Internals of the generator shared by the scene and mesh paths: seeded random numbers, the
/// tiled fine-grid renderer (occupancy -> Gaussian PSF -> sampling) and the camera model.

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "spinescope/vec3.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope::gen::detail {

/// @brief Random numbers that are bit-identical on every standard library: mt19937_64 plus explicit
/// inversion / Box-Muller (std::*_distribution are implementation-defined).
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  /// @brief Uniform in [0, 1).
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// @brief Uniform integer in [lo, hi].
  int uniform_int(int lo, int hi) {
    return lo + static_cast<int>(std::floor(uniform() * static_cast<double>(hi - lo + 1)));
  }
  /// @brief Standard normal (Box-Muller, one value per call).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  /// @brief Exponential with the given mean.
  double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }
  /// @brief Poisson: inversion below a mean of 30, a rounded normal approximation above.
  double poisson(double mean);

 private:
  std::mt19937_64 engine_;
};

/// @brief SplitMix64 finaliser: independent seeds for slices/streams derived from one seed.
std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream);

using V3 = spinescope::Vec3;  ///< internal arithmetic in µm

/// @brief An axis-aligned box in µm.
struct Box {
  double lo[3] = {0, 0, 0};
  double hi[3] = {0, 0, 0};
};

/// @brief A block of the isotropic fine grid: fine voxel (m0 + a, m1 + b, m2 + c) has its centre at
/// ((m0 + a)·f, (m1 + b)·f, (m2 + c)·f) µm. occ holds brightness × coverage, x fastest.
struct FineBlock {
  long m[3] = {0, 0, 0};
  std::size_t n[3] = {0, 0, 0};
  double f = 0.05;
  std::vector<float> occ;
  float& at(std::size_t a, std::size_t b, std::size_t c) { return occ[(c * n[1] + b) * n[0] + a]; }
};

/// @brief Adds (by maximum) primitive @p index to a fine block.
using FillFn = std::function<void(std::size_t index, FineBlock& block)>;

/// @brief The noiseless expected image in photons: photons · (occupancy ⊗ PSF) · exp(-z/L) + haze.
/// Renders tile by tile, each tile's fine grid covering only the primitives (@p boxes) that reach it.
Volume<float> render_expected(const std::vector<Box>& boxes, const FillFn& fill, const ImagingConfig& imaging);

/// @brief Poisson photon noise, gain, offset and Gaussian read noise, clipped to uint16. Deterministic
/// by imaging.seed whatever the thread count (one random stream per slice).
Volume<std::uint16_t> apply_camera(const Volume<float>& expected, const ImagingConfig& imaging);

/// @brief Expected image -> uint16 without noise (counts = photons · gain + offset, rounded).
Volume<std::uint16_t> apply_camera_noiseless(const Volume<float>& expected, const ImagingConfig& imaging);

/// @brief Throws ParameterError when the imaging settings are unusable.
void validate_imaging(const ImagingConfig& imaging, bool check_size = true);

/// @brief Coverage of a fine voxel whose centre has signed distance @p d_um to a surface (anti-aliased).
inline float coverage(double d_um, double f_um) {
  const double c = 0.5 - d_um / f_um;
  return static_cast<float>(c <= 0.0 ? 0.0 : (c >= 1.0 ? 1.0 : c));
}

}  // namespace spinescope::gen::detail
