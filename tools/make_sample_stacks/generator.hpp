#pragma once
/// @file generator.hpp
/// @brief Ground-truth confocal stacks: known dendrites and spines rendered through a PSF with photon noise.
///
/// The rendering path is: scene (tubes and balls in µm) or closed mesh -> fine occupancy grid (isotropic
/// fine voxels, anti-aliased, so a 0.15 µm neck never vanishes between z planes) -> anisotropic Gaussian PSF ->
/// sampled at the stack's voxel size -> haze, depth attenuation, Poisson photon noise, read noise -> uint16.
/// Deterministic by seed.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "spinescope/spine.hpp"
#include "spinescope/volume.hpp"

namespace spinescope::gen {

/// @brief A tube along a polyline; the radius is interpolated linearly between nodes (capsule chain).
struct Tube {
  std::vector<PointUm> points;
  std::vector<double> radii_um;  ///< one per point
  double brightness = 1.0;       ///< relative fluorophore density
};

/// @brief A solid ball (spine head, punctum, test sphere).
struct Ball {
  PointUm centre;
  double radius_um = 0.5;
  double brightness = 1.0;
};

/// @brief Geometry to render, in µm in the stack's frame (voxel (i,j,k) centre at (i·sx, j·sy, k·sz)).
struct Scene {
  std::vector<Tube> tubes;
  std::vector<Ball> balls;
};

/// @brief Microscope and stack.
struct ImagingConfig {
  std::size_t nx = 256, ny = 256, nz = 32;
  Spacing spacing{0.1, 0.1, 0.35};
  double fine_voxel_um = 0.05;      ///< isotropic render grid before the PSF
  double psf_fwhm_xy_um = 0.25;
  double psf_fwhm_z_um = 0.7;
  double photons = 120.0;           ///< expected photons per voxel inside a thick dendrite (brightness 1)
  double background_photons = 6.0;  ///< haze
  double attenuation_length_um = 40.0;  ///< signal × exp(-z / L); <= 0 disables
  double read_noise = 2.0;          ///< Gaussian, in counts
  double gain = 8.0;                ///< counts per photon (so 16-bit data look like a 12-bit camera's)
  double offset = 100.0;            ///< camera offset in counts
  bool noise = true;                ///< false: the noiseless expected image (tests of geometry)
  std::uint64_t seed = 1;
};

/// @brief Ground truth of one spine (µm).
struct SpineTruth {
  int spine_id = 0;
  int dendrite_id = 0;
  std::string type;       ///< stubby, mushroom, thin, filopodium; "unknown" for annotated mesh spines
  PointUm head;           ///< head centre (the tip for a filopodium)
  PointUm base;           ///< where it leaves the shaft surface
  double head_diameter_um = 0.0;  ///< NaN where unknown
  double neck_length_um = 0.0;
  double neck_width_um = 0.0;
  double length_um = 0.0;         ///< base to tip
};

/// @brief Ground truth of one dendrite: its centerline inside the stack (sampled every ≤ 0.1 µm).
struct DendriteTruth {
  int dendrite_id = 0;
  double length_um = 0.0;  ///< along the centerline, inside the stack; NaN where unknown
  double mean_radius_um = 0.0;
  std::vector<PointUm> centerline;
  std::vector<double> radii_um;  ///< radius at each centerline point (empty where unknown; not written to CSV)
};

/// @brief A bright blob away from dendrites (not a spine).
struct PunctumTruth {
  PointUm centre;
  double diameter_um = 0.0;
};

struct GeneratedStack {
  Volume<std::uint16_t> image;
  std::vector<SpineTruth> spines;
  std::vector<DendriteTruth> dendrites;
  std::vector<PunctumTruth> puncta;
  double mesh_z_scale = 1.0;  ///< render_mesh_folder: the factor applied to the mesh's z coordinates
};

/// @brief Random-scene settings (defaults: the sample stacks).
struct GeneratorConfig {
  ImagingConfig imaging;
  int min_dendrites = 1, max_dendrites = 3;
  double min_radius_um = 0.4, max_radius_um = 1.0;
  double spine_density_per_um = 1.0;   ///< mean spines per µm of dendrite
  double min_spine_gap_um = 1.0;       ///< between spine bases along a dendrite
  int puncta = 6;                      ///< bright non-spine blobs, ≥ 4 µm from any dendrite
  bool allow_crossing = true;
  /// With allow_crossing: dendrites may cross and touch but never pass through one another (real ones cannot;
  /// with the axial blur touching ones still merge in the image). On by default. Off (make-sample-stacks
  /// --interpenetrate) gives the scenes made before it was the default, seed for seed: there two dendrites may
  /// interpenetrate, and sometimes run fused along each other for 10-20 µm. A seed whose dendrites never overlap
  /// gives the same stack either way (the check redraws a dendrite, it draws no random numbers). Where 500 draws
  /// find no place for a further dendrite (small or shallow stacks), the scene keeps those already placed.
  bool touch_only = true;
  /// Chance that a dendrite ends inside the stack (at one end, a round tip 30-70% of the way along its run
  /// through the stack, 1 µm clear of the other dendrites; kept whole when 20 tries find no such place) instead
  /// of running from face to face. 0 draws nothing more: earlier seeds are unchanged.
  double ends_inside_fraction = 0.0;
};

/// @brief Renders a scene (noise and all, per @p imaging).
Volume<std::uint16_t> render_scene(const Scene& scene, const ImagingConfig& imaging);
/// @brief The expected image before noise and camera offset, in photons (float):
/// photons · brightness · (occupancy ⊗ PSF) · exp(-z / attenuation_length_um) + background_photons.
/// For pure geometry set background_photons = 0 and attenuation_length_um = 0; then value / photons is the
/// PSF-blurred occupancy (1 inside thick objects) and Σ value / photons · voxel volume = object volume.
Volume<float> render_scene_expected(const Scene& scene, const ImagingConfig& imaging);

/// @brief A random stack: 1–3 curved dendrites of varying radius, spines of four types pointing every way
/// (including along z), puncta; deterministic by imaging.seed.
GeneratedStack generate_stack(const GeneratorConfig& config);

/// @brief render_mesh_folder's z_scale that asks for shaft_aspect_ratio's correction.
inline constexpr double kAutoMeshZScale = 0.0;

/// @brief A real dendrite from a mesh folder (surface_mesh.off + spine_<k>.off, µm) rendered through the same
/// PSF and noise path; the stack size is chosen to hold the mesh with a margin (imaging.nx/ny/nz ignored).
/// Every z coordinate is multiplied by @p z_scale first (1: as given). kAutoMeshZScale divides by the shaft's
/// aspect ratio (shaft_aspect_ratio, when above 1): meshes segmented from confocal stacks carry that microscope's
/// axial blur, which our PSF would otherwise add a second time.
GeneratedStack render_mesh_folder(const std::string& folder, const ImagingConfig& imaging, double z_scale = 1.0);

/// @brief A triangle mesh in µm (OFF files: surface_mesh.off, spine_<k>.off).
struct Mesh {
  std::vector<PointUm> vertices;
  std::vector<std::array<int, 3>> triangles;
};

/// @brief How much taller (z) than wide the dendrite shaft of @p surface is: the median, over cross-sections
/// 0.3 µm thick every 0.5 µm along the shaft's main horizontal axis, of z extent / horizontal extent, using
/// only surface vertices farther than 0.4 µm from every vertex of @p spines. 1 when no section qualifies.
double shaft_aspect_ratio(const Mesh& surface, const std::vector<Mesh>& spines);

/// @brief The reference centerlines of a mesh dendrite (the truth of its length), one per branch. Found where
/// the shaft is round (z divided by shaft_aspect_ratio first, the centerlines stretched back): the points of
/// @p surface not inside any of @p spines on a 0.05 µm grid (their largest connected piece); a skeleton tree
/// grown from one end (TEASAR: the path to the point farthest along the shaft not yet covered, keeping inside,
/// joined to the tree where it enters the tube the tree covers); terminal stretches pruned shortest first while
/// they reach less than 3 µm beyond the surface of the branch they leave (#3: spines, bumps) or have a median
/// depth under half the tree's (thin processes), the straighter of two such stretches at one end kept. Each
/// stretch between ends and junctions is a branch: moved to its cross-sections' centroids, smoothed (about a
/// Gaussian of 0.35 µm), and ending one radius inside a tip (as a round-capped tube's axis does). radii_um: each
/// point's depth below the surface of the round shaft. Empty when nothing is left.
std::vector<DendriteTruth> mesh_shaft_centerlines(const Mesh& surface, const std::vector<Mesh>& spines);

/// @brief Reads an OFF file (triangles only; polygons are fanned). Throws InputError naming the file.
Mesh read_off(const std::string& path);
/// @brief Enclosed volume of a closed, consistently oriented mesh (divergence theorem), in µm³.
double mesh_volume_um3(const Mesh& mesh);
/// @brief Volume of the mesh as voxelised on the fine grid (Σ coverage · fine_voxel_um³): the voxeliser's
/// own check. Inside = odd number of crossings of a (slightly jittered) ray along x; coverage is exact along x.
double voxelised_volume_um3(const Mesh& mesh, double fine_voxel_um);
/// @brief The expected image (photons, as render_scene_expected) of a closed mesh given in the stack's frame.
Volume<float> render_mesh_expected(const Mesh& mesh, const ImagingConfig& imaging);

/// @brief Writes PREFIX.tif (ImageJ, spacing), PREFIX.spines.csv, PREFIX.dendrites.csv,
/// PREFIX.centerline.csv (dendrite_id,x_um,y_um,z_um) and PREFIX.puncta.csv, each atomically.
void write_generated(const std::string& prefix, const GeneratedStack& stack);

}  // namespace spinescope::gen
