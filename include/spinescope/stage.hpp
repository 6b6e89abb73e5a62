#pragma once
/// @file stage.hpp
/// @brief The Stage interface: declare (spec), configure (typed, validated parameters), run over a Context.

#include <memory>
#include <string>
#include <vector>

#include "spinescope/context.hpp"
#include "spinescope/params.hpp"

namespace spinescope {

/// @brief A result column a stage produces, with its unit ("" for counts and labels).
struct ColumnSpec {
  std::string name;
  std::string unit;
  std::string doc;
};

/// @brief What a stage declares before anything runs.
struct StageSpec {
  std::string name;
  std::string summary;
  std::vector<std::string> requires_artifacts;  ///< context keys read
  std::vector<std::string> provides_artifacts;  ///< context keys written
  std::vector<ParamSpec> params;
  std::vector<ColumnSpec> columns;
  std::string reference;  ///< method reference (DOI) where there is one
};

/// @brief A pipeline stage. run() is const: one configured stage serves many stacks at once.
class Stage {
 public:
  virtual ~Stage() = default;
  virtual const StageSpec& spec() const = 0;
  /// @brief Validates this stage's entries of @p set (defaults for the rest); throws ParameterError.
  void configure(const ParamSet& set);
  /// @brief Runs on one stack. Reads and writes artifacts in @p ctx; throws spinescope errors.
  virtual void run(Context& ctx) const = 0;
  const ResolvedParams& params() const { return params_; }

 protected:
  /// @brief Called after validation so the stage can cache typed values.
  virtual void on_configure(const ResolvedParams& /*params*/) {}

 private:
  ResolvedParams params_;
};

/// @brief Artifact keys shared between the built-in stages.
namespace artifacts {
inline constexpr const char* kImage = "image";              ///< Volume<float>: the raw stack, as loaded
inline constexpr const char* kRawMip = "raw_mip";           ///< Volume<float> with nz = 1: max projection of the raw stack
inline constexpr const char* kPreprocessed = "preprocessed";///< Volume<float>: background-free, denoised, ~[0, 1]
inline constexpr const char* kForeground = "foreground";    ///< Volume<uint8_t>: neuron foreground mask
inline constexpr const char* kShaftMask = "shaft_mask";     ///< Volume<uint8_t>: dendrite shaft without spines
inline constexpr const char* kDendriteGraph = "dendrite_graph";  ///< DendriteGraph
inline constexpr const char* kSpineCandidates = "spine_candidates";  ///< SpineCandidates
inline constexpr const char* kSpines = "spines";            ///< std::vector<Spine>
inline constexpr const char* kSpineLabels = "spine_labels"; ///< Volume<uint32_t>: 0 background, spine_id + 1
}  // namespace artifacts

}  // namespace spinescope
