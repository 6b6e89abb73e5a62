// generate_stack / write_generated: the truth must describe what was rendered, and be reproducible by seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/filesystem.hpp>
#include <cmath>
#include <map>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "spinescope/spine.hpp"
#include "tools/make_sample_stacks/generator.hpp"

namespace spinescope::gen {
namespace {

namespace fs = boost::filesystem;

struct P {
  double x, y, z;
  P(const PointUm& p) : x(p.x_um), y(p.y_um), z(p.z_um) {}  // NOLINT
  P(double a, double b, double c) : x(a), y(b), z(c) {}
  P operator-(const P& o) const { return {x - o.x, y - o.y, z - o.z}; }
  P operator+(const P& o) const { return {x + o.x, y + o.y, z + o.z}; }
  P operator*(double s) const { return {x * s, y * s, z * s}; }
  double dot(const P& o) const { return x * o.x + y * o.y + z * o.z; }
  double norm() const { return std::sqrt(dot(*this)); }
};

double segment_distance(P a0, P a1, P b0, P b1) {
  // Sampled: exact enough (0.01 µm) for clearance checks of 0.4 µm.
  double best = 1e300;
  for (int i = 0; i <= 100; ++i) {
    const P p = a0 + (a1 - a0) * (i / 100.0);
    const P d = b1 - b0;
    double t = d.dot(d) > 0 ? (p - b0).dot(d) / d.dot(d) : 0.0;
    t = std::min(1.0, std::max(0.0, t));
    best = std::min(best, (p - (b0 + d * t)).norm());
  }
  return best;
}

/// A spine's shape rebuilt from its truth row: (segment, radius) pieces.
struct Piece {
  P a, b;
  double r;
};
std::vector<Piece> pieces(const SpineTruth& s) {
  const P base(s.base), head(s.head);
  if (s.type == "stubby") return {{base, head, s.head_diameter_um / 2}};
  if (s.type == "filopodium") {
    const P dir = (head - base) * (1.0 / (head - base).norm());
    return {{base, head - dir * (s.neck_width_um / 2), s.neck_width_um / 2}};
  }
  return {{base, head, s.neck_width_um / 2}, {head, head, s.head_diameter_um / 2}};
}

/// The type the NeuronStudio rules (Rodriguez et al. 2008) give a spine, filopodia being headless long ones.
std::string neuronstudio_type(const SpineTruth& s) {
  if (std::isnan(s.head_diameter_um)) return s.length_um / s.neck_width_um > 2.5 ? "filopodium" : "stubby";
  const double neck = std::isnan(s.neck_width_um) ? s.head_diameter_um : s.neck_width_um;
  const bool headed = s.neck_length_um > 0 && s.head_diameter_um / neck > 1.1;
  if (headed) return s.head_diameter_um >= 0.35 ? "mushroom" : "thin";
  return s.length_um / s.head_diameter_um > 2.5 ? "thin" : "stubby";
}

GeneratorConfig small_config(std::uint64_t seed) {
  GeneratorConfig cfg;
  cfg.imaging.nx = 200, cfg.imaging.ny = 180, cfg.imaging.nz = 32;
  cfg.imaging.spacing = Spacing{0.1, 0.1, 0.35};
  cfg.imaging.seed = seed;
  return cfg;
}

class GenerateStack : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      GeneratorConfig cfg = small_config(seed);
      cfg.imaging.noise = false;
      stacks_[seed] = generate_stack(cfg);
    }
  }
  static std::map<std::uint64_t, GeneratedStack> stacks_;
};
std::map<std::uint64_t, GeneratedStack> GenerateStack::stacks_;

