#pragma once
/// @file study.hpp
/// @brief A generated treated-vs-control study: groups × animals × neurons, one ground-truth stack per neuron,
/// with a known density effect and animal- and neuron-level biological variation, plus its sample sheet and
/// truth table (what `spinescope batch` and `spinescope stats` are checked against).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope::gen {

/// @brief Study defaults: 192 × 192 × 24 voxels of 0.1 × 0.1 × 0.35 µm, control density 0.5 per µm, spine bases
/// at least 0.8 µm apart (so densities up to 1.25 per µm are realisable).
GeneratorConfig default_study_generator();

/// @brief Design of a generated study.
struct StudyConfig {
  /// Per-stack settings; base.spine_density_per_um is the control group's nominal density (default 0.5 per µm),
  /// base.imaging.seed is ignored (each stack gets its own seed from @p seed).
  GeneratorConfig base = default_study_generator();
  std::vector<std::string> groups{"control", "drug"};  ///< the first is the control group
  double effect = 1.4;       ///< density multiplier of every group after the first (1 = no effect), in [0.1, 3]
  int animals = 3;           ///< animals per group, in [1, 100]
  int neurons = 2;           ///< neurons (stacks) per animal, in [1, 100]
  double animal_sd = 0.08;   ///< sd of the animal factor on log scale (lognormal, median 1), in [0, 1]
  double neuron_sd = 0.05;   ///< sd of the neuron factor on log scale, in [0, 1]
  std::uint64_t seed = 1;    ///< the study's seed: random factors and every stack's seed derive from it
};

/// @brief Ground truth of one stack of a study.
struct StudyStackTruth {
  std::string group, animal, neuron;
  std::string file;                  ///< file name of the stack, relative to the study folder
  std::uint64_t seed = 0;            ///< the stack's generator seed
  double animal_factor = 1.0, neuron_factor = 1.0;
  double nominal_density_per_um = 0.0;  ///< control density × effect × animal factor × neuron factor
  int spines = 0;                       ///< truth spines rendered
  double length_um = 0.0;               ///< truth dendrite length inside the stack
  double density_per_um() const { return length_um > 0 ? spines / length_um : 0.0; }
};

/// @brief Nominal density above which the spine-gap process saturates (mean gap ≥ 1.25 · min_spine_gap_um):
/// 1 / (1.25 · min_spine_gap_um) per µm. Denser requests realise about the same density as this.
double saturation_density_per_um(const GeneratorConfig& config);

/// @brief Draws the study design (factors, seeds, nominal densities; no rendering). Deterministic by
/// config.seed; the factors and stack seeds do not depend on config.effect, so two studies that differ only in
/// effect have the same animals, neurons and dendrite geometry. Throws ParameterError on a bad design (names not
/// usable in a file name or a CSV, duplicate groups, a treated density above saturation_density_per_um).
std::vector<StudyStackTruth> plan_study(const StudyConfig& config);

/// @brief Renders and writes a study into @p dir (created): DIR/<group>_a<k>_n<m>.tif with its truth files (as
/// write_generated), DIR/sheet.csv (path,group,animal,neuron; paths relative to the sheet) and
/// DIR/truth_study.csv (one row per stack: design, realised truth spines, length and density). Animal ids are
/// <group>-<k> (unique across groups), neuron ids n<m>. @p on_stack is called after each stack is written.
std::vector<StudyStackTruth> write_study(const std::string& dir, const StudyConfig& config,
                                         const std::function<void(const StudyStackTruth&,
                                                                  const GeneratedStack&)>& on_stack = {});

/// @brief The truth a statistics run should recover: per group the mean over animals of each animal's mean
/// neuron density (per µm), and its ratio to the control group's (the first group).
struct StudyGroupTruth {
  std::string group;
  double mean_density_per_um = 0.0;
  double ratio_to_control = 1.0;
};
std::vector<StudyGroupTruth> study_group_truth(const std::vector<StudyStackTruth>& stacks,
                                               const std::vector<std::string>& groups);

}  // namespace spinescope::gen
