// spinescope evaluate: score analysis results against ground truth.
#include <cstdio>

#include <boost/filesystem.hpp>

#include "args.hpp"
#include "commands.hpp"
#include "spinescope/errors.hpp"
#include "spinescope/evaluate.hpp"
#include "spinescope/io.hpp"

namespace spinescope::cli {

namespace {

const char* kHelp =
    "usage: spinescope evaluate RESULTS GROUND_TRUTH [RESULTS2 GROUND_TRUTH2 ...] [--tolerance-um 0.8]\n"
    "                           [--json FILE]\n"
    "\n"
    "Scores analysis results against ground truth (e.g. the stacks of make-sample-stacks).\n"
    "\n"
    "RESULTS       an analyze output folder (spines.csv, dendrites.csv), or a batch output folder (with\n"
    "              stacks.csv): then GROUND_TRUTH is a folder holding NAME.spines.csv and NAME.dendrites.csv\n"
    "              for each stack NAME.tif of the batch.\n"
    "GROUND_TRUTH  the truth prefix or the stack it belongs to: NAME.tif means NAME.spines.csv and\n"
    "              NAME.dendrites.csv.\n"
    "\n"
    "A detection matches a true spine when its position (x_um, y_um, z_um) lies within the tolerance of the\n"
    "true spine's axis, the segment from its base to its head centre. Matching is one-to-one: the most\n"
    "matches, then the least total distance (min-cost assignment).\n"
    "\n"
    "Reports per pair and pooled over all pairs (spines counted over all stacks): precision, recall, F1,\n"
    "recall per true type, spine density and dendrite length relative errors (skipped where the true length\n"
    "is unknown; pooled also as mean and worst per-stack density error), head-diameter mean absolute error\n"
    "and bias (detected - true) over matched pairs with a known true diameter, overall and per type, and\n"
    "type accuracy over matched pairs whose true type is known.\n"
    "\n"
    "options:\n"
    "  --tolerance-um D  match distance in um (default 0.8)\n"
    "  --json FILE       write the scores as JSON (default with one RESULTS: RESULTS/evaluation.json)\n"
    "\n"
    "example: spinescope evaluate cell01_results sample_stacks/cell01.tif\n";

}  // namespace

int cmd_evaluate(int argc, char** argv) {
  Args args(argc, argv, {"tolerance-um", "json"}, {});
  if (args.has("help")) {
    std::printf("%s", kHelp);
    return 0;
  }
  const auto& pos = args.positional();
  if (pos.empty() || pos.size() % 2 != 0)
    throw ParameterError("expected RESULTS GROUND_TRUTH pairs, got " + std::to_string(pos.size()) +
                         " argument(s) (usage: spinescope evaluate RESULTS GROUND_TRUTH ...)");
  const double tolerance_um = args.number("tolerance-um", 0.8, 1e-6, 1e3);
  std::vector<EvalPair> pairs;
  for (std::size_t i = 0; i < pos.size(); i += 2) pairs.push_back({pos[i], pos[i + 1]});

  const EvalReport report = evaluate(pairs, tolerance_um);
  std::printf("%s", format_table(report).c_str());

  std::string json_path = args.value("json");
  if (json_path.empty() && pairs.size() == 1)
    json_path = (boost::filesystem::path(pairs[0].results) / "evaluation.json").string();
  if (!json_path.empty()) {
    write_file_atomic(json_path, to_json(report).dump());
    std::printf("scores written to %s\n", json_path.c_str());
  }
  return 0;
}

}  // namespace spinescope::cli
