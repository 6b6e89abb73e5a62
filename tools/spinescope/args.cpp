#include "args.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"

namespace spinescope::cli {

Args::Args(int argc, char** argv, const std::set<std::string>& value_options,
           const std::set<std::string>& flag_options) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h") a = "--help";
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::string key = a.substr(2), val;
      const auto eq = key.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) val = key.substr(eq + 1), key = key.substr(0, eq);
      if (flag_options.count(key) || key == "help") {
        if (inline_value) throw ParameterError("option --" + key + " takes no value");
        flags_.insert(key);
      } else if (value_options.count(key)) {
        if (!inline_value) {
          if (i + 1 >= argc) throw ParameterError("option --" + key + " needs a value");
          val = argv[++i];
        }
        values_.emplace(key, val);
      } else {
        throw ParameterError("unknown option --" + key + " (see --help)");
      }
    } else {
      positional_.push_back(a);
    }
  }
}

bool Args::has(const std::string& option) const { return flags_.count(option) || values_.count(option); }

std::string Args::value(const std::string& option, const std::string& fallback) const {
  auto range = values_.equal_range(option);
  std::string v = fallback;
  for (auto it = range.first; it != range.second; ++it) v = it->second;
  return v;
}

std::vector<std::string> Args::values(const std::string& option) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(option);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

double Args::number(const std::string& option, double fallback, double min, double max) const {
  if (!values_.count(option)) return fallback;
  const std::string text = value(option);
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v))
    throw ParameterError("option --" + option + "=" + text + ": not a number");
  if (v < min || v > max)
    throw ParameterError("option --" + option + "=" + text + ": out of range [" + format_number(min) + ", " +
                         format_number(max) + "]");
  return v;
}

}  // namespace spinescope::cli