TEST_F(GenerateStack, SameSeedSameBytesOtherSeedOtherStack) {
  const fs::path dir = fs::temp_directory_path() / fs::unique_path("spinescope-gen-%%%%%%");
  GeneratorConfig cfg = small_config(5);
  write_generated((dir / "a").string(), generate_stack(cfg));
  write_generated((dir / "b").string(), generate_stack(cfg));
  cfg.imaging.seed = 6;
  write_generated((dir / "c").string(), generate_stack(cfg));
  for (const char* ext : {".tif", ".spines.csv", ".dendrites.csv", ".centerline.csv", ".puncta.csv"}) {
    EXPECT_EQ(sha256_file((dir / (std::string("a") + ext)).string()),
              sha256_file((dir / (std::string("b") + ext)).string()))
        << ext;
  }
  EXPECT_NE(sha256_file((dir / "a.tif").string()), sha256_file((dir / "c.tif").string()));
  EXPECT_NE(sha256_file((dir / "a.spines.csv").string()), sha256_file((dir / "c.spines.csv").string()));
  const CsvTable spines = read_csv((dir / "a.spines.csv").string());
  EXPECT_EQ(spines.header.size(), 13u);
  EXPECT_EQ(spines.column("head_diameter_um"), 9);
  fs::remove_all(dir);
}

TEST_F(GenerateStack, SpinesHaveRealisticShapesAndTheirOwnNeuronStudioType) {
  std::map<std::string, int> count;
  for (const auto& [seed, s] : stacks_) {
    EXPECT_GE(s.spines.size(), 8u) << "seed " << seed;
    for (const SpineTruth& t : s.spines) {
      ++count[t.type];
      SpineType parsed;
      ASSERT_TRUE(parse_spine_type(t.type, &parsed)) << t.type;
      EXPECT_EQ(neuronstudio_type(t), t.type) << "spine " << t.spine_id << " seed " << seed;
      EXPECT_NEAR((P(t.head) - P(t.base)).norm(),
                  t.type == "filopodium" ? t.length_um : t.length_um - t.head_diameter_um / 2, 1e-6);
      if (t.type == "mushroom" || t.type == "thin") {
        EXPECT_GE(t.length_um, 1.0 - 1e-9);
        EXPECT_LE(t.length_um, 2.0 + 1e-9);
      }
      if (t.type == "filopodium") EXPECT_TRUE(t.length_um >= 1.5 && t.length_um <= 3.0);
      if (t.type == "stubby") EXPECT_LE(t.length_um, t.head_diameter_um + 1e-9);
    }
  }
  for (const char* type : {"thin", "mushroom", "stubby", "filopodium"}) EXPECT_GT(count[type], 0) << type;
}

TEST_F(GenerateStack, SpinesPointEveryWayIncludingAlongZ) {
  int along_z = 0, lateral = 0, up = 0, down = 0;
  for (const auto& [seed, s] : stacks_)
    for (const SpineTruth& t : s.spines) {
      const P d = P(t.head) - P(t.base);
      if (d.norm() < 0.2) continue;  // low stubby: the head centre sits on the base
      const double cz = d.z / d.norm();
      if (std::abs(cz) > 0.7) ++along_z, (cz > 0 ? up : down)++;
      if (std::abs(cz) < 0.3) ++lateral;
    }
  EXPECT_GT(up, 0);
  EXPECT_GT(down, 0);
  EXPECT_GT(along_z, 3);
  EXPECT_GT(lateral, 3);
}

TEST_F(GenerateStack, SpinesDoNotOverlapAndStayInside) {
  for (const auto& [seed, s] : stacks_) {
    const double bx = (s.image.nx() - 1) * 0.1, by = (s.image.ny() - 1) * 0.1, bz = (s.image.nz() - 1) * 0.35;
    for (std::size_t a = 0; a < s.spines.size(); ++a) {
      const P h(s.spines[a].head);
      EXPECT_TRUE(h.x > 0 && h.y > 0 && h.z > 0 && h.x < bx && h.y < by && h.z < bz);
      for (std::size_t b = a + 1; b < s.spines.size(); ++b)
        for (const Piece& pa : pieces(s.spines[a]))
          for (const Piece& pb : pieces(s.spines[b]))
            EXPECT_GE(segment_distance(pa.a, pa.b, pb.a, pb.b) - pa.r - pb.r, 0.39)
                << "spines " << s.spines[a].spine_id << " and " << s.spines[b].spine_id << " seed " << seed;
    }
  }
}

