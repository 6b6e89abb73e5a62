#pragma once
/// @file registry.hpp
/// @brief The explicit stage registry (generated from stages/*/CMakeLists.txt) and the pipeline runner.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "spinescope/stage.hpp"

namespace spinescope {

struct StageEntry {
  std::string name;
  std::function<std::unique_ptr<Stage>()> create;
};

/// @brief Every built-in stage, in registration order.
const std::vector<StageEntry>& registered_stages();
/// @brief A new, unconfigured stage by name; throws ParameterError naming the unknown stage.
std::unique_ptr<Stage> create_stage(const std::string& name);

/// @brief The default analysis chain: load, preprocess, dendrites, spines, classify, report.
std::vector<std::string> default_chain();

/// @brief An ordered list of configured stages.
class Pipeline {
 public:
  /// @brief Creates and configures the named stages; every key in @p params must name one of them
  /// and one of its parameters (a typo must not run on defaults).
  static Pipeline from_names(const std::vector<std::string>& names, const ParamSet& params);

  void append(std::unique_ptr<Stage> stage);
  void insert_before(const std::string& name, std::unique_ptr<Stage> stage);
  void replace(const std::string& name, std::unique_ptr<Stage> stage);
  void remove(const std::string& name);

  /// @brief Checks that every stage's required artifacts come from an earlier stage or are in @p initial.
  void validate(const std::vector<std::string>& initial = {}) const;
  /// @brief Validates, then runs every stage in order; records resolved parameters in the StackInfo.
  void run(Context& ctx) const;

  const std::vector<std::unique_ptr<Stage>>& stages() const { return stages_; }
  /// @brief stage -> param -> resolved value, for provenance and completion hashes.
  std::map<std::string, std::map<std::string, std::string>> resolved_parameters() const;

 private:
  std::vector<std::unique_ptr<Stage>> stages_;
};

}  // namespace spinescope
