#include "stages/classify/classify_stage.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "spinescope/spine.hpp"

namespace spinescope::stages::classify {

namespace {

constexpr double kReferenceBoxUm = 0.6;  // the shaft core is looked for this far around a spine's base

StageSpec make_spec() {
  StageSpec s;
  s.name = "classify";
  s.summary = "per spine: head diameter (PSF-corrected), neck, length, volume, type by the NeuronStudio rules";
  s.requires_artifacts = {artifacts::kSpines, artifacts::kSpineLabels, artifacts::kPreprocessed,
                          artifacts::kShaftMask, artifacts::kDendriteGraph};
  s.provides_artifacts = {};
  s.params = {
      real_param("psf_fwhm_xy_um", 0.25, 0.05, 2.0, "um", "lateral FWHM of the microscope's PSF"),
      real_param("psf_fwhm_z_um", 0.7, 0.05, 5.0, "um", "axial FWHM of the microscope's PSF"),
      real_param("neck_ratio", 1.1, 1.0, 5.0, "ratio",
                 "head/neck diameter ratio above which a spine has a neck (NeuronStudio)"),
      real_param("thin_ratio", 2.5, 0.5, 20.0, "ratio",
                 "length/head diameter ratio above which a neckless spine is thin (NeuronStudio)"),
      real_param("mushroom_head_um", 0.35, 0.05, 3.0, "um",
                 "a necked spine with a head at least this wide is a mushroom (NeuronStudio)"),
      real_param("filopodium_min_length_um", 1.5, 0.2, 10.0, "um",
                 "a headless protrusion at least this long is a filopodium"),
      real_param("headless_intensity_ratio", 1.3, 1.0, 5.0, "ratio",
                 "a protrusion whose head is at most this times as bright as its neck has no head (filopodium if long)"),
      real_param("min_neck_length_um", 0.15, 0.0, 2.0, "um",
                 "a shorter stretch between base and head is not measured as a neck (the spine has none)"),
  };
  s.columns = {{"head_diameter_um", "um", "head diameter corrected for the PSF"},
               {"neck_length_um", "um", "base to head surface"},
               {"neck_width_um", "um", "narrowest neck diameter corrected for the PSF"},
               {"length_um", "um", "base to tip"},
               {"volume_um3", "um3", "intensity-weighted volume relative to the local shaft core"},
               {"type", "", "stubby, mushroom, thin or filopodium"},
               {"confidence", "", "0..1: detection strength and distance from the type thresholds"}};
  s.reference = "doi:10.1371/journal.pone.0001997";
  return s;
}

}  // namespace

const StageSpec& ClassifyStage::spec() const {
  static const StageSpec s = make_spec();
  return s;
}

void ClassifyStage::on_configure(const ResolvedParams& p) {
  measure_.rules.neck_ratio = p.real("neck_ratio");
  measure_.rules.thin_ratio = p.real("thin_ratio");
  measure_.rules.mushroom_head_um = p.real("mushroom_head_um");
  measure_.rules.filopodium_min_length_um = p.real("filopodium_min_length_um");
  measure_.min_neck_length_um = p.real("min_neck_length_um");
  measure_.headless_intensity_ratio = p.real("headless_intensity_ratio");
  if (p.real("psf_fwhm_z_um") < p.real("psf_fwhm_xy_um"))
    throw ParameterError("classify", "psf_fwhm_z_um", p.as_text().at("psf_fwhm_z_um"),
                         "axial PSF narrower than the lateral one (psf_fwhm_xy_um=" +
                             p.as_text().at("psf_fwhm_xy_um") + ")");
  psf_fwhm_xy_um_ = p.real("psf_fwhm_xy_um");
  psf_fwhm_z_um_ = p.real("psf_fwhm_z_um");
  std::lock_guard<std::mutex> lock(mutex_);
  calibrations_.clear();
  calibrations_[0.0] = std::make_shared<const PsfCalibration>(psf_fwhm_xy_um_, psf_fwhm_z_um_);
}

std::shared_ptr<const PsfCalibration> ClassifyStage::calibration(double smoothing_sigma_um) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = calibrations_.find(smoothing_sigma_um);
  if (it != calibrations_.end()) return it->second;
  const double extra = 2.3548200450309493 * smoothing_sigma_um;  // FWHM of the smoothing Gaussian
  auto made = std::make_shared<const PsfCalibration>(std::hypot(psf_fwhm_xy_um_, extra), std::hypot(psf_fwhm_z_um_, extra));
  calibrations_[smoothing_sigma_um] = made;
  return made;
}

