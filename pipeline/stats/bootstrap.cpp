// Hierarchical (animals, then neurons within animal) bootstrap of a group difference and ratio.
#include <algorithm>
#include <random>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "spinescope/errors.hpp"
#include "spinescope/stats.hpp"

namespace spinescope::stats {

namespace {

constexpr int kBlock = 256;  // replicates per generator: fixed, so results do not depend on threads

std::uint64_t split_mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Uniform index in [0, n) by rejection: std::uniform_int_distribution differs between standard libraries.
std::size_t draw(std::mt19937_64& rng, std::size_t n) {
  const std::uint64_t range = static_cast<std::uint64_t>(n);
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  std::uint64_t x;
  do x = rng();
  while (x >= limit);
  return static_cast<std::size_t>(x % range);
}

double group_mean(const AnimalNeurons& animals) {
  double sum = 0.0;
  for (const auto& neurons : animals) sum += mean(neurons);
  return sum / static_cast<double>(animals.size());
}

double resampled_group_mean(const AnimalNeurons& animals, std::mt19937_64& rng) {
  double sum = 0.0;
  for (std::size_t a = 0; a < animals.size(); ++a) {
    const std::vector<double>& neurons = animals[draw(rng, animals.size())];
    double animal_sum = 0.0;
    for (std::size_t k = 0; k < neurons.size(); ++k) animal_sum += neurons[draw(rng, neurons.size())];
    sum += animal_sum / static_cast<double>(neurons.size());
  }
  return sum / static_cast<double>(animals.size());
}

bool usable(const AnimalNeurons& animals) {
  if (animals.empty()) return false;
  for (const auto& n : animals)
    if (n.empty()) return false;
  return true;
}

}  // namespace

BootstrapResult hierarchical_bootstrap(const AnimalNeurons& group, const AnimalNeurons& control, int replicates,
                                       std::uint64_t seed, double level) {
  if (replicates < 1) throw ParameterError("bootstrap", "replicates", std::to_string(replicates), "must be >= 1");
  if (!(level > 0.0 && level < 1.0))
    throw ParameterError("bootstrap", "level", std::to_string(level), "must be in (0, 1)");
  BootstrapResult r;
  if (!usable(group) || !usable(control)) return r;
  const double mg = group_mean(group), mc = group_mean(control);
  r.difference = mg - mc;
  r.ratio = mc != 0.0 ? mg / mc : kNaN;
  r.replicates = replicates;

  std::vector<double> diffs(static_cast<std::size_t>(replicates)), ratios(diffs.size());
  const int blocks = (replicates + kBlock - 1) / kBlock;
  tbb::parallel_for(tbb::blocked_range<int>(0, blocks), [&](const tbb::blocked_range<int>& range) {
    for (int b = range.begin(); b != range.end(); ++b) {
      std::mt19937_64 rng(split_mix(seed ^ split_mix(static_cast<std::uint64_t>(b))));
      const int end = std::min(replicates, (b + 1) * kBlock);
      for (int i = b * kBlock; i < end; ++i) {
        const double g = resampled_group_mean(group, rng), c = resampled_group_mean(control, rng);
        diffs[static_cast<std::size_t>(i)] = g - c;
        ratios[static_cast<std::size_t>(i)] = c != 0.0 ? g / c : kNaN;
      }
    }
  });
  const double lo = (1.0 - level) / 2.0, hi = 1.0 - lo;
  r.difference_low = quantile(diffs, lo);
  r.difference_high = quantile(diffs, hi);
  ratios.erase(std::remove_if(ratios.begin(), ratios.end(), [](double x) { return std::isnan(x); }), ratios.end());
  r.ratio_low = quantile(ratios, lo);
  r.ratio_high = quantile(ratios, hi);
  return r;
}

}  // namespace spinescope::stats