TEST_F(GenerateStack, SpineBasesAreOnTheShaftAndApartAlongIt) {
  for (const auto& [seed, s] : stacks_) {
    std::map<int, std::vector<double>> arclength;  // per dendrite, the bases' positions along the centerline
    for (const SpineTruth& t : s.spines) {
      const DendriteTruth& d = s.dendrites[static_cast<std::size_t>(t.dendrite_id - 1)];
      double best = 1e300, at = 0.0, run = 0.0;
      for (std::size_t i = 0; i < d.centerline.size(); ++i) {
        if (i) run += (P(d.centerline[i]) - P(d.centerline[i - 1])).norm();
        const double dist = (P(t.base) - P(d.centerline[i])).norm();
        if (dist < best) best = dist, at = run;
      }
      EXPECT_NEAR(best, d.mean_radius_um, 0.35) << "spine " << t.spine_id;
      arclength[t.dendrite_id].push_back(at);
    }
    for (auto& [id, pos] : arclength) {
      std::sort(pos.begin(), pos.end());
      for (std::size_t i = 1; i < pos.size(); ++i) EXPECT_GE(pos[i] - pos[i - 1], 1.0 - 0.1);
    }
  }
}

TEST_F(GenerateStack, DendriteTruthIsTheCenterlineInsideTheStack) {
  for (const auto& [seed, s] : stacks_) {
    const double b[3] = {(s.image.nx() - 1) * 0.1, (s.image.ny() - 1) * 0.1, (s.image.nz() - 1) * 0.35};
    ASSERT_GE(s.dendrites.size(), 1u);
    for (const DendriteTruth& d : s.dendrites) {
      double length = 0.0;
      for (std::size_t i = 0; i < d.centerline.size(); ++i) {
        const P p(d.centerline[i]);
        EXPECT_TRUE(p.x >= -1e-9 && p.y >= -1e-9 && p.x <= b[0] + 1e-9 && p.y <= b[1] + 1e-9);
        EXPECT_TRUE(p.z >= 1.5 && p.z <= b[2] - 1.5) << "z " << p.z;
        if (i) {
          const double step = (p - P(d.centerline[i - 1])).norm();
          EXPECT_LE(step, 0.1 + 1e-9);
          length += step;
        }
      }
      EXPECT_NEAR(d.length_um, length, 1e-6);
      EXPECT_GE(d.length_um, 0.6 * std::min(b[0], b[1]));
      for (const P end : {P(d.centerline.front()), P(d.centerline.back())}) {
        const double to_face = std::min({end.x, end.y, b[0] - end.x, b[1] - end.y});
        EXPECT_LT(to_face, 1e-6) << "a centerline ends on the stack's x/y faces";
      }
      EXPECT_TRUE(d.mean_radius_um >= 0.4 && d.mean_radius_um <= 1.0);
      // The image is bright along the truth: noiseless counts well above haze on the centerline.
      const ImagingConfig im;
      for (std::size_t i = 0; i < d.centerline.size(); i += 10) {
        const P p(d.centerline[i]);
        const auto v =
            s.image(static_cast<std::size_t>(std::lround(p.x / 0.1)), static_cast<std::size_t>(std::lround(p.y / 0.1)),
                    static_cast<std::size_t>(std::lround(p.z / 0.35)));
        const double photons = (v - im.offset) / im.gain - im.background_photons;
        EXPECT_GT(photons, 0.5 * im.photons * 0.85 * std::exp(-b[2] / im.attenuation_length_um));
      }
    }
  }
}