void ClassifyStage::run(Context& ctx) const {
  auto& spines = ctx.get<std::vector<Spine>>(artifacts::kSpines);
  const auto& labels = ctx.get<VolumeU32>(artifacts::kSpineLabels);
  const auto& pre = ctx.get<VolumeF>(artifacts::kPreprocessed);
  const auto& shaft = ctx.get<VolumeU8>(artifacts::kShaftMask);
  if (labels.nx() != pre.nx() || labels.ny() != pre.ny() || labels.nz() != pre.nz() || shaft.nx() != pre.nx() ||
      shaft.ny() != pre.ny() || shaft.nz() != pre.nz())
    throw StageError("classify", "spine labels / shaft mask size differs from the preprocessed volume");
  const std::size_t n = spines.size();
  for (std::size_t i = 0; i < n; ++i)
    if (spines[i].spine_id != static_cast<int>(i))
      throw StageError("classify", "spine ids must be 0..n-1 in order (spine " + std::to_string(i) + " has id " +
                                       std::to_string(spines[i].spine_id) + ")");
  // The voxels of every spine (one scan of the labels, bucketed by id, ascending).
  std::vector<std::size_t> start(n + 1, 0);
  for (std::size_t v = 0; v < labels.size(); ++v)
    if (labels[v] > 0 && labels[v] <= n) ++start[labels[v]];
  for (std::size_t i = 1; i <= n; ++i) start[i] += start[i - 1];
  std::vector<std::size_t> voxels(start[n]);
  {
    std::vector<std::size_t> fill(start.begin(), start.end() - 1);
    for (std::size_t v = 0; v < labels.size(); ++v)
      if (labels[v] > 0 && labels[v] <= n) voxels[fill[labels[v] - 1]++] = v;
  }
  ctx.report_progress(0.2);
  // Denoising widened the blur beyond the PSF; the preprocess stage's resolved parameters say by how much.
  double smoothing_sigma_um = 0.0;
  const auto stage = ctx.info().parameters.find("preprocess");
  if (stage != ctx.info().parameters.end()) {
    const auto sigma = stage->second.find("denoise_sigma_um");
    if (sigma != stage->second.end()) smoothing_sigma_um = std::max(0.0, std::atof(sigma->second.c_str()));
  }
  const std::shared_ptr<const PsfCalibration> cal = calibration(smoothing_sigma_um);
  const Spacing& s = pre.spacing();
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 8), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i < r.end(); ++i) {
      Spine& spine = spines[i];
      // Local dye reference: the brightest shaft voxel near the base (the shaft core).
      const long ci = std::lround(spine.base.x_um / s.x_um), cj = std::lround(spine.base.y_um / s.y_um),
                 ck = std::lround(spine.base.z_um / s.z_um);
      const long rx = std::lround(s.x_vox(kReferenceBoxUm)), ry = std::lround(s.y_vox(kReferenceBoxUm)),
                 rz = std::lround(s.z_vox(kReferenceBoxUm));
      double reference = 0;
      for (long k = ck - rz; k <= ck + rz; ++k)
        for (long j = cj - ry; j <= cj + ry; ++j)
          for (long a = ci - rx; a <= ci + rx; ++a)
            if (pre.inside(a, j, k) && shaft(a, j, k)) reference = std::max(reference, static_cast<double>(pre(a, j, k)));
      if (!(reference > 0)) reference = 1.0;  // no shaft near (detached head far out): preprocessed units
      const std::vector<std::size_t> own(voxels.begin() + start[i], voxels.begin() + start[i + 1]);
      measure_spine(pre, own, reference, *cal, measure_, &spine);
    }
  });
}

}  // namespace spinescope::stages::classify
