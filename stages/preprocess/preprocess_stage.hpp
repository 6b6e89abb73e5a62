#pragma once
/// @file preprocess_stage.hpp
/// @brief preprocess: background subtraction, denoising, percentile normalisation, optional deconvolution.
///
/// Input: artifacts::kImage (Volume<float>, raw counts; taken out of the context and processed in place).
/// Output: artifacts::kPreprocessed (Volume<float>, about 0 = background, 1 = bright dendrite, same spacing).
/// Anisotropy: every size is µm and converted per axis (z may be 2–4x coarser).
/// Reference: Richardson, J. Opt. Soc. Am. 62:55 (1972), doi:10.1364/JOSA.62.000055; Lucy, Astron. J. 79:745
/// (1974), doi:10.1086/111605.

#include "stages/preprocess/preprocess.hpp"
#include "spinescope/stage.hpp"

namespace spinescope::stages::preprocess {

class PreprocessStage : public Stage {
 public:
  const StageSpec& spec() const override;
  void run(Context& ctx) const override;

 protected:
  void on_configure(const ResolvedParams& params) override;

 private:
  PreprocessOptions options_;
};

}  // namespace spinescope::stages::preprocess
