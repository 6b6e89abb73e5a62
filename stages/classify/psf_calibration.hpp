#pragma once
/// @file psf_calibration.hpp
/// @brief How a Gaussian PSF widens small objects, and its inverse: true size from a measured lateral FWHM.
///
/// Curves are computed numerically (no fudge factor): the lateral intensity profile through the centre of a
/// solid ball (or across a solid cylinder) of diameter D convolved with a Gaussian PSF of the given lateral and
/// axial FWHM, and its full width at half maximum. Inversion is by linear interpolation on a 0.01 µm grid.

#include <vector>

namespace spinescope::stages::classify {

/// @brief The orientation of a cylinder relative to the optical (z) axis, for neck widths.
enum class CylinderAxis { kLateral, kAxial };

class PsfCalibration {
 public:
  PsfCalibration() = default;
  /// @param psf_fwhm_xy_um lateral FWHM of the PSF (µm); @param psf_fwhm_z_um axial FWHM (µm).
  PsfCalibration(double psf_fwhm_xy_um, double psf_fwhm_z_um);

  /// @brief Gaussian sigma (µm) of the PSF laterally and along z.
  double sigma_xy_um() const { return sigma_xy_; }
  double sigma_z_um() const { return sigma_z_; }

  /// @brief Lateral FWHM (µm) of the image of a ball of diameter @p diameter_um, through its centre.
  double ball_fwhm_um(double diameter_um) const;
  /// @brief Lateral FWHM (µm) across the image of a long cylinder of diameter @p diameter_um.
  double cylinder_fwhm_um(double diameter_um, CylinderAxis axis) const;

  /// @brief Peak image intensity at the centre of a ball of diameter @p diameter_um, as a fraction of the
  /// intensity of a volume completely filled with the same dye (0..1).
  double ball_peak_fraction(double diameter_um) const;
  /// @brief Peak image intensity on the axis of a long cylinder of diameter @p diameter_um, as a fraction of the
  /// intensity of a filled volume (0..1).
  double cylinder_peak_fraction(double diameter_um, CylinderAxis axis) const;
  /// @brief Cylinder diameter (µm) whose axis images at @p fraction of a filled volume's intensity (0 for
  /// fraction <= 0; the table's largest diameter, 3 µm, for fraction >= its peak).
  double cylinder_diameter_from_peak_um(double fraction, CylinderAxis axis) const;
  /// @brief Ball diameter (µm) whose centre images at @p fraction of a filled volume's intensity (0 for
  /// fraction <= 0; 3 µm, the table's end, for fraction >= its peak).
  double ball_diameter_from_peak_um(double fraction) const;

  /// @brief Ball diameter (µm) whose image has lateral FWHM @p fwhm_um (0 when narrower than the PSF's image of a
  /// point; extrapolated linearly beyond the table).
  double ball_diameter_um(double fwhm_um) const { return invert(ball_, fwhm_um); }
  /// @brief Cylinder diameter (µm) whose image has lateral FWHM @p fwhm_um.
  double cylinder_diameter_um(double fwhm_um, CylinderAxis axis) const {
    return invert(axis == CylinderAxis::kLateral ? cyl_lateral_ : cyl_axial_, fwhm_um);
  }

 private:
  double invert(const std::vector<double>& table, double fwhm_um) const;
  double sigma_xy_ = 0.1, sigma_z_ = 0.3;
  std::vector<double> ball_, cyl_lateral_, cyl_axial_;  ///< FWHM at diameter i * kStepUm
  std::vector<double> peak_ball_, peak_lateral_, peak_axial_;  ///< peak fractions at diameter i * kStepUm
};

}  // namespace spinescope::stages::classify
