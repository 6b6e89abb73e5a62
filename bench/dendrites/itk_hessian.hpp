#pragma once
// ITK's HessianRecursiveGaussianImageFilter on a Volume (the reference the benchmark compares against).

#include "spinescope/volume.hpp"

namespace spinescope::bench {

/// @brief Runs itk::HessianRecursiveGaussianImageFilter (sigma in µm, image spacing) on @p volume with
/// @p threads ITK threads and returns the sum of the Hessian traces (so the work is not optimised away).
double itk_hessian(const Volume<float>& volume, double sigma_um, int threads);

}  // namespace spinescope::bench
