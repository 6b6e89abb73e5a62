// The mesh path: OFF reading, parity voxelisation, rendering, and truth from real SpineTool meshes.
#include <gtest/gtest.h>

#include <boost/filesystem.hpp>
#include <cmath>
#include <map>
#include <sstream>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope::gen {
namespace {

namespace fs = boost::filesystem;
constexpr double kPi = 3.14159265358979323846;

std::string off_text(const Mesh& m) {
  std::ostringstream s;
  s.precision(10);
  s << "OFF\n# test mesh\n" << m.vertices.size() << " " << m.triangles.size() << " 0\n";
  for (const PointUm& p : m.vertices) s << p.x_um << " " << p.y_um << " " << p.z_um << "\n";
  for (const auto& t : m.triangles) s << "3 " << t[0] << " " << t[1] << " " << t[2] << "\n";
  return s.str();
}

/// An icosphere (subdivided icosahedron, vertices on the sphere), outward-facing triangles.
Mesh icosphere(PointUm c, double r, int subdivisions) {
  const double t = (1.0 + std::sqrt(5.0)) / 2.0;
  std::vector<std::array<double, 3>> v = {{-1, t, 0},  {1, t, 0},  {-1, -t, 0}, {1, -t, 0}, {0, -1, t},  {0, 1, t},
                                          {0, -1, -t}, {0, 1, -t}, {t, 0, -1},  {t, 0, 1},  {-t, 0, -1}, {-t, 0, 1}};
  std::vector<std::array<int, 3>> f = {{0, 11, 5}, {0, 5, 1},  {0, 1, 7},   {0, 7, 10}, {0, 10, 11},
                                       {1, 5, 9},  {5, 11, 4}, {11, 10, 2}, {10, 7, 6}, {7, 1, 8},
                                       {3, 9, 4},  {3, 4, 2},  {3, 2, 6},   {3, 6, 8},  {3, 8, 9},
                                       {4, 9, 5},  {2, 4, 11}, {6, 2, 10},  {8, 6, 7},  {9, 8, 1}};
  auto normalise = [](std::array<double, 3> p) {
    const double n = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
    return std::array<double, 3>{p[0] / n, p[1] / n, p[2] / n};
  };
  for (auto& p : v) p = normalise(p);
  for (int s = 0; s < subdivisions; ++s) {
    std::map<std::pair<int, int>, int> mid;
    auto midpoint = [&](int a, int b) {
      const auto key = std::minmax(a, b);
      auto it = mid.find(key);
      if (it != mid.end()) return it->second;
      v.push_back(normalise({(v[a][0] + v[b][0]) / 2, (v[a][1] + v[b][1]) / 2, (v[a][2] + v[b][2]) / 2}));
      return mid[key] = static_cast<int>(v.size()) - 1;
    };
    std::vector<std::array<int, 3>> g;
    for (const auto& tri : f) {
      const int a = midpoint(tri[0], tri[1]), b = midpoint(tri[1], tri[2]), c = midpoint(tri[2], tri[0]);
      g.push_back({tri[0], a, c}), g.push_back({tri[1], b, a}), g.push_back({tri[2], c, b}), g.push_back({a, b, c});
    }
    f = g;
  }
  Mesh m;
  for (const auto& p : v) m.vertices.push_back({c.x_um + r * p[0], c.y_um + r * p[1], c.z_um + r * p[2]});
  m.triangles = f;
  return m;
}

/// An axis-aligned box from @p lo to @p hi, outward-facing triangles.
Mesh box(PointUm lo, PointUm hi) {
  Mesh m;
  for (int i = 0; i < 8; ++i)
    m.vertices.push_back({i & 1 ? hi.x_um : lo.x_um, i & 2 ? hi.y_um : lo.y_um, i & 4 ? hi.z_um : lo.z_um});
  m.triangles = {{0, 2, 1}, {1, 2, 3}, {4, 5, 6}, {5, 7, 6}, {0, 1, 4}, {1, 5, 4},
                 {2, 6, 3}, {3, 6, 7}, {0, 4, 2}, {2, 4, 6}, {1, 3, 5}, {3, 7, 5}};
  return m;
}

/// A cube whose faces lie exactly on fine-grid planes: rays meet its vertices and edges.
Mesh grid_cube(double lo, double hi) { return box({lo, lo, lo}, {hi, hi, hi}); }

/// Closed meshes that touch but do not overlap, as one mesh (crossing parity makes it their union).
Mesh joined(const std::vector<Mesh>& parts) {
  Mesh m;
  for (const Mesh& p : parts) {
    const int offset = static_cast<int>(m.vertices.size());
    m.vertices.insert(m.vertices.end(), p.vertices.begin(), p.vertices.end());
    for (const auto& t : p.triangles) m.triangles.push_back({t[0] + offset, t[1] + offset, t[2] + offset});
  }
  return m;
}

/// A closed tube of radius @p r_um along a quarter circle of radius @p bend_um in the xy plane (at z = @p z),
/// flat ends; its axis is bend_um·π/2 long.
Mesh arc_tube(double bend_um, double r_um, double z) {
  Mesh m;
  const int ring = 32, rings = 121;
  for (int a = 0; a < rings; ++a) {
    const double phi = 0.5 * kPi * a / (rings - 1);
    const double cx = 1.0 + bend_um * std::cos(phi), cy = 1.0 + bend_um * std::sin(phi);
    for (int q = 0; q < ring; ++q) {
      const double t = 2 * kPi * q / ring, radial = r_um * std::cos(t);
      m.vertices.push_back({cx + radial * std::cos(phi), cy + radial * std::sin(phi), z + r_um * std::sin(t)});
    }
  }
  for (int a = 0; a + 1 < rings; ++a)
    for (int q = 0; q < ring; ++q) {
      const int i = a * ring + q, j = a * ring + (q + 1) % ring;
      m.triangles.push_back({i, i + ring, j});
      m.triangles.push_back({j, i + ring, j + ring});
    }
  const int c0 = static_cast<int>(m.vertices.size());
  m.vertices.push_back({1.0 + bend_um, 1.0, z});
  m.vertices.push_back({1.0, 1.0 + bend_um, z});
  for (int q = 0; q < ring; ++q) {
    m.triangles.push_back({c0, q, (q + 1) % ring});
    m.triangles.push_back({c0 + 1, (rings - 1) * ring + (q + 1) % ring, (rings - 1) * ring + q});
  }
  return m;
}

double total_length_um(const std::vector<DendriteTruth>& branches) {
  double sum = 0.0;
  for (const DendriteTruth& d : branches) sum += d.length_um;
  return sum;
}

/// A closed tube along x from 0 to @p length_um with an elliptic cross-section (semi-axes @p ry_um across,
/// @p rz_um along z) centred on (y, z) = (@p cy, @p cz); outward-facing triangles, capped ends.
Mesh elliptic_tube(double length_um, double ry_um, double rz_um, double cy, double cz) {
  Mesh m;
  const int ring = 32, rings = static_cast<int>(std::ceil(length_um / 0.1)) + 1;
  for (int a = 0; a < rings; ++a)
    for (int q = 0; q < ring; ++q) {
      const double t = 2 * kPi * q / ring;
      m.vertices.push_back({length_um * a / (rings - 1), cy + ry_um * std::cos(t), cz + rz_um * std::sin(t)});
    }
  for (int a = 0; a + 1 < rings; ++a)
    for (int q = 0; q < ring; ++q) {
      const int i = a * ring + q, j = a * ring + (q + 1) % ring;
      m.triangles.push_back({i, j, i + ring});
      m.triangles.push_back({j, j + ring, i + ring});
    }
  const int c0 = static_cast<int>(m.vertices.size());
  m.vertices.push_back({0.0, cy, cz});
  m.vertices.push_back({length_um, cy, cz});
  for (int q = 0; q < ring; ++q) {
    m.triangles.push_back({c0, (q + 1) % ring, q});
    m.triangles.push_back({c0 + 1, (rings - 1) * ring + q, (rings - 1) * ring + (q + 1) % ring});
  }
  return m;
}

class MeshFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fs::unique_path("spinescope-mesh-%%%%%%");
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    write_file_atomic(p, text);
    return p;
  }
  fs::path dir_;
};

