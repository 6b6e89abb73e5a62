#include "stages/load/load_stage.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_group.h>

#include <algorithm>

#include "spinescope/io.hpp"

namespace spinescope::stages::load {

const StageSpec& LoadStage::spec() const {
  static const StageSpec s = [] {
    StageSpec spec;
    spec.name = "load";
    spec.summary = "reads a TIFF/BigTIFF, ImageJ hyperstack or OME-TIFF z-stack with its voxel size in µm";
    spec.provides_artifacts = {artifacts::kImage, artifacts::kRawMip};
    spec.params = {
        text_param("voxel_size_um", "", {},
                   "x,y,z voxel size in µm overriding the file's; required when the file has none"),
        integer_param("channel", 0, 0, 1000, "1-based channel of a multi-channel stack; 0: the stack must have one"),
        integer_param("frame", 0, 0, 100000, "1-based time point; 0: the stack must have one"),
        bool_param("allow_single_plane", false, "accept a single 2-D plane instead of refusing it"),
    };
    spec.params[0].unit = "um";
    return spec;
  }();
  return s;
}

void LoadStage::on_configure(const ResolvedParams& params) {
  options_ = LoadOptions{};
  const std::string& voxel = params.text("voxel_size_um");
  if (!voxel.empty()) options_.voxel_size = parse_voxel_size(voxel, "load.voxel_size_um");
  options_.channel = static_cast<int>(params.integer("channel"));
  options_.frame = static_cast<int>(params.integer("frame"));
  options_.allow_single_plane = params.flag("allow_single_plane");
}

Volume<float> max_projection_z(const Volume<float>& volume) {
  Volume<float> mip(volume.nx(), volume.ny(), volume.nz() > 0 ? 1 : 0, volume.spacing());
  if (volume.empty()) return mip;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, volume.ny()), [&](const tbb::blocked_range<std::size_t>& rows) {
    const std::size_t nx = volume.nx();
    for (std::size_t j = rows.begin(); j != rows.end(); ++j) {
      float* out = mip.slice(0) + j * nx;
      std::copy_n(volume.slice(0) + j * nx, nx, out);
      for (std::size_t k = 1; k < volume.nz(); ++k) {
        const float* in = volume.slice(k) + j * nx;
        for (std::size_t i = 0; i < nx; ++i) out[i] = std::max(out[i], in[i]);
      }
    }
  });
  return mip;
}

void LoadStage::run(Context& ctx) const {
  StackInfo& info = ctx.info();
  LoadOptions options = options_;
  // Reading pages is most of the work; hashing the file and the projection share the rest.
  options.progress = [&ctx](double fraction) { ctx.report_progress(0.1 + 0.8 * fraction); };
  StackHeader header;
  // The input checksum (provenance) is computed while the pages are decoded: both are serial, and on two
  // threads the hash then costs no wall time.
  std::string sha256;
  tbb::task_group hashing;
  hashing.run([&] { sha256 = sha256_file(info.path); });
  Volume<float> image;
  try {
    image = read_stack(info.path, options, &header);
  } catch (...) {
    try {
      hashing.wait();
    } catch (...) {  // the reader's message names the problem; the hash's would only repeat it
    }
    throw;
  }
  hashing.wait();
  ctx.report_progress(0.9);
  info.sha256 = sha256;
  info.spacing = header.spacing;
  info.spacing_source = header.spacing_source;
  info.nx = header.nx;
  info.ny = header.ny;
  info.nz = header.nz;
  info.bits_per_sample = header.bits_per_sample;
  info.sample_format = header.sample_format;
  info.channels = header.channels;
  info.channel = options_.channel > 0 ? options_.channel : 1;
  info.frames = header.frames;
  info.frame = options_.frame > 0 ? options_.frame : 1;
  for (const auto& [key, value] : header.metadata) info.metadata[key] = value;
  info.metadata["format"] = header.format;
  Volume<float> mip = max_projection_z(image);
  ctx.put(artifacts::kImage, std::move(image));
  ctx.put(artifacts::kRawMip, std::move(mip));
}

}  // namespace spinescope::stages::load
