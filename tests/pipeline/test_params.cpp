#include <gtest/gtest.h>

#include "spinescope/errors.hpp"
#include "spinescope/params.hpp"
#include "spinescope/registry.hpp"

namespace spinescope {
namespace {

std::vector<ParamSpec> specs() {
  return {real_param("max_spine_length_um", 3.0, 0.5, 10.0, "um", "longest protrusion counted as a spine"),
          integer_param("iterations", 10, 1, 100, "iterations"), bool_param("deconvolve", false, "deconvolve"),
          text_param("mode", "auto", {"auto", "manual"}, "mode")};
}

TEST(Params, DefaultsFilledIn) {
  ResolvedParams p("spines", specs(), ParamSet{});
  EXPECT_DOUBLE_EQ(p.real("max_spine_length_um"), 3.0);
  EXPECT_EQ(p.integer("iterations"), 10);
  EXPECT_FALSE(p.flag("deconvolve"));
  EXPECT_EQ(p.text("mode"), "auto");
}

TEST(Params, UserValuesParsed) {
  ParamSet set;
  set.set_assignment("spines.max_spine_length_um=2.5");
  set.set("spines.deconvolve", "yes");
  set.set("other.thing", "1");  // another stage's key is not this stage's business
  ResolvedParams p("spines", specs(), set);
  EXPECT_DOUBLE_EQ(p.real("max_spine_length_um"), 2.5);
  EXPECT_TRUE(p.flag("deconvolve"));
}

TEST(Params, OutOfRangeRejectedNotClamped) {
  ParamSet set;
  set.set("spines.max_spine_length_um", "12");
  try {
    ResolvedParams p("spines", specs(), set);
    FAIL() << "no error for an out-of-range value";
  } catch (const ParameterError& e) {
    EXPECT_NE(std::string(e.what()).find("spines.max_spine_length_um=12"), std::string::npos) << e.what();
    EXPECT_EQ(e.exit_code(), kExitUsage);
  }
}

TEST(Params, TypoIsAnErrorNotADefault) {
  ParamSet set;
  set.set("spines.max_spine_lenght_um", "2");
  EXPECT_THROW(ResolvedParams("spines", specs(), set), ParameterError);
}

TEST(Params, BadValuesRejected) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
           {"spines.max_spine_length_um", "abc"}, {"spines.max_spine_length_um", "nan"},
           {"spines.iterations", "2.5"}, {"spines.deconvolve", "maybe"}, {"spines.mode", "fast"}}) {
    ParamSet set;
    set.set(key, value);
    EXPECT_THROW(ResolvedParams("spines", specs(), set), ParameterError) << key << "=" << value;
  }
  ParamSet set;
  EXPECT_THROW(set.set_assignment("no_equals_sign"), ParameterError);
  EXPECT_THROW(set.set("nodot", "1"), ParameterError);
}

// A tiny stage pair to check the pipeline's declare-then-run contract without any real stage.
class Producer : public Stage {
 public:
  const StageSpec& spec() const override {
    static const StageSpec s{"producer", "puts a number", {}, {"number"}, {}, {}, ""};
    return s;
  }
  void run(Context& ctx) const override { ctx.put<double>("number", 42.0); }
};
class Consumer : public Stage {
 public:
  const StageSpec& spec() const override {
    static const StageSpec s{"consumer", "doubles it", {"number"}, {"double"}, {}, {}, ""};
    return s;
  }
  void run(Context& ctx) const override { ctx.put<double>("double", 2 * ctx.get<double>("number")); }
};

TEST(Pipeline, RunsInOrderAndValidatesChain) {
  Pipeline p;
  p.append(std::make_unique<Producer>());
  p.append(std::make_unique<Consumer>());
  Context ctx;
  std::vector<double> fractions;
  ctx.set_progress_sink([&](const Progress& pr) { fractions.push_back(pr.overall); });
  p.run(ctx);
  EXPECT_DOUBLE_EQ(ctx.get<double>("double"), 84.0);
  ASSERT_FALSE(fractions.empty());
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);

  Pipeline broken;
  broken.append(std::make_unique<Consumer>());
  EXPECT_THROW(broken.validate(), StageError);
}

TEST(Pipeline, CancelFlagStopsRun) {
  Pipeline p;
  p.append(std::make_unique<Producer>());
  Context ctx;
  std::atomic<bool> cancel{true};
  ctx.set_cancel_flag(&cancel);
  EXPECT_THROW(p.run(ctx), Cancelled);
}

TEST(Pipeline, UnknownStageOrStageKeyRejected) {
  EXPECT_THROW(create_stage("no_such_stage"), ParameterError);
  ParamSet set;
  set.set("no_such_stage.x", "1");
  EXPECT_THROW(Pipeline::from_names({}, set), ParameterError);
}

TEST(Context, WrongTypeOrMissingArtifactIsAStageError) {
  Context ctx;
  ctx.put<int>("a", 1);
  EXPECT_THROW(ctx.get<double>("a"), StageError);
  EXPECT_THROW(ctx.get<int>("b"), StageError);
  EXPECT_EQ(ctx.get<int>("a"), 1);
}

}  // namespace
}  // namespace spinescope