TEST_F(MeshFiles, IcosphereVoxelisesToItsVolume) {
  const Mesh written = icosphere({3.02, 2.71, 2.33}, 1.2, 3);
  const Mesh m = read_off(write("ball.off", off_text(written)));
  ASSERT_EQ(m.vertices.size(), written.vertices.size());
  ASSERT_EQ(m.triangles.size(), 1280u);
  const double analytic = mesh_volume_um3(m);
  EXPECT_NEAR(analytic, 4.0 / 3.0 * kPi * 1.2 * 1.2 * 1.2, 0.02 * analytic);  // the icosphere itself
  EXPECT_NEAR(voxelised_volume_um3(m, 0.05), analytic, 0.005 * analytic);
}

TEST_F(MeshFiles, CubeOnGridPlanesVoxelisesToItsVolume) {
  // Faces, edges and vertices exactly on ray rows: the jittered rays must still see two crossings each.
  const Mesh m = read_off(write("cube.off", off_text(grid_cube(0.5, 2.0))));
  EXPECT_NEAR(mesh_volume_um3(m), 3.375, 1e-9);
  EXPECT_NEAR(voxelised_volume_um3(m, 0.05), 3.375, 0.005 * 3.375);
}

TEST_F(MeshFiles, RenderedMeshIntegratesToItsVolumeAnisotropic) {
  const Mesh m = icosphere({2.5, 2.4, 3.1}, 0.8, 3);
  ImagingConfig im;
  im.nx = 50, im.ny = 50, im.nz = 14;
  im.spacing = Spacing{0.1, 0.1, 0.5};
  im.background_photons = 0, im.attenuation_length_um = 0;
  const Volume<float> e = render_mesh_expected(m, im);
  double sum = 0;
  for (std::size_t n = 0; n < e.size(); ++n) sum += e[n];
  EXPECT_NEAR(sum / im.photons * im.spacing.voxel_um3(), mesh_volume_um3(m), 0.02 * mesh_volume_um3(m));
}

