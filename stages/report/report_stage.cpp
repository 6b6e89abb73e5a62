#include "stages/report/report_stage.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include <boost/filesystem.hpp>
#include <tbb/parallel_for.h>

#include "spinescope/io.hpp"

namespace spinescope::stages::report {

namespace {

const SpineType kTypes[] = {SpineType::kStubby, SpineType::kMushroom, SpineType::kThin, SpineType::kFilopodium};

std::string spines_csv(const std::vector<Spine>& spines) {
  std::ostringstream out;
  out << "spine_id,dendrite_id,x_um,y_um,z_um,head_diameter_um,neck_length_um,length_um,volume_um3,type,"
         "neck_width_um,base_x_um,base_y_um,base_z_um,tip_x_um,tip_y_um,tip_z_um,confidence,detached,label\n";
  auto n = [](double v, int digits = 5) { return format_number(v, digits); };
  for (const auto& s : spines) {
    out << s.spine_id << ',' << s.dendrite_id << ',' << n(s.head.x_um) << ',' << n(s.head.y_um) << ','
        << n(s.head.z_um) << ',' << n(s.head_diameter_um, 4) << ',' << n(s.neck_length_um, 4) << ','
        << n(s.length_um, 4) << ',' << n(s.volume_um3, 4) << ',' << to_string(s.type) << ','
        << n(s.neck_width_um, 4) << ',' << n(s.base.x_um) << ',' << n(s.base.y_um) << ',' << n(s.base.z_um) << ','
        << n(s.tip.x_um) << ',' << n(s.tip.y_um) << ',' << n(s.tip.z_um) << ',' << n(s.confidence, 3) << ','
        << (s.detached ? "true" : "false") << ',' << s.spine_id + 2 << '\n';
  }
  return out.str();
}

std::string dendrites_csv(const DendriteGraph& graph, const std::vector<Spine>& spines) {
  std::ostringstream out;
  out << "dendrite_id,length_um,spine_count,density_per_um,mean_radius_um,min_radius_um,max_radius_um,"
         "stubby_count,mushroom_count,thin_count,filopodium_count,branch_points\n";
  for (int id : graph.dendrite_ids()) {
    double length_um = 0.0, radius_sum = 0.0, weight = 0.0, rmin = 1e300, rmax = 0.0;
    for (const auto& b : graph.branches) {
      if (b.dendrite_id != id) continue;
      length_um += b.length_um();
      for (std::size_t i = 0; i < b.nodes.size(); ++i) {
        // Length-weighted mean radius: each node stands for half of each adjacent segment.
        double w = 0.0;
        auto seg = [&](std::size_t a, std::size_t c) {
          const auto &p = b.nodes[a], &q = b.nodes[c];
          return std::sqrt((p.x_um - q.x_um) * (p.x_um - q.x_um) + (p.y_um - q.y_um) * (p.y_um - q.y_um) +
                           (p.z_um - q.z_um) * (p.z_um - q.z_um));
        };
        if (i > 0) w += 0.5 * seg(i - 1, i);
        if (i + 1 < b.nodes.size()) w += 0.5 * seg(i, i + 1);
        radius_sum += w * b.nodes[i].radius_um;
        weight += w;
        rmin = std::min(rmin, b.nodes[i].radius_um);
        rmax = std::max(rmax, b.nodes[i].radius_um);
      }
    }
    std::map<SpineType, int> by_type;
    int count = 0;
    for (const auto& s : spines)
      if (s.dendrite_id == id) ++count, ++by_type[s.type];
    out << id << ',' << format_number(length_um, 6) << ',' << count << ','
        << format_number(length_um > 0 ? count / length_um : std::nan(""), 5) << ','
        << format_number(weight > 0 ? radius_sum / weight : std::nan(""), 4) << ','
        << format_number(rmax > 0 ? rmin : std::nan(""), 4) << ',' << format_number(rmax > 0 ? rmax : std::nan(""), 4);
    for (SpineType t : kTypes) out << ',' << by_type[t];
    out << ',' << graph.branch_points(id).size() << '\n';
  }
  return out.str();
}

Json summary_json(const StackInfo& info, const DendriteGraph& graph, const std::vector<Spine>& spines) {
  Json j = Json::object();
  j.set("spinescope_version", SPINESCOPE_VERSION);
  Json input = Json::object();
  input.set("path", info.path).set("sha256", info.sha256);
  input.set("size_vox", Json::array().push(static_cast<unsigned long>(info.nx)).push(static_cast<unsigned long>(info.ny))
                            .push(static_cast<unsigned long>(info.nz)));
  input.set("bits_per_sample", info.bits_per_sample).set("sample_format", info.sample_format);
  input.set("channel", info.channel).set("channels", info.channels).set("frame", info.frame).set("frames", info.frames);
  for (const auto& [k, v] : info.metadata) input.set(k, v);
  j.set("input", input);
  Json spacing = Json::object();
  spacing.set("x_um", info.spacing.x_um).set("y_um", info.spacing.y_um).set("z_um", info.spacing.z_um);
  spacing.set("source", to_string(info.spacing_source));
  j.set("voxel_size", spacing);
  Json params = Json::object();
  for (const auto& [stage, values] : info.parameters) {
    Json p = Json::object();
    for (const auto& [k, v] : values) p.set(k, v);
    params.set(stage, p);
  }
  j.set("parameters", params);
  const double length_um = graph.total_length_um();
  Json results = Json::object();
  results.set("dendrite_count", static_cast<unsigned long>(graph.dendrite_ids().size()));
  results.set("dendrite_length_um", length_um);
  results.set("branch_points", static_cast<unsigned long>(graph.branch_points().size()));
  results.set("spine_count", static_cast<unsigned long>(spines.size()));
  results.set("density_per_um", length_um > 0 ? spines.size() / length_um : std::nan(""));
  Json by_type = Json::object();
  for (SpineType t : kTypes)
    by_type.set(to_string(t), static_cast<long>(std::count_if(spines.begin(), spines.end(),
                                                              [t](const Spine& s) { return s.type == t; })));
  results.set("spines_by_type", by_type);
  j.set("results", results);
  return j;
}

Volume<std::uint16_t> label_volume(const Volume<std::uint8_t>& shaft, const Volume<std::uint32_t>& spine_labels) {
  Volume<std::uint16_t> labels(shaft.nx(), shaft.ny(), shaft.nz(), shaft.spacing());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, labels.size(), 1 << 16),
                    [&](const tbb::blocked_range<std::size_t>& r) {
                      for (std::size_t i = r.begin(); i < r.end(); ++i) {
                        const std::uint32_t s = spine_labels[i];
                        if (s > 0) labels[i] = static_cast<std::uint16_t>(std::min<std::uint32_t>(s + 1, 65535));
                        else if (shaft[i]) labels[i] = 1;
                      }
                    });
  return labels;
}

}  // namespace

