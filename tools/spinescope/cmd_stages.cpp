// spinescope stages: every registered stage, its artifacts and parameters.
#include <cstdio>

#include "args.hpp"
#include "commands.hpp"
#include "spinescope/io.hpp"
#include "spinescope/registry.hpp"

namespace spinescope::cli {

namespace {
const char* type_name(ParamType t) {
  switch (t) {
    case ParamType::kReal: return "real";
    case ParamType::kInteger: return "integer";
    case ParamType::kBoolean: return "bool";
    case ParamType::kText: return "text";
  }
  return "?";
}
std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s.empty() ? "-" : s;
}
}  // namespace

int cmd_stages(int argc, char** argv) {
  Args args(argc, argv, {}, {});
  if (args.has("help")) {
    std::printf("usage: spinescope stages\n\nLists every stage with the artifacts it reads and writes and each\n"
                "parameter: type, unit, default, allowed range and what it does. Set one with\n"
                "--set stage.parameter=value (analyze, batch) or a config file of such lines (--config).\n");
    return 0;
  }
  for (const auto& entry : registered_stages()) {
    auto stage = entry.create();
    const StageSpec& s = stage->spec();
    std::printf("%s — %s\n", s.name.c_str(), s.summary.c_str());
    std::printf("  reads: %s\n  writes: %s\n", join(s.requires_artifacts).c_str(), join(s.provides_artifacts).c_str());
    if (!s.reference.empty()) std::printf("  reference: %s\n", s.reference.c_str());
    for (const auto& p : s.params) {
      std::string range;
      if (p.type == ParamType::kReal || p.type == ParamType::kInteger)
        range = " in [" + format_number(p.min) + ", " + format_number(p.max) + "]";
      else if (!p.choices.empty())
        range = " one of {" + join(p.choices) + "}";
      std::printf("  %s.%s (%s%s%s) = %s%s\n      %s\n", s.name.c_str(), p.name.c_str(), type_name(p.type),
                  p.unit.empty() ? "" : ", ", p.unit.c_str(), p.default_value.empty() ? "\"\"" : p.default_value.c_str(),
                  range.c_str(), p.doc.c_str());
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace spinescope::cli