TEST_F(MeshFiles, QuadFacesAreFannedAndBadFilesRefused) {
  const std::string quads =
      "OFF\n8 6 0\n0 0 0\n1 0 0\n0 1 0\n1 1 0\n0 0 1\n1 0 1\n0 1 1\n1 1 1\n"
      "4 0 2 3 1\n4 4 5 7 6\n4 0 1 5 4\n4 2 6 7 3\n4 0 4 6 2\n4 1 3 7 5\n";
  const Mesh m = read_off(write("quads.off", quads));
  EXPECT_EQ(m.triangles.size(), 12u);
  EXPECT_NEAR(mesh_volume_um3(m), 1.0, 1e-12);
  EXPECT_THROW(read_off((dir_ / "absent.off").string()), InputError);
  EXPECT_THROW(read_off(write("ply.off", "ply\nformat ascii 1.0\n")), InputError);
  EXPECT_THROW(read_off(write("short.off", "OFF\n4 1 0\n0 0 0\n1 0 0\n")), InputError);
  EXPECT_THROW(read_off(write("index.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n")), InputError);
  EXPECT_THROW(render_mesh_folder(dir_.string(), ImagingConfig{}), InputError);  // no surface_mesh.off
}

/// A "T": shaft box [1,9]×[1,3]×[1,3] with a spine box [4.7,5.3]×[1.7,2.3]×[3,4.5] on its top face, as one closed
/// surface (the top face has a square hole where the spine rises), and the spine alone closed by a cap at z = 3
/// fanned from its centre, as SpineTool's spine meshes are closed across the neck.
void t_shape(Mesh& surface, Mesh& spine) {
  const double x0 = 1, x1 = 9, y0 = 1, y1 = 3, z0 = 1, z1 = 3, sx0 = 4.7, sx1 = 5.3, sy0 = 1.7, sy1 = 2.3, top = 4.5;
  surface.vertices = {{x0, y0, z0},    {x1, y0, z0},    {x1, y1, z0},    {x0, y1, z0},      // 0-3 bottom
                      {x0, y0, z1},    {x1, y0, z1},    {x1, y1, z1},    {x0, y1, z1},      // 4-7 top outer
                      {sx0, sy0, z1},  {sx1, sy0, z1},  {sx1, sy1, z1},  {sx0, sy1, z1},    // 8-11 hole
                      {sx0, sy0, top}, {sx1, sy0, top}, {sx1, sy1, top}, {sx0, sy1, top}};  // 12-15
  surface.triangles = {{0, 2, 1},    {0, 3, 2},                                             // bottom (-z)
                       {0, 1, 5},    {0, 5, 4},    {1, 2, 6},   {1, 6, 5},                  // sides
                       {2, 3, 7},    {2, 7, 6},    {3, 0, 4},   {3, 4, 7},    {4, 5, 9},    {4, 9, 8},
                       {5, 6, 10},   {5, 10, 9},  // top ring (+z)
                       {6, 7, 11},   {6, 11, 10},  {7, 4, 8},   {7, 8, 11},   {8, 9, 13},   {8, 13, 12},
                       {9, 10, 14},  {9, 14, 13},  // spine sides
                       {10, 11, 15}, {10, 15, 14}, {11, 8, 12}, {11, 12, 15}, {12, 13, 14}, {12, 14, 15}};  // spine top
  spine.vertices = {{sx0, sy0, z1},  {sx1, sy0, z1},  {sx1, sy1, z1},  {sx0, sy1, z1}, {sx0, sy0, top},
                    {sx1, sy0, top}, {sx1, sy1, top}, {sx0, sy1, top}, {5.0, 2.0, z1}};
  spine.triangles = {{0, 1, 5}, {0, 5, 4}, {1, 2, 6}, {1, 6, 5}, {2, 3, 7}, {2, 7, 6}, {3, 0, 4},
                     {3, 4, 7}, {4, 5, 6}, {4, 6, 7}, {8, 1, 0}, {8, 2, 1}, {8, 3, 2}, {8, 0, 3}};
}