TEST_F(GenerateStack, PunctaAreFarFromDendritesAndBright) {
  int total = 0;
  for (const auto& [seed, s] : stacks_) {
    for (const PunctumTruth& p : s.puncta) {
      ++total;
      EXPECT_TRUE(p.diameter_um >= 0.3 && p.diameter_um <= 0.6);
      for (const DendriteTruth& d : s.dendrites) {
        ASSERT_EQ(d.radii_um.size(), d.centerline.size());
        double best = 1e300;
        for (std::size_t i = 0; i < d.centerline.size(); ++i)
          best = std::min(best, (P(p.centre) - P(d.centerline[i])).norm() - d.radii_um[i]);
        EXPECT_GE(best - p.diameter_um / 2, 4.0 - 1e-6);
      }
      const ImagingConfig im;
      const auto v = s.image(static_cast<std::size_t>(std::lround(p.centre.x_um / 0.1)),
                             static_cast<std::size_t>(std::lround(p.centre.y_um / 0.1)),
                             static_cast<std::size_t>(std::lround(p.centre.z_um / 0.35)));
      EXPECT_GT((v - im.offset) / im.gain - im.background_photons, 0.2 * im.photons);
    }
  }
  EXPECT_GT(total, 0);
}

// ends_inside_fraction 1: each dendrite keeps the same path but ends inside the stack at one end, a round tip
// 1 µm clear of the other dendrites, with no spine base within 1 µm of it; the image is bright at the tip's axis
// and dark just beyond its cap.
TEST(GenerateStackTips, DendritesEndInsideAtARoundTipClearOfTheOthers) {
  int tips = 0;
  for (std::uint64_t seed : {1u, 2u, 3u, 4u}) {
    GeneratorConfig cfg = small_config(seed);
    cfg.imaging.noise = false;
    const GeneratedStack whole = generate_stack(cfg);
    cfg.ends_inside_fraction = 1.0;
    const GeneratedStack s = generate_stack(cfg);
    ASSERT_EQ(s.dendrites.size(), whole.dendrites.size());
    const double b[3] = {(s.image.nx() - 1) * 0.1, (s.image.ny() - 1) * 0.1, (s.image.nz() - 1) * 0.35};
    for (std::size_t k = 0; k < s.dendrites.size(); ++k) {
      const DendriteTruth& d = s.dendrites[k];
      auto to_face = [&](const P& p) { return std::min({p.x, p.y, b[0] - p.x, b[1] - p.y}); };
      const bool front_tip = to_face(P(d.centerline.front())) > 1e-6, back_tip = to_face(P(d.centerline.back())) > 1e-6;
      EXPECT_FALSE(front_tip && back_tip) << "one end stays on a face";
      if (!front_tip && !back_tip) {  // no clear place for a tip: the dendrite is kept whole
        EXPECT_NEAR(d.length_um, whole.dendrites[k].length_um, 1e-9);
        continue;
      }
      ++tips;
      EXPECT_LT(d.length_um, 0.75 * whole.dendrites[k].length_um);
      EXPECT_GT(d.length_um, 0.25 * whole.dendrites[k].length_um);
      const std::size_t n = d.centerline.size();
      const P tip(front_tip ? d.centerline.front() : d.centerline.back());
      const P before(front_tip ? d.centerline[std::min<std::size_t>(n - 1, 10)] : d.centerline[n > 11 ? n - 11 : 0]);
      const double r = front_tip ? d.radii_um.front() : d.radii_um.back();
      for (std::size_t o = 0; o < s.dendrites.size(); ++o) {
        if (o == k) continue;
        for (std::size_t i = 0; i < s.dendrites[o].centerline.size(); ++i)
          EXPECT_GE((tip - P(s.dendrites[o].centerline[i])).norm() - r - s.dendrites[o].radii_um[i], 1.0 - 1e-6);
      }
      for (const SpineTruth& sp : s.spines)
        if (sp.dendrite_id == d.dendrite_id) EXPECT_GE((P(sp.base) - tip).norm(), 0.9);
      const ImagingConfig im;
      auto photons_at = [&](const P& p) {
        const auto v =
            s.image(static_cast<std::size_t>(std::lround(p.x / 0.1)), static_cast<std::size_t>(std::lround(p.y / 0.1)),
                    static_cast<std::size_t>(std::lround(p.z / 0.35)));
        return (v - im.offset) / im.gain - im.background_photons;
      };
      const P out = tip + (tip - before) * ((r + 0.6) / (tip - before).norm());
      EXPECT_GT(photons_at(tip), 0.4 * im.photons * 0.85 * std::exp(-b[2] / im.attenuation_length_um));
      if (out.x > 0 && out.y > 0 && out.x < b[0] && out.y < b[1]) EXPECT_LT(photons_at(out), 0.25 * im.photons);
    }
  }
  EXPECT_GE(tips, 4);
}

