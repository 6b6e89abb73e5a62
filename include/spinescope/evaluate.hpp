#pragma once
/// @file evaluate.hpp
/// @brief Scoring analysis results against ground truth: detection precision/recall/F1 with one-to-one matching,
/// density and length errors, head-diameter error, type accuracy. Everything in µm.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "spinescope/io.hpp"
#include "spinescope/volume.hpp"

namespace spinescope {

/// @brief A spine as read from a results spines.csv (detection) or a truth PREFIX.spines.csv.
struct EvalSpine {
  PointUm head;                   ///< x_um, y_um, z_um: head centre (tip for a filopodium)
  PointUm base;                   ///< truth only: base_x_um.. (equal to head when unknown)
  double head_diameter_um = 0.0;  ///< NaN where unknown (empty cell)
  std::string type;               ///< stubby, mushroom, thin, filopodium, or "unknown"/"" where unknown
};

/// @brief One stack's (or the pooled) scores. NaN marks a metric that cannot be computed (e.g. unknown length).
struct EvalMetrics {
  std::string results;  ///< results folder ("pooled" for the pool)
  std::string truth;    ///< truth prefix
  int true_spines = 0, detected_spines = 0, matched = 0;
  double precision = 0.0, recall = 0.0, f1 = 0.0;
  std::map<std::string, int> true_by_type, matched_by_type;  ///< per truth type (recall = matched / true)
  double dendrite_length_um = 0.0;       ///< sum of results dendrites.csv length_um
  double true_dendrite_length_um = 0.0;  ///< NaN when the truth has an unknown length
  double length_rel_error = 0.0;         ///< (detected - true) / true; NaN when unknown
  double density_per_um = 0.0, true_density_per_um = 0.0;
  double density_rel_error = 0.0;        ///< (detected - true) / true; NaN when unknown
  int diameter_pairs = 0;                ///< matched pairs with a known true head diameter
  double diameter_mae_um = 0.0, diameter_bias_um = 0.0;  ///< bias = mean(detected - true); NaN without pairs
  struct DiameterError {
    int pairs = 0;
    double mae_um = 0.0, bias_um = 0.0;
  };
  std::map<std::string, DiameterError> diameter_by_type;  ///< per truth type
  int typed_pairs = 0, type_correct = 0;  ///< matched pairs whose truth type is one of the four
  double type_accuracy = 0.0;             ///< NaN without typed pairs
  std::map<std::string, std::map<std::string, int>> confusion;  ///< truth type -> detected type -> count
};

/// @brief Scores of several stacks and their micro-averaged pool.
struct EvalReport {
  double tolerance_um = 0.8;
  std::vector<EvalMetrics> stacks;
  EvalMetrics pooled;                 ///< spines counted over all stacks; density/length over stacks with known length
  double mean_abs_density_error = 0.0;  ///< mean over stacks of |density_rel_error| (NaN when none known)
  double worst_density_error = 0.0;     ///< the per-stack density_rel_error of largest magnitude (signed)
  std::string worst_density_stack;
};

/// @brief Distance in µm from @p p to the segment @p a–@p b (to @p a when the segment is degenerate).
double distance_to_segment_um(const PointUm& p, const PointUm& a, const PointUm& b);

/// @brief A minimum-cost assignment on a rectangular cost matrix (rows × cols, row-major) where @p admissible
/// marks usable pairs: first the largest number of admissible pairs, then the least total cost among them.
/// Returns (row, col) pairs, sorted by row. Hungarian method with potentials, run per connected component of
/// the admissible graph so sparse problems of thousands of spines stay fast.
std::vector<std::pair<int, int>> min_cost_matching(int rows, int cols, const std::vector<double>& cost,
                                                   const std::vector<char>& admissible);

/// @brief Matches detections to truths one-to-one: a detection may match a truth when its head point lies
/// within @p tolerance_um of the truth's axis (the segment from base to head centre). Returns (truth, detection)
/// index pairs with the most matches and the least total distance.
std::vector<std::pair<int, int>> match_spines(const std::vector<EvalSpine>& truth,
                                              const std::vector<EvalSpine>& detected, double tolerance_um);

/// @brief The files of one results/truth pair. @p results is an analysis output folder (spines.csv,
/// dendrites.csv); @p truth is a prefix, a stack path (NAME.tif -> NAME.spines.csv) or a NAME.spines.csv.
struct EvalPair {
  std::string results;
  std::string truth;
};

/// @brief The truth prefix of @p truth ("cell.tif", "cell.spines.csv" and "cell" all give "cell").
std::string truth_prefix(const std::string& truth);

/// @brief Expands a batch output folder (one with stacks.csv) into one pair per stack with status ok, the truth
/// being TRUTH_DIR/<input file stem>; any other @p results gives the pair unchanged.
std::vector<EvalPair> expand_pair(const EvalPair& pair);

/// @brief Scores one results folder against one truth. Throws InputError naming every missing file.
/// @param tolerance_um match distance to the truth spine's axis, default 0.8 µm
EvalMetrics evaluate_stack(const EvalPair& pair, double tolerance_um = 0.8);

/// @brief Scores every pair (after expand_pair) and pools them (micro-average).
EvalReport evaluate(const std::vector<EvalPair>& pairs, double tolerance_um = 0.8);

/// @brief The report as JSON (NaN -> null).
Json to_json(const EvalReport& report);
/// @brief The report as a plain-text table for a terminal.
std::string format_table(const EvalReport& report);

}  // namespace spinescope
