#pragma once
/// @file filters.hpp
/// @brief Volume filters shared by stages: separable Gaussian (derivatives), decimation, Euclidean distance
/// transform and histogram percentiles. Sizes are µm and converted per axis with the volume's spacing.
///
/// Each filter is a serial kernel over lines or slices wrapped by tbb::parallel_for; results do not depend on
/// the number of threads.

#include <cstdint>
#include <vector>

#include "spinescope/volume.hpp"

namespace spinescope {

/// @brief Sampled 1-D Gaussian of @p sigma_vox voxels (order 0: smoothing, sum 1; order 1 or 2: derivative
/// kernels, moment-normalised), truncated at @p truncate sigma. Element r (the centre) is tap 0.
std::vector<float> gaussian_kernel(double sigma_vox, int order = 0, double truncate = 3.5);

/// @brief Smooths @p volume in place with a Gaussian of sigma (µm) per axis. An axis whose sigma is below
/// 0.25 voxel is left alone. Borders replicate the edge voxel.
void gaussian_blur(Volume<float>& volume, double sigma_x_um, double sigma_y_um, double sigma_z_um);

/// @brief Smooths in place along x and y only (sigma in µm), slice by slice.
void gaussian_blur_xy(Volume<float>& volume, double sigma_x_um, double sigma_y_um);

/// @brief Keeps every second voxel in x and y after a [1 2 1]/4 anti-alias filter; spacing doubles in x and y.
/// Voxel (i, j, k) of the result is voxel (2i, 2j, k) of the input, so the origin stays at 0.
Volume<float> decimate_xy2(const Volume<float>& volume);

/// @brief Euclidean distance in µm from each nonzero voxel of @p mask to the centre of the nearest zero voxel
/// (0 on zero voxels), using the mask's spacing. Voxels outside the volume count as zero when
/// @p outside_is_background, else they are ignored (a mask with no zero voxel then gets a large value).
Volume<float> distance_transform_um(const Volume<std::uint8_t>& mask, bool outside_is_background = true);

/// @brief Percentiles (0..100) of the voxel values of @p volume from a 65536-bin histogram between its minimum
/// and maximum (resolution (max - min) / 65536). Deterministic for any thread count.
std::vector<double> volume_percentiles(const Volume<float>& volume, const std::vector<double>& percentiles);

/// @brief volume_percentiles() of every stride-th voxel, the (odd) stride chosen so that at most about
/// @p max_samples voxels are used (all of them in a smaller volume): a percentile of millions of voxels is within a
/// small fraction of a percent of its rank, at a fraction of a whole-volume pass. Deterministic.
std::vector<double> sampled_percentiles(const Volume<float>& volume, const std::vector<double>& percentiles,
                                        std::size_t max_samples = std::size_t{1} << 22);

}  // namespace spinescope