const StageSpec& ReportStage::spec() const {
  static const StageSpec s = [] {
    StageSpec spec;
    spec.name = "report";
    spec.summary = "write spines.csv, dendrites.csv, summary.json, labels.tif, trace.swc and overlay.png";
    spec.requires_artifacts = {artifacts::kDendriteGraph, artifacts::kSpines, artifacts::kRawMip,
                               artifacts::kShaftMask, artifacts::kSpineLabels};
    spec.params = {bool_param("labels", true, "write labels.tif (1 = shaft, spine k = k + 2)"),
                   bool_param("overlay", true, "write overlay.png (maximum projection, trace, spines by type)")};
    spec.columns = {{"x_um", "um", "head centre x (tip for a filopodium)"},
                    {"head_diameter_um", "um", "head diameter, PSF-corrected"},
                    {"neck_length_um", "um", "neck length"},
                    {"length_um", "um", "base to tip"},
                    {"volume_um3", "um3", "spine volume"},
                    {"density_per_um", "1/um", "spines per um of dendrite"}};
    return spec;
  }();
  return s;
}

void ReportStage::run(Context& ctx) const {
  const StackInfo& info = ctx.info();
  if (info.output_dir.empty()) return;  // library use without files
  namespace fs = boost::filesystem;
  const fs::path dir(info.output_dir);
  boost::system::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw OutputError(info.output_dir, "cannot create output folder: " + ec.message());

  const auto& graph = ctx.get<DendriteGraph>(artifacts::kDendriteGraph);
  const auto& spines = ctx.get<std::vector<Spine>>(artifacts::kSpines);
  write_file_atomic((dir / "spines.csv").string(), spines_csv(spines));
  write_file_atomic((dir / "dendrites.csv").string(), dendrites_csv(graph, spines));
  ctx.report_progress(0.1);
  std::ostringstream voxel;
  voxel << "voxel size (um): " << info.spacing.x_um << " " << info.spacing.y_um << " " << info.spacing.z_um;
  write_swc((dir / "trace.swc").string(), graph,
            {"spinescope " SPINESCOPE_VERSION, "stack: " + info.path,
             "size (voxels): " + std::to_string(info.nx) + " " + std::to_string(info.ny) + " " + std::to_string(info.nz),
             voxel.str()});
  ctx.report_progress(0.2);
  if (params().flag("labels")) {
    write_imagej_tiff((dir / "labels.tif").string(),
                      label_volume(ctx.get<Volume<std::uint8_t>>(artifacts::kShaftMask),
                                   ctx.get<Volume<std::uint32_t>>(artifacts::kSpineLabels)),
                      TiffCompression::kPackBits);
  }
  ctx.report_progress(0.7);
  if (params().flag("overlay"))
    write_overlay_png((dir / "overlay.png").string(), ctx.get<Volume<float>>(artifacts::kRawMip), graph, spines);
  ctx.report_progress(0.95);
  // Last: summary.json marks a complete result set.
  write_file_atomic((dir / "summary.json").string(), summary_json(info, graph, spines).dump());
}

}  // namespace spinescope::stages::report