TEST_F(MeshFiles, FolderTruthFromASyntheticSpine) {
  Mesh surface, spine;
  t_shape(surface, spine);
  const double shaft = 8.0 * 2.0 * 2.0, stem = 0.6 * 0.6 * 1.5;
  EXPECT_NEAR(mesh_volume_um3(surface), shaft + stem, 1e-9);
  EXPECT_NEAR(voxelised_volume_um3(surface, 0.05), shaft + stem, 0.005 * (shaft + stem));
  write("surface_mesh.off", off_text(surface));
  write("spine_0.off", off_text(spine));
  ImagingConfig im;
  im.noise = false;
  const GeneratedStack s = render_mesh_folder(dir_.string(), im);
  // The frame: mesh minimum moved to 2 µm from the origin.
  EXPECT_EQ(s.image.nx(), static_cast<std::size_t>(std::ceil((8.0 + 4.0) / 0.1)) + 1);
  EXPECT_EQ(s.image.nz(), static_cast<std::size_t>(std::ceil((3.5 + 4.0) / 0.35)) + 1);
  ASSERT_EQ(s.spines.size(), 1u);
  const SpineTruth& t = s.spines[0];
  EXPECT_EQ(t.spine_id, 1);
  EXPECT_EQ(t.type, "unknown");
  EXPECT_TRUE(std::isnan(t.head_diameter_um));
  // The mesh moves by +1 µm on every axis (its minimum lands 2 µm inside): the spine's base is the centre of its
  // opening at (6, 3, 4), its far end the top face at z 5.5.
  EXPECT_NEAR(t.base.x_um, 6.0, 1e-6);
  EXPECT_NEAR(t.base.y_um, 3.0, 1e-6);
  EXPECT_NEAR(t.base.z_um, 4.0, 1e-6);
  EXPECT_NEAR(t.head.z_um, 5.5, 1e-6);
  EXPECT_NEAR(t.length_um, std::sqrt(0.3 * 0.3 * 2 + 1.5 * 1.5), 1e-6);
  // The stack shows the spine: bright on its axis above the shaft, dark beside it.
  const auto at = [&](double x, double y, double z) {
    return s.image(static_cast<std::size_t>(std::lround(x / 0.1)), static_cast<std::size_t>(std::lround(y / 0.1)),
                   static_cast<std::size_t>(std::lround(z / 0.35)));
  };
  EXPECT_GT(at(6.0, 3.0, 5.0), 3 * at(8.0, 3.0, 5.0));
  // The dendrite's truth: the shaft's axis (y = z = 3 after the move) to one radius (1 µm) inside each end; the
  // spine adds nothing.
  ASSERT_EQ(s.dendrites.size(), 1u);
  EXPECT_NEAR(s.dendrites[0].length_um, 8.0 - 2 * 0.9, 0.2);
  for (const PointUm& p : s.dendrites[0].centerline) {
    EXPECT_NEAR(p.y_um, 3.0, 0.1);
    EXPECT_NEAR(p.z_um, 3.0, 0.1);
  }
}

