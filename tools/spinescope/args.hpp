#pragma once
// A small command-line parser shared by every subcommand: --key value, --key=value, flags, positionals.
#include <map>
#include <set>
#include <string>
#include <vector>

namespace spinescope::cli {

class Args {
 public:
  /// @p value_options take a value; @p flag_options do not. Anything else starting with "--" is an error.
  Args(int argc, char** argv, const std::set<std::string>& value_options, const std::set<std::string>& flag_options);
  bool has(const std::string& option) const;
  /// The last value given for @p option, or @p fallback.
  std::string value(const std::string& option, const std::string& fallback = "") const;
  /// Every value given for a repeatable option (e.g. --set).
  std::vector<std::string> values(const std::string& option) const;
  const std::vector<std::string>& positional() const { return positional_; }
  /// A number option; throws ParameterError naming the option when it is not a number in [min, max].
  double number(const std::string& option, double fallback, double min, double max) const;

 private:
  std::multimap<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

}  // namespace spinescope::cli
