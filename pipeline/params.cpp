#include "spinescope/params.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"

namespace spinescope {
namespace {

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool parse_double(const std::string& text, double* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool parse_bool(const std::string& text, bool* out) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "true" || t == "1" || t == "yes" || t == "on") return *out = true, true;
  if (t == "false" || t == "0" || t == "no" || t == "off") return *out = false, true;
  return false;
}

}  // namespace

ParamSpec real_param(std::string name, double default_value, double min, double max, std::string unit,
                     std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = ParamType::kReal;
  p.default_value = format_number(default_value, 10);
  p.min = min;
  p.max = max;
  p.unit = std::move(unit);
  p.doc = std::move(doc);
  return p;
}

ParamSpec integer_param(std::string name, long default_value, long min, long max, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = ParamType::kInteger;
  p.default_value = std::to_string(default_value);
  p.min = static_cast<double>(min);
  p.max = static_cast<double>(max);
  p.doc = std::move(doc);
  return p;
}

ParamSpec bool_param(std::string name, bool default_value, std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = ParamType::kBoolean;
  p.default_value = default_value ? "true" : "false";
  p.doc = std::move(doc);
  return p;
}

ParamSpec text_param(std::string name, std::string default_value, std::vector<std::string> choices,
                     std::string doc) {
  ParamSpec p;
  p.name = std::move(name);
  p.type = ParamType::kText;
  p.default_value = std::move(default_value);
  p.choices = std::move(choices);
  p.doc = std::move(doc);
  return p;
}

void ParamSet::set(const std::string& qualified_key, const std::string& value) {
  const std::string key = trim(qualified_key);
  const auto dot = key.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == key.size())
    throw ParameterError("", key, value, "expected the form stage.parameter (see 'spinescope stages')");
  values_[key] = trim(value);
}

void ParamSet::set_assignment(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos)
    throw ParameterError("--set " + assignment + ": expected stage.parameter=value");
  set(assignment.substr(0, eq), assignment.substr(eq + 1));
}

void ParamSet::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, "cannot open config file", kExitNoInput);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    line = trim(line);
    if (line.empty()) continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos)
      throw ParameterError(path + ":" + std::to_string(number) + ": expected 'stage.parameter = value', got '" +
                           line + "'");
    set(line.substr(0, eq), line.substr(eq + 1));
  }
}

ResolvedParams::ResolvedParams(const std::string& stage, const std::vector<ParamSpec>& specs,
                               const ParamSet& set)
    : stage_(stage) {
  const std::string prefix = stage + ".";
  for (const auto& [key, value] : set.values()) {
    if (key.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string name = key.substr(prefix.size());
    const bool known = std::any_of(specs.begin(), specs.end(), [&](const ParamSpec& p) { return p.name == name; });
    if (!known) throw ParameterError(stage, name, value, "unknown parameter of stage " + stage);
  }
  for (const auto& spec : specs) {
    auto it = set.values().find(prefix + spec.name);
    const std::string value = it == set.values().end() ? spec.default_value : it->second;
    switch (spec.type) {
      case ParamType::kReal:
      case ParamType::kInteger: {
        double v = 0.0;
        if (!parse_double(value, &v))
          throw ParameterError(stage, spec.name, value, "not a number");
        if (spec.type == ParamType::kInteger && v != std::floor(v))
          throw ParameterError(stage, spec.name, value, "not a whole number");
        if (v < spec.min || v > spec.max)
          throw ParameterError(stage, spec.name, value,
                               "out of range [" + format_number(spec.min) + ", " + format_number(spec.max) + "]" +
                                   (spec.unit.empty() ? "" : " " + spec.unit));
        numbers_[spec.name] = v;
        break;
      }
      case ParamType::kBoolean: {
        bool b = false;
        if (!parse_bool(value, &b)) throw ParameterError(stage, spec.name, value, "expected true or false");
        numbers_[spec.name] = b ? 1.0 : 0.0;
        break;
      }
      case ParamType::kText:
        if (!spec.choices.empty() &&
            std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end()) {
          std::string allowed;
          for (const auto& c : spec.choices) allowed += (allowed.empty() ? "" : ", ") + c;
          throw ParameterError(stage, spec.name, value, "expected one of: " + allowed);
        }
        break;
    }
    text_[spec.name] = value;
  }
}

double ResolvedParams::real(const std::string& name) const {
  auto it = numbers_.find(name);
  if (it == numbers_.end()) throw ParameterError(stage_, name, "", "no such numeric parameter (stage bug)");
  return it->second;
}
long ResolvedParams::integer(const std::string& name) const { return static_cast<long>(std::llround(real(name))); }
bool ResolvedParams::flag(const std::string& name) const { return real(name) != 0.0; }
const std::string& ResolvedParams::text(const std::string& name) const {
  auto it = text_.find(name);
  if (it == text_.end()) throw ParameterError(stage_, name, "", "no such parameter (stage bug)");
  return it->second;
}

}  // namespace spinescope
