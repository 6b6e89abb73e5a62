// The tubularity kernels on known answers: closed-form eigenvalues against built spectra, the tube response of
// model eigenvalues, the scale list, and the filter on rendered solid tubes in anisotropic voxels (where it peaks,
// how it falls off, that a tube along z answers as one along x, and the scale it prefers).

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "stages/dendrites/tubularity.hpp"

namespace spinescope::stages::dendrites {
namespace {

using Matrix = std::array<std::array<double, 3>, 3>;

// Rotation by the Euler angles (z, y, z) @p a, @p b, @p c.
Matrix rotation(double a, double b, double c) {
  auto rz = [](double t) { return Matrix{{{std::cos(t), -std::sin(t), 0}, {std::sin(t), std::cos(t), 0}, {0, 0, 1}}}; };
  auto ry = [](double t) { return Matrix{{{std::cos(t), 0, std::sin(t)}, {0, 1, 0}, {-std::sin(t), 0, std::cos(t)}}}; };
  auto mul = [](const Matrix& x, const Matrix& y) {
    Matrix m{};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 3; ++k) m[i][j] += x[i][k] * y[k][j];
    return m;
  };
  return mul(rz(a), mul(ry(b), rz(c)));
}

TEST(Tubularity, SymmetricEigenvaluesMatchTheSpectrumTheMatrixWasBuiltFrom) {
  const std::vector<std::array<double, 3>> spectra = {
      {-3.0, -1.0, 2.0}, {-1.0, -1.0, 0.0}, {-2.0, 0.0, 0.0}, {5.0, 5.0, 5.0}, {0.0, 0.0, 0.0}, {-40.0, 0.5, 7.0}};
  const std::vector<std::array<double, 3>> angles = {{0, 0, 0}, {0.3, 1.1, -0.7}, {2.0, 0.4, 1.3}, {-1.2, 2.9, 0.1}};
  for (const auto& l : spectra)
    for (const auto& t : angles) {
      const Matrix r = rotation(t[0], t[1], t[2]);
      Matrix a{};  // R diag(l) R^T
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
          for (int k = 0; k < 3; ++k) a[i][j] += r[i][k] * l[k] * r[j][k];
      float ev[3];
      symmetric_eigenvalues(static_cast<float>(a[0][0]), static_cast<float>(a[1][1]), static_cast<float>(a[2][2]),
                            static_cast<float>(a[0][1]), static_cast<float>(a[0][2]), static_cast<float>(a[1][2]),
                            ev);
      std::array<double, 3> want = l;
      std::sort(want.begin(), want.end());
      // Where two eigenvalues coincide the angle's arccosine is taken near ±1, which costs about the square root of
      // float precision (3e-4) relative to the spectrum's size: measured at most 1.2e-4 over these matrices.
      const double scale = std::max({1.0, std::abs(want[0]), std::abs(want[2])});
      for (int k = 0; k < 3; ++k)
        EXPECT_NEAR(ev[k], want[k], 3e-4 * scale)
            << "spectrum " << l[0] << " " << l[1] << " " << l[2] << ", angles " << t[0] << " " << t[1] << " " << t[2];
      EXPECT_LE(ev[0], ev[1]);
      EXPECT_LE(ev[1], ev[2]);
    }
}

TEST(Tubularity, BrightTubeResponseFavoursTubesOverBlobsAndPlates) {
  const float tube[3] = {-1.0f, -1.0f, 0.0f};  // two strong cross-section curvatures, none along the axis
  const float blob[3] = {-1.0f, -1.0f, -1.0f};
  const float plate[3] = {-1.0f, 0.0f, 0.0f};
  const float dark_tube[3] = {0.0f, 1.0f, 1.0f};
  const float flat_tube[3] = {-2.0f, -0.5f, 0.0f};  // an elliptical section: the weaker curvature counts
  EXPECT_FLOAT_EQ(bright_tube_response(tube), 1.0f);
  EXPECT_NEAR(bright_tube_response(blob), std::exp(-2.0f), 1e-6f);
  EXPECT_EQ(bright_tube_response(plate), 0.0f);
  EXPECT_EQ(bright_tube_response(dark_tube), 0.0f);
  EXPECT_FLOAT_EQ(bright_tube_response(flat_tube), 0.5f);
}

TEST(Tubularity, SigmasAreGeometricFromTheSmallestToTheLargestRadius) {
  const std::vector<double> s = tube_sigmas_um(0.4, 1.6, 3);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_NEAR(s[0], 0.4 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(s[1], 0.8 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(s[2], 1.6 / std::sqrt(2.0), 1e-12);
  const std::vector<double> one = tube_sigmas_um(0.5, 2.0, 1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_NEAR(one[0], 0.5 / std::sqrt(2.0), 1e-12);
}

constexpr Spacing kSpacing{0.1, 0.1, 0.35};  // µm, z 3.5 times coarser

// A solid straight tube of @p radius_um through @p c_um along the unit axis @p d, intensity 1, partial voxels
// by 3×3×3 subsamples.
Volume<float> render_tube(std::size_t nx, std::size_t ny, std::size_t nz, const std::array<double, 3>& c_um,
                          const std::array<double, 3>& d, double radius_um) {
  Volume<float> v(nx, ny, nz, kSpacing, 0.0f);
  for (std::size_t k = 0; k < nz; ++k)
    for (std::size_t j = 0; j < ny; ++j)
      for (std::size_t i = 0; i < nx; ++i) {
        int in = 0;
        for (int a = -1; a <= 1; ++a)
          for (int b = -1; b <= 1; ++b)
            for (int e = -1; e <= 1; ++e) {
              const double q[3] = {(i + a / 3.0) * kSpacing.x_um - c_um[0], (j + b / 3.0) * kSpacing.y_um - c_um[1],
                                   (k + e / 3.0) * kSpacing.z_um - c_um[2]};
              const double along = q[0] * d[0] + q[1] * d[1] + q[2] * d[2];
              const double across2 = q[0] * q[0] + q[1] * q[1] + q[2] * q[2] - along * along;
              if (across2 <= radius_um * radius_um) ++in;
            }
        v(i, j, k) = static_cast<float>(in) / 27.0f;
      }
  return v;
}

TEST(Tubularity, PeaksOnTheAxisOfATubeAndFadesOutsideIt) {
  // A tube of radius 0.6 µm along x, its axis at y = 3.2 µm, z = 4.2 µm (between voxel planes in neither).
  const Volume<float> tube = render_tube(64, 64, 24, {3.2, 3.2, 4.2}, {1, 0, 0}, 0.6);
  const Volume<float> t = tubularity(tube, {0.6 / std::sqrt(2.0)}, nullptr);
  for (std::size_t i : {16u, 32u, 48u}) {  // away from the x faces
    std::size_t bj = 0, bk = 0;
    for (std::size_t k = 0; k < t.nz(); ++k)
      for (std::size_t j = 0; j < t.ny(); ++j)
        if (t(i, j, k) > t(i, bj, bk)) bj = j, bk = k;
    EXPECT_NEAR(bj * kSpacing.y_um, 3.2, 0.1 + 1e-9) << "x voxel " << i;
    EXPECT_NEAR(bk * kSpacing.z_um, 4.2, 0.35 + 1e-9) << "x voxel " << i;
    const float peak = t(i, bj, bk);
    EXPECT_GT(peak, 0.0f);
    // 2 µm from the axis (1.4 µm outside the tube), in y and in z: less than 5% of the peak.
    EXPECT_LT(t(i, bj + 20, bk), 0.05f * peak);
    EXPECT_LT(t(i, bj - 20, bk), 0.05f * peak);
    EXPECT_LT(t(i, bj, 24 - 1), 0.05f * peak);
    EXPECT_LT(t(i, bj, 0), 0.05f * peak);
  }
}

// The peak response on the middle third of a tube along @p d (the central cross-sections).
float peak_response(const Volume<float>& t) {
  float peak = 0.0f;
  for (std::size_t k = t.nz() / 3; k < 2 * t.nz() / 3; ++k)
    for (std::size_t j = t.ny() / 3; j < 2 * t.ny() / 3; ++j)
      for (std::size_t i = t.nx() / 3; i < 2 * t.nx() / 3; ++i) peak = std::max(peak, t(i, j, k));
  return peak;
}

TEST(Tubularity, ATubeAlongZAnswersAsOneAlongXDespiteCoarserZ) {
  // Sigmas in µm, per-axis in voxels: a tube along the coarse z axis gives about the response of the same tube
  // along x. (Taking sigma in voxels alike on every axis would blur z 3.5 times more.)
  const double radius_um = 0.6;
  const Volume<float> along_x = render_tube(72, 48, 24, {3.6, 2.4, 4.2}, {1, 0, 0}, radius_um);
  const Volume<float> along_z = render_tube(48, 48, 24, {2.4, 2.4, 4.2}, {0, 0, 1}, radius_um);
  const std::vector<double> sigma{radius_um / std::sqrt(2.0)};
  const float px = peak_response(tubularity(along_x, sigma, nullptr));
  const float pz = peak_response(tubularity(along_z, sigma, nullptr));
  ASSERT_GT(px, 0.0f);
  EXPECT_NEAR(pz / px, 1.0, 0.2) << "along x " << px << ", along z " << pz;
}

TEST(Tubularity, ThickerTubesPreferLargerScales) {
  // Scale-normalised responses: the scale that answers best grows with the tube's radius.
  const std::vector<double> sigmas = tube_sigmas_um(0.4, 1.6, 5);
  auto best_scale = [&](double radius_um) {
    const Volume<float> tube = render_tube(64, 64, 32, {3.2, 3.2, 5.6}, {1, 0, 0}, radius_um);
    std::size_t best = 0;
    float best_peak = -1.0f;
    for (std::size_t s = 0; s < sigmas.size(); ++s) {
      const float p = peak_response(tubularity(tube, {sigmas[s]}, nullptr));
      if (p > best_peak) best = s, best_peak = p;
    }
    return best;
  };
  const std::size_t thin = best_scale(0.4), thick = best_scale(1.4);
  EXPECT_LT(thin, thick);
  EXPECT_LE(thin, 1u);
  EXPECT_GE(thick, 3u);
}

TEST(Tubularity, OnlyMaskedVoxelsAreEvaluatedAndThreadsDoNotChangeTheResult) {
  const Volume<float> tube = render_tube(48, 40, 16, {2.4, 2.0, 2.8}, {0.8, 0.6, 0.0}, 0.5);
  const std::vector<double> sigmas = tube_sigmas_um(0.4, 1.0, 2);
  Volume<std::uint8_t> half(tube.nx(), tube.ny(), tube.nz(), kSpacing, 0);
  for (std::size_t k = 0; k < half.nz(); ++k)
    for (std::size_t j = 0; j < half.ny(); ++j)
      for (std::size_t i = 0; i < half.nx() / 2; ++i) half(i, j, k) = 1;
  Volume<float> full, masked, one_thread;
  full = tubularity(tube, sigmas, nullptr);
  masked = tubularity(tube, sigmas, &half);
  {
    tbb::global_control serial(tbb::global_control::max_allowed_parallelism, 1);
    one_thread = tubularity(tube, sigmas, nullptr);
  }
  std::size_t nonzero = 0;
  for (std::size_t n = 0; n < full.size(); ++n) {
    ASSERT_EQ(one_thread[n], full[n]) << "voxel " << n;
    if (half[n]) {
      ASSERT_EQ(masked[n], full[n]) << "voxel " << n;
      nonzero += full[n] > 0.0f;
    } else {
      ASSERT_EQ(masked[n], 0.0f) << "voxel " << n;
    }
  }
  EXPECT_GT(nonzero, 100u);  // the tube crosses the masked half
}

}  // namespace
}  // namespace spinescope::stages::dendrites
