// Benchmarks of the preprocess + dendrites path: kernels (Gaussian, Hessian eigen-analysis) and the whole stages on
// a generated 1024 × 1024 × 60 16-bit stack, with 1 and 2 threads, voxels/s and peak memory; ITK's
// HessianRecursiveGaussianImageFilter on the same volume in the same run gives the speed-up as a ratio.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>

#include "itk_hessian.hpp"
#include "spinescope/filters.hpp"
#include "spinescope/threads.hpp"
#include "stages/dendrites/dendrites_stage.hpp"
#include "stages/dendrites/tubularity.hpp"
#include "stages/preprocess/preprocess_stage.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope {
namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

/// The generated 1024 × 1024 × 60 stack (default noise), made once.
const Volume<std::uint16_t>& full_stack() {
  static const Volume<std::uint16_t> image = [] {
    gen::GeneratorConfig cfg;
    cfg.imaging.nx = 1024, cfg.imaging.ny = 1024, cfg.imaging.nz = 60;
    cfg.imaging.seed = 5;
    return gen::generate_stack(cfg).image;
  }();
  return image;
}

Volume<float> to_float(const Volume<std::uint16_t>& v) {
  Volume<float> out(v.nx(), v.ny(), v.nz(), v.spacing());
  for (std::size_t n = 0; n < v.size(); ++n) out[n] = v[n];
  return out;
}

/// The tracing grid the dendrite stage works on: the preprocessed stack at 0.2 × 0.2 × 0.35 µm (512 × 512 × 60).
const Volume<float>& tracing_grid() {
  static const Volume<float> grid = [] {
    stages::preprocess::PreprocessStage pre;
    pre.configure({});
    Context ctx;
    ctx.put(artifacts::kImage, to_float(full_stack()));
    pre.run(ctx);
    return decimate_xy2(ctx.get<Volume<float>>(artifacts::kPreprocessed));
  }();
  return grid;
}

/// Process CPU time (user + system) in seconds: with the machine shared, wall time alone misleads.
double process_cpu_s() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

void set_rate(benchmark::State& state, std::size_t voxels) {
  state.counters["voxels_per_s"] =
      benchmark::Counter(static_cast<double>(voxels) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["peak_rss_MB"] = peak_rss_mb();
}

void BM_GaussianBlur(benchmark::State& state) {
  const Volume<float>& grid = tracing_grid();
  ThreadLimit limit(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    Volume<float> v = grid;
    state.ResumeTiming();
    gaussian_blur(v, 0.5, 0.5, 0.5);
    benchmark::DoNotOptimize(v.data());
  }
  set_rate(state, grid.size());
}
BENCHMARK(BM_GaussianBlur)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// One scale of smoothing + Hessian + closed-form eigenvalues + tube response at every voxel.
void BM_HessianEigen(benchmark::State& state) {
  const Volume<float>& grid = tracing_grid();
  ThreadLimit limit(static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(stages::dendrites::tubularity(grid, {0.5}, nullptr).data());
  set_rate(state, grid.size());
}
BENCHMARK(BM_HessianEigen)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same one-scale Hessian with ITK (Hessian only, no eigen-analysis) on the same volume, and the ratio.
void BM_HessianSpeedupOverItk(benchmark::State& state) {
  const Volume<float>& grid = tracing_grid();
  const int threads = static_cast<int>(state.range(0));
  ThreadLimit limit(threads);
  double ours_s = 0.0, itk_s = 0.0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(stages::dendrites::tubularity(grid, {0.5}, nullptr).data());
    auto t1 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(bench::itk_hessian(grid, 0.5, threads));
    auto t2 = std::chrono::steady_clock::now();
    ours_s += std::chrono::duration<double>(t1 - t0).count();
    itk_s += std::chrono::duration<double>(t2 - t1).count();
  }
  state.counters["ours_voxels_per_s"] = grid.size() * state.iterations() / ours_s;
  state.counters["itk_voxels_per_s"] = grid.size() * state.iterations() / itk_s;
  state.counters["speedup"] = itk_s / ours_s;
}
BENCHMARK(BM_HessianSpeedupOverItk)->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// preprocess + dendrites on the 1024 × 1024 × 60 stack (the raw float image handed in as load would).
void BM_PreprocessAndDendritesStages(benchmark::State& state) {
  const Volume<std::uint16_t>& raw = full_stack();
  ThreadLimit limit(static_cast<int>(state.range(0)));
  stages::preprocess::PreprocessStage pre;
  stages::dendrites::DendritesStage den;
  pre.configure({});
  den.configure({});
  double branches = 0.0, length = 0.0, cpu_s = 0.0;
  for (auto _ : state) {
    state.PauseTiming();
    Context ctx;
    ctx.put(artifacts::kImage, to_float(raw));
    state.ResumeTiming();
    const double cpu0 = process_cpu_s();
    pre.run(ctx);
    den.run(ctx);
    cpu_s += process_cpu_s() - cpu0;
    const auto& g = ctx.get<DendriteGraph>(artifacts::kDendriteGraph);
    branches = static_cast<double>(g.branches.size());
    length = g.total_length_um();
  }
  set_rate(state, raw.size());
  state.counters["branches"] = branches;
  state.counters["length_um"] = length;
  state.counters["process_cpu_s"] = cpu_s / state.iterations();
}
BENCHMARK(BM_PreprocessAndDendritesStages)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace spinescope

BENCHMARK_MAIN();