// A shaft 3x taller than wide (as segmented from a confocal stack) reads as aspect 3; a tall spine on a round
// shaft does not change the shaft's aspect when its mesh is given (its neighbourhood is left out).
TEST(MeshAspect, ShaftHeightOverWidth) {
  EXPECT_NEAR(shaft_aspect_ratio(elliptic_tube(10.0, 0.5, 1.5, 3.0, 3.0), {}), 3.0, 0.15);
  EXPECT_NEAR(shaft_aspect_ratio(elliptic_tube(10.0, 0.6, 0.6, 3.0, 3.0), {}), 1.0, 0.05);
  Mesh round = elliptic_tube(10.0, 0.6, 0.6, 3.0, 3.0);
  const Mesh spine = icosphere({5.0, 3.0, 4.2}, 0.5, 2);  // on top of the shaft, 1.6 um tall together
  const int offset = static_cast<int>(round.vertices.size());
  for (const PointUm& p : spine.vertices) round.vertices.push_back(p);
  for (const auto& t : spine.triangles) round.triangles.push_back({t[0] + offset, t[1] + offset, t[2] + offset});
  EXPECT_NEAR(shaft_aspect_ratio(round, {spine}), 1.0, 0.05);
}

// The reference centerline of a mesh dendrite runs along the axis and ends one radius inside each end (0.9 of the
// depth there, allowing for the 0.05 µm grid): along a quarter circle, and along a 1 µm square bar, whose depth
// at the axis is 0.5 µm. A tube 3x taller than wide (as segmented with a confocal's axial blur) has the
// centerline of the round one.
TEST(MeshCenterline, FollowsTheAxisToOneRadiusInsideEachEnd) {
  const Mesh arc = arc_tube(8.0, 0.5, 2.0);
  EXPECT_NEAR(mesh_volume_um3(arc), kPi * 0.25 * 4.0 * kPi, 0.01 * kPi * kPi);
  const std::vector<DendriteTruth> a = mesh_shaft_centerlines(arc, {});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_NEAR(a[0].length_um, 4.0 * kPi - 2 * 0.45, 0.25);
  EXPECT_NEAR(a[0].mean_radius_um, 0.5, 0.07);
  for (const PointUm& p : a[0].centerline) {  // on the axis: 8 µm from the circle's centre, at z 2
    EXPECT_NEAR(std::hypot(p.x_um - 1.0, p.y_um - 1.0), 8.0, 0.08);
    EXPECT_NEAR(p.z_um, 2.0, 0.08);
  }

  const std::vector<DendriteTruth> bar = mesh_shaft_centerlines(box({1, 1, 1}, {13, 2, 2}), {});
  ASSERT_EQ(bar.size(), 1u);
  EXPECT_NEAR(bar[0].length_um, 12.0 - 2 * 0.45, 0.15);
  const std::vector<DendriteTruth> tall = mesh_shaft_centerlines(elliptic_tube(12.0, 0.5, 1.5, 3.0, 3.0), {});
  ASSERT_EQ(tall.size(), 1u);
  EXPECT_NEAR(tall[0].length_um, 12.0 - 2 * 0.45, 0.15);
  for (const PointUm& p : tall[0].centerline) {
    EXPECT_NEAR(p.y_um, 3.0, 0.08);
    EXPECT_NEAR(p.z_um, 3.0, 0.15);
  }
}

// #3's rule on the mesh's own branches: a side bar reaching 6 µm from the shaft is a dendrite branch (counted from
// the shaft's axis), a 1.5 µm bump is a spine nobody annotated and a long bar a third as thick is a thin process;
// neither adds length.
TEST(MeshCenterline, KeepsDendriteBranchesAndPrunesBumpsAndThinProcesses) {
  const Mesh shaft = box({1, 1, 1}, {13, 2, 2});
  const double shaft_um = 12.0 - 2 * 0.45;
  const std::vector<DendriteTruth> t = mesh_shaft_centerlines(joined({shaft, box({6.5, 2, 1}, {7.5, 8, 2})}), {});
  EXPECT_EQ(t.size(), 3u);  // the shaft's two sides of the junction and the side branch
  EXPECT_NEAR(total_length_um(t), shaft_um + (8.0 - 1.5 - 0.45), 0.3);

  const std::vector<DendriteTruth> bump = mesh_shaft_centerlines(joined({shaft, box({6.5, 2, 1}, {7.5, 3.5, 2})}), {});
  ASSERT_EQ(bump.size(), 1u);
  EXPECT_NEAR(bump[0].length_um, shaft_um, 0.2);

  const std::vector<DendriteTruth> thin =
      mesh_shaft_centerlines(joined({shaft, box({6.85, 2, 1.35}, {7.15, 10, 1.65})}), {});
  ASSERT_EQ(thin.size(), 1u);
  EXPECT_NEAR(thin[0].length_um, shaft_um, 0.2);

  // Given as a spine mesh, the side bar is left out of the shaft altogether.
  const Mesh side = box({6.5, 2, 1}, {7.5, 8, 2});
  const std::vector<DendriteTruth> spine = mesh_shaft_centerlines(joined({shaft, side}), {side});
  ASSERT_EQ(spine.size(), 1u);
  EXPECT_NEAR(spine[0].length_um, shaft_um, 0.2);
}