// The deepest overlap (µm, > 0: the surfaces of two dendrites pass through each other) between any two of @p s's
// dendrites, from their truth centerlines and radii.
double deepest_overlap_um(const GeneratedStack& s) {
  double deepest = -1e300;
  for (std::size_t a = 0; a < s.dendrites.size(); ++a)
    for (std::size_t b = a + 1; b < s.dendrites.size(); ++b) {
      const DendriteTruth &da = s.dendrites[a], &db = s.dendrites[b];
      for (std::size_t i = 0; i < da.centerline.size(); ++i)
        for (std::size_t j = 0; j < db.centerline.size(); ++j)
          deepest = std::max(deepest, da.radii_um[i] + db.radii_um[j] -
                                          (P(da.centerline[i]) - P(db.centerline[j])).norm());
    }
  return deepest;
}

// touch_only (the default): dendrites still cross (their surfaces come within 0.5 µm) but never pass through one
// another, where the same seeds without it (make-sample-stacks --interpenetrate) do by up to a radius or more.
TEST(GenerateStackTouchOnly, DendritesCrossWithoutPassingThroughOneAnother) {
  double deepest_interpenetrating = -1e300, deepest_touch = -1e300, closest_touch = 1e300;
  for (std::uint64_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    GeneratorConfig cfg = small_config(seed);
    cfg.imaging.noise = false;
    cfg.spine_density_per_um = 0.0;
    const GeneratedStack s = generate_stack(cfg);
    cfg.touch_only = false;
    deepest_interpenetrating = std::max(deepest_interpenetrating, deepest_overlap_um(generate_stack(cfg)));
    const double overlap = deepest_overlap_um(s);
    deepest_touch = std::max(deepest_touch, overlap);
    if (s.dendrites.size() > 1) closest_touch = std::min(closest_touch, -overlap);
  }
  EXPECT_GT(deepest_interpenetrating, 0.5) << "without touch_only dendrites pass through one another";
  EXPECT_LT(deepest_touch, 0.05) << "touch_only: surfaces may meet, not overlap";
  EXPECT_LT(closest_touch, 0.5) << "touch_only: some dendrites still cross close by";
}

// A stack too small for its dendrites to pass one another without touching keeps those that fit (seed 77 draws three
// for 16 x 16 x 8 um; the third finds no place in 500 draws) instead of failing.
TEST(GenerateStackTouchOnly, SmallStackKeepsTheDendritesThatFit) {
  GeneratorConfig cfg;
  cfg.imaging.nx = 160, cfg.imaging.ny = 160, cfg.imaging.nz = 24;
  cfg.imaging.seed = 77;
  cfg.imaging.noise = false;
  cfg.touch_only = false;
  EXPECT_EQ(generate_stack(cfg).dendrites.size(), 3u);
  cfg.touch_only = true;
  const GeneratedStack s = generate_stack(cfg);
  EXPECT_GE(s.dendrites.size(), 1u);
  EXPECT_LT(s.dendrites.size(), 3u);
  EXPECT_LT(deepest_overlap_um(s), 0.05);
}

TEST(GenerateStackErrors, RefusesStacksTooSmallOrBadSettings) {
  GeneratorConfig cfg;
  cfg.imaging.nz = 6;  // 1.75 µm deep: no room for a dendrite 1.5 µm inside z
  EXPECT_THROW(generate_stack(cfg), ParameterError);
  cfg = GeneratorConfig{};
  cfg.spine_density_per_um = -1;
  EXPECT_THROW(generate_stack(cfg), ParameterError);
  cfg = GeneratorConfig{};
  cfg.max_dendrites = 0;
  EXPECT_THROW(generate_stack(cfg), ParameterError);
  cfg = GeneratorConfig{};
  cfg.ends_inside_fraction = 1.5;
  EXPECT_THROW(generate_stack(cfg), ParameterError);
}

}  // namespace
}  // namespace spinescope::gen
