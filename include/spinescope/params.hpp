#pragma once
/// @file params.hpp
/// @brief Typed stage parameters: unit in the name, default, range, one-line doc. Reject, never clamp.

#include <map>
#include <string>
#include <vector>

namespace spinescope {

enum class ParamType { kReal, kInteger, kBoolean, kText };

/// @brief Declaration of one parameter of a stage.
struct ParamSpec {
  std::string name;           ///< e.g. "max_spine_length_um": the unit is in the name
  ParamType type = ParamType::kReal;
  std::string unit;           ///< "um", "um3", "", "fraction", ...
  std::string default_value;  ///< as text, parsed like a user value
  double min = -1e300;        ///< inclusive range for numbers
  double max = 1e300;
  std::string doc;            ///< one line
  std::vector<std::string> choices;  ///< allowed values for kText (empty: any)
};

/// @brief Helpers to declare parameters tersely in a stage's spec().
ParamSpec real_param(std::string name, double default_value, double min, double max, std::string unit,
                     std::string doc);
ParamSpec integer_param(std::string name, long default_value, long min, long max, std::string doc);
ParamSpec bool_param(std::string name, bool default_value, std::string doc);
ParamSpec text_param(std::string name, std::string default_value, std::vector<std::string> choices,
                     std::string doc);

/// @brief User settings "stage.param" -> text, from --set, a config file or code. Not yet validated.
class ParamSet {
 public:
  /// @brief Sets "stage.param" to value. Throws ParameterError when the key is not of the form stage.param.
  void set(const std::string& qualified_key, const std::string& value);
  /// @brief Parses "stage.param=value" (the --set form).
  void set_assignment(const std::string& assignment);
  /// @brief Reads a config file: one "stage.param = value" per line, '#' starts a comment.
  void load_file(const std::string& path);
  const std::map<std::string, std::string>& values() const { return values_; }
  bool empty() const { return values_.empty(); }

 private:
  std::map<std::string, std::string> values_;
};

/// @brief The validated values of one stage's parameters (defaults filled in).
class ResolvedParams {
 public:
  ResolvedParams() = default;
  /// @brief Validates @p set's entries for @p stage against @p specs; throws ParameterError naming stage, key, value.
  ResolvedParams(const std::string& stage, const std::vector<ParamSpec>& specs, const ParamSet& set);

  double real(const std::string& name) const;
  long integer(const std::string& name) const;
  bool flag(const std::string& name) const;
  const std::string& text(const std::string& name) const;
  /// @brief name -> value text, as resolved (for provenance).
  const std::map<std::string, std::string>& as_text() const { return text_; }

 private:
  std::string stage_;
  std::map<std::string, std::string> text_;
  std::map<std::string, double> numbers_;
};

}  // namespace spinescope
