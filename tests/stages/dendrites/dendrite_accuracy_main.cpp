// dendrite_accuracy [stacks=12] [first_seed=100] [nx=512] [nz=48] [ends_inside=0] [touch_only=1]: dendrite
// length and centerline accuracy of preprocess + dendrites over generated stacks (default noise), for the notes;
// ends_inside is the generator's chance that a dendrite ends inside the stack; touch_only 1 (the default):
// dendrites touch but never pass through one another, 0: they may (make-sample-stacks --interpenetrate).
// Per stack it also prints the summed errors of the traced ends (µm along the true path; < 0: short) at faces and at
// tips, and at the end the ends pooled: at a face, steep or shallow (|cos| to the face's normal under 0.5), and tips.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "generated_accuracy.hpp"

int main(int argc, char** argv) {
  const int stacks = argc > 1 ? std::atoi(argv[1]) : 12;
  const int first = argc > 2 ? std::atoi(argv[2]) : 100;
  const std::size_t nx = argc > 3 ? std::atoi(argv[3]) : 512;
  const std::size_t nz = argc > 4 ? std::atoi(argv[4]) : 48;
  const double ends_inside = argc > 5 ? std::atof(argv[5]) : 0.0;
  const bool touch_only = argc <= 6 || std::atoi(argv[6]) != 0;
  // The traced ends against the true ones: at a face (steep and shallow exits apart) and at tips inside.
  struct EndTally {
    int n = 0, unmatched = 0, short_over = 0, long_over = 0;
    double sum_um = 0.0, sum_abs_um = 0.0;
  } steep, shallow, tips;
  constexpr double kShallowCos = 0.5, kEndOverUm = 0.3;
  double sum_abs = 0.0, worst = 0.0, sum_rms2 = 0.0, worst_rms = 0.0, uncovered = 0.0, truth = 0.0, traced = 0.0;
  std::printf(
      "seed truth_um traced_um length_error_pct rms_um max_um uncovered_um dendrites_true traced "
      "branch_points face_ends_um tip_ends_um\n");
  for (int s = 0; s < stacks; ++s) {
    const auto a = spinescope::test::measure_generated(first + s, nx, nx, nz, ends_inside, touch_only);
    std::printf("%d %.2f %.2f %+.2f %.3f %.2f %.2f %d %d %d %+.2f %+.2f\n", first + s, a.truth_um, a.traced_um,
                100.0 * a.length_error, a.rms_um, a.max_um, a.uncovered_um, a.dendrites_true, a.dendrites_traced,
                a.branch_points, a.face_ends_um, a.tip_ends_um);
    std::fflush(stdout);
    sum_abs += std::abs(a.length_error);
    worst = std::max(worst, std::abs(a.length_error));
    sum_rms2 += a.rms_um * a.rms_um;
    worst_rms = std::max(worst_rms, a.rms_um);
    uncovered += a.uncovered_um;
    truth += a.truth_um;
    traced += a.traced_um;
    for (const auto& end : a.ends) {
      EndTally& t = !end.at_face ? tips : end.face_cos < kShallowCos ? shallow : steep;
      if (!end.matched) {
        ++t.unmatched;
        continue;
      }
      ++t.n;
      t.sum_um += end.error_um;
      t.sum_abs_um += std::abs(end.error_um);
      if (end.error_um < -kEndOverUm) ++t.short_over;
      if (end.error_um > kEndOverUm) ++t.long_over;
    }
  }
  std::printf("stacks %d: mean |length error| %.2f%%, worst %.2f%%; total %+.2f%% (%.1f of %.1f um); centerline RMS "
              "%.3f um (worst stack %.3f); uncovered %.2f%% of true length\n",
              stacks, 100.0 * sum_abs / stacks, 100.0 * worst, 100.0 * (traced - truth) / truth, traced, truth,
              std::sqrt(sum_rms2 / stacks), worst_rms, 100.0 * uncovered / truth);
  // Each kind twice: in words, and as an ends_tally line of raw counts and sums that scripts pool over sets
  // (bench/dendrite_lengths.sh): kind, matched, unmatched, short and long by over kEndOverUm, sum and sum of |error|.
  auto print_ends = [&](const char* kind, const char* what, const EndTally& t) {
    std::printf(
        "%s: %d, signed mean %+.3f um, mean |error| %.3f um, %d short and %d long by over %.1f um; %d not "
        "matched within %.0f um\n",
        what, t.n, t.n ? t.sum_um / t.n : 0.0, t.n ? t.sum_abs_um / t.n : 0.0, t.short_over, t.long_over, kEndOverUm,
        t.unmatched, spinescope::test::kEndMatchUm);
    std::printf("ends_tally %s %d %d %d %d %.4f %.4f\n", kind, t.n, t.unmatched, t.short_over, t.long_over, t.sum_um,
                t.sum_abs_um);
  };
  print_ends("steep", "ends at a face, steep (|cos| to its normal >= 0.5)", steep);
  print_ends("shallow", "ends at a face, shallow (|cos| < 0.5)", shallow);
  print_ends("tips", "tips inside the stack", tips);
  return 0;
}
