#pragma once
/// @file preprocess.hpp
/// @brief Background subtraction, denoising, percentile normalisation and Richardson–Lucy deconvolution of a
/// float volume, in place; every size in µm, converted per axis with the volume's spacing.

#include <functional>

#include "spinescope/volume.hpp"

namespace spinescope::stages::preprocess {

/// @brief Settings of preprocess_volume() (the stage's parameters).
struct PreprocessOptions {
  double denoise_sigma_um = 0.1;      ///< Gaussian sigma (µm, every axis); 0 = no denoising
  double background_radius_um = 5.0;  ///< background varies over ≥ this (µm); 0 = no subtraction
  double low_percentile = 50.0;       ///< maps to 0 (background)
  double high_percentile = 99.9;      ///< maps to 1 (bright dendrite)
  bool deconvolve = false;            ///< Richardson–Lucy with a Gaussian PSF first
  double psf_fwhm_xy_um = 0.25;
  double psf_fwhm_z_um = 0.7;
  int deconvolution_iterations = 10;
};

/// @brief Subtracts a slowly varying background: per slice, the minimum over blocks of 2·@p radius_um
/// (after denoising, a dendrite never fills such a block), averaged over three slices and interpolated bilinearly
/// between block centres (extrapolated linearly to the edges).
void subtract_background(Volume<float>& volume, double radius_um);

/// @brief Maps the @p low_percentile value to 0 and the @p high_percentile value to 1 (linear, not clipped).
/// A volume without contrast between the two percentiles is only shifted.
void normalise_percentiles(Volume<float>& volume, double low_percentile, double high_percentile);

/// @brief Richardson–Lucy deconvolution in place with a Gaussian PSF of the given FWHM (µm); the camera
/// offset (0.1st percentile) is removed first and the result is non-negative.
void richardson_lucy(Volume<float>& volume, double psf_fwhm_xy_um, double psf_fwhm_z_um, int iterations,
                     const std::function<void(double)>& progress = {});

/// @brief The whole preprocessing chain: deconvolve (optional), denoise, subtract background, normalise.
/// @p progress receives fractions 0..1 (it may throw to cancel).
void preprocess_volume(Volume<float>& volume, const PreprocessOptions& options,
                       const std::function<void(double)>& progress = {});

}  // namespace spinescope::stages::preprocess
