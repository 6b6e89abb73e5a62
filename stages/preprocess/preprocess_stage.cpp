#include "stages/preprocess/preprocess_stage.hpp"

#include "spinescope/errors.hpp"

namespace spinescope::stages::preprocess {

const StageSpec& PreprocessStage::spec() const {
  static const StageSpec s = [] {
    StageSpec spec;
    spec.name = "preprocess";
    spec.summary = "background subtraction, denoising and percentile normalisation (0 = background, 1 = dendrite)";
    spec.requires_artifacts = {artifacts::kImage};
    spec.provides_artifacts = {artifacts::kPreprocessed};
    spec.params = {
        real_param("denoise_sigma_um", 0.1, 0.0, 2.0, "um", "Gaussian denoising sigma on every axis (0 = off)"),
        real_param("background_radius_um", 5.0, 0.0, 100.0, "um",
                   "background varies over at least this distance; must exceed the thickest dendrite (0 = off)"),
        real_param("low_percentile", 50.0, 0.0, 99.0, "percent", "intensity percentile mapped to 0 (background)"),
        real_param("high_percentile", 99.9, 50.0, 100.0, "percent",
                   "intensity percentile mapped to 1 (bright dendrite)"),
        bool_param("deconvolve", false, "Richardson-Lucy deconvolution with a Gaussian PSF before everything else"),
        real_param("psf_fwhm_xy_um", 0.25, 0.05, 5.0, "um", "lateral FWHM of the point spread function"),
        real_param("psf_fwhm_z_um", 0.7, 0.05, 10.0, "um", "axial FWHM of the point spread function"),
        integer_param("deconvolution_iterations", 10, 1, 200, "Richardson-Lucy iterations"),
    };
    spec.reference = "Richardson 1972 doi:10.1364/JOSA.62.000055; Lucy 1974 doi:10.1086/111605";
    return spec;
  }();
  return s;
}

void PreprocessStage::on_configure(const ResolvedParams& p) {
  options_.denoise_sigma_um = p.real("denoise_sigma_um");
  options_.background_radius_um = p.real("background_radius_um");
  options_.low_percentile = p.real("low_percentile");
  options_.high_percentile = p.real("high_percentile");
  options_.deconvolve = p.flag("deconvolve");
  options_.psf_fwhm_xy_um = p.real("psf_fwhm_xy_um");
  options_.psf_fwhm_z_um = p.real("psf_fwhm_z_um");
  options_.deconvolution_iterations = static_cast<int>(p.integer("deconvolution_iterations"));
  if (options_.low_percentile >= options_.high_percentile)
    throw ParameterError("preprocess", "low_percentile", p.as_text().at("low_percentile"),
                         "must be below high_percentile (" + p.as_text().at("high_percentile") + ")");
}

void PreprocessStage::run(Context& ctx) const {
  // Nothing after this stage needs the raw stack (the overlay uses kRawMip): take it and work in place.
  Volume<float> volume = std::move(ctx.get<Volume<float>>(artifacts::kImage));
  ctx.erase(artifacts::kImage);
  if (volume.empty()) throw StageError("preprocess", "the image is empty");
  if (!volume.spacing().valid()) throw StageError("preprocess", "the image has no valid voxel size");
  preprocess_volume(volume, options_, [&](double f) { ctx.report_progress(f); });
  ctx.put(artifacts::kPreprocessed, std::move(volume));
}

}  // namespace spinescope::stages::preprocess
