#include "spinescope/context.hpp"

#include <algorithm>

#include "spinescope/stage.hpp"

namespace spinescope {

std::vector<std::string> Context::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : artifacts_) out.push_back(kv.first);
  return out;
}

void Context::begin_stage(const std::string& name, int index, int count) {
  current_stage_ = name;
  stage_index_ = index;
  stage_count_ = std::max(1, count);
  report_progress(0.0);
}

void Context::report_progress(double fraction) {
  check_cancel();
  if (!sink_) return;
  Progress p;
  p.stage = current_stage_;
  p.stage_index = stage_index_;
  p.stage_count = stage_count_;
  p.stage_fraction = std::clamp(fraction, 0.0, 1.0);
  p.overall = (stage_index_ + p.stage_fraction) / stage_count_;
  sink_(p);
}

void Stage::configure(const ParamSet& set) {
  params_ = ResolvedParams(spec().name, spec().params, set);
  on_configure(params_);
}

}  // namespace spinescope
