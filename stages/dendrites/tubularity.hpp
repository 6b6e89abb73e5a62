#pragma once
/// @file tubularity.hpp
/// @brief Multi-scale Hessian bright-tube measure on anisotropic voxels (Sato et al. 1998), closed-form 3×3
/// eigenvalues (Smith 1961), evaluated only where it can matter.

#include <vector>

#include "spinescope/volume.hpp"

namespace spinescope::stages::dendrites {

/// @brief Eigenvalues of the symmetric matrix [[a11 a12 a13] [a12 a22 a23] [a13 a23 a33]], ascending
/// (trigonometric closed form, O. K. Smith, Comm. ACM 4:168, 1961).
void symmetric_eigenvalues(float a11, float a22, float a33, float a12, float a13, float a23, float ev[3]);

/// @brief Sato bright-tube response from ascending Hessian eigenvalues: two strongly negative cross-section
/// eigenvalues, the axial one near 0 (a blob, all three negative, is suppressed).
float bright_tube_response(const float ev[3]);

/// @brief Gaussian sigmas (µm) for tubes of radius @p min_radius_um to @p max_radius_um: @p count scales spaced
/// geometrically, sigma = radius / sqrt(2).
std::vector<double> tube_sigmas_um(double min_radius_um, double max_radius_um, int count);

/// @brief Maximum over @p sigmas_um of the scale-normalised (sigma² · Hessian) bright-tube response of
/// @p volume. Hessians come from central differences of the Gaussian-smoothed volume with the volume's
/// spacing (sigma per axis in voxels = sigma_um / spacing). Only voxels where @p where is nonzero are evaluated
/// (others 0); @p where may be null (every voxel). Slab-parallel; thread-count independent.
Volume<float> tubularity(const Volume<float>& volume, const std::vector<double>& sigmas_um,
                         const Volume<std::uint8_t>* where);

}  // namespace spinescope::stages::dendrites
