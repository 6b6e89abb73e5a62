#pragma once
/// @file classify_stage.hpp
/// @brief Stage "classify": measures each spine in µm and types it (stubby, mushroom, thin, filopodium).
///
/// Input: spines, spine_labels, preprocessed, shaft_mask, dendrite_graph. Output: the spines artifact updated in
/// place: head centre (the tip for a filopodium), head_diameter_um, neck_length_um, neck_width_um, length_um
/// (base to tip), volume_um3 (intensity-weighted, relative to the local shaft core), type and confidence.
/// Anisotropic voxels: widths are measured laterally (x/y, where resolution is best) by trilinear sampling in µm
/// and corrected for the PSF by inverting a numerically computed "true size -> image FWHM" curve for a ball
/// (heads) or a cylinder (necks). The image's blur is the PSF combined with the Gaussian denoising that the
/// preprocess stage recorded in the stack info (preprocess.denoise_sigma_um), so the correction matches the image
/// actually measured.
///
/// Types (Rodriguez et al. 2008, doi:10.1371/journal.pone.0001997, NeuronStudio's rules, in this order):
/// 1. filopodium: no head (head and neck cross-sections alike: measured head FWHM <= neck_ratio x neck FWHM) and
///    length >= filopodium_min_length_um (our addition; NeuronStudio has no filopodia);
/// 2. head/neck diameter > neck_ratio: mushroom when head >= mushroom_head_um, else thin;
/// 3. otherwise length/head > thin_ratio: thin, else stubby.

#include <map>
#include <memory>
#include <mutex>

#include "spinescope/stage.hpp"
#include "stages/classify/measure.hpp"
#include "stages/classify/psf_calibration.hpp"

namespace spinescope::stages::classify {

class ClassifyStage : public Stage {
 public:
  const StageSpec& spec() const override;
  void run(Context& ctx) const override;
  /// @brief The calibration for the PSF widened by a Gaussian smoothing of @p smoothing_sigma_um (µm, every axis);
  /// the one for 0 is built by configure(), others on first use (thread-safe).
  std::shared_ptr<const PsfCalibration> calibration(double smoothing_sigma_um) const;

 protected:
  void on_configure(const ResolvedParams& params) override;

 private:
  MeasureParams measure_;
  double psf_fwhm_xy_um_ = 0.25, psf_fwhm_z_um_ = 0.7;
  mutable std::mutex mutex_;
  mutable std::map<double, std::shared_ptr<const PsfCalibration>> calibrations_;
};

}  // namespace spinescope::stages::classify