// --mesh-z-scale auto: the folder's shaft (2.5x taller than wide) is rendered round, and the spine truth scales
// with it.
TEST_F(MeshFiles, AutoZScaleMakesTheShaftRound) {
  write("surface_mesh.off", off_text(elliptic_tube(8.0, 0.5, 1.25, 3.0, 4.0)));
  ImagingConfig im;
  im.noise = false;
  const GeneratedStack as_given = render_mesh_folder(dir_.string(), im);
  const GeneratedStack scaled = render_mesh_folder(dir_.string(), im, kAutoMeshZScale);
  EXPECT_DOUBLE_EQ(as_given.mesh_z_scale, 1.0);
  EXPECT_NEAR(scaled.mesh_z_scale, 1.0 / 2.5, 0.02);
  // The stack holds the mesh with 2 um margins: 2.5 um of shaft height became 1 um.
  EXPECT_EQ(as_given.image.nz(), static_cast<std::size_t>(std::ceil((2.5 + 4.0) / 0.35)) + 1);
  EXPECT_NEAR(static_cast<double>(scaled.image.nz()), std::ceil((2.5 * scaled.mesh_z_scale + 4.0) / 0.35) + 1, 1.0);
  EXPECT_THROW(render_mesh_folder(dir_.string(), im, -1.0), ParameterError);
}

TEST(MeshRealData, SpineToolFolderRendersWithTruth) {
  const fs::path dir = fs::path(SPINESCOPE_SHARED_DATA) / "spinetool-meshes" / "1013-1";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "real meshes not found at " << dir << " (../shared/data absent)";
  const Mesh surface = read_off((dir / "surface_mesh.off").string());
  const double v = mesh_volume_um3(surface);
  EXPECT_NEAR(voxelised_volume_um3(surface, 0.05), v, 0.01 * v);

  ImagingConfig im;
  im.seed = 3;
  const GeneratedStack s = render_mesh_folder(dir.string(), im);
  EXPECT_EQ(s.spines.size(), 5u);  // spine_0..4.off
  const double bx = (s.image.nx() - 1) * 0.1, by = (s.image.ny() - 1) * 0.1, bz = (s.image.nz() - 1) * 0.35;
  for (const SpineTruth& t : s.spines) {
    EXPECT_TRUE(t.length_um > 0.3 && t.length_um < 6.0) << t.length_um;
    const double reach = std::sqrt(std::pow(t.head.x_um - t.base.x_um, 2) + std::pow(t.head.y_um - t.base.y_um, 2) +
                                   std::pow(t.head.z_um - t.base.z_um, 2));
    EXPECT_LE(reach, t.length_um + 1e-9);
    EXPECT_GT(reach, 0.3 * t.length_um);
    for (const PointUm& p : {t.head, t.base})
      EXPECT_TRUE(p.x_um > 1.5 && p.x_um < bx - 1.5 && p.z_um > 1.5 && p.z_um < bz - 1.5 && p.y_um > 1.5 &&
                  p.y_um < by - 1.5);
    // Mesh spines are bright in the image: the head voxel is well above the haze.
    const auto c = s.image(static_cast<std::size_t>(std::lround(t.head.x_um / 0.1)),
                           static_cast<std::size_t>(std::lround(t.head.y_um / 0.1)),
                           static_cast<std::size_t>(std::lround(t.head.z_um / 0.35)));
    EXPECT_GT((c - im.offset) / im.gain, 4.0 * im.background_photons);
  }
}

}  // namespace
}  // namespace spinescope::gen
