// Small out-of-line pieces of the public value types.
#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "spinescope/dendrite_graph.hpp"
#include "spinescope/io.hpp"
#include "spinescope/spacing.hpp"
#include "spinescope/spine.hpp"

namespace spinescope {

const char* to_string(SpacingSource source) {
  switch (source) {
    case SpacingSource::kImageJ: return "imagej";
    case SpacingSource::kOme: return "ome";
    case SpacingSource::kResolutionTags: return "resolution_tags";
    case SpacingSource::kCommandLine: return "command_line";
    case SpacingSource::kGenerated: return "generated";
    case SpacingSource::kUnknown: break;
  }
  return "unknown";
}

const char* to_string(SpineType type) {
  switch (type) {
    case SpineType::kStubby: return "stubby";
    case SpineType::kMushroom: return "mushroom";
    case SpineType::kThin: return "thin";
    case SpineType::kFilopodium: return "filopodium";
  }
  return "stubby";
}

bool parse_spine_type(const std::string& text, SpineType* type) {
  for (SpineType t : {SpineType::kStubby, SpineType::kMushroom, SpineType::kThin, SpineType::kFilopodium}) {
    if (text == to_string(t)) {
      *type = t;
      return true;
    }
  }
  return false;
}

double DendriteBranch::length_um() const {
  double sum = 0.0;
  for (std::size_t n = 1; n < nodes.size(); ++n) {
    const double dx = nodes[n].x_um - nodes[n - 1].x_um, dy = nodes[n].y_um - nodes[n - 1].y_um,
                 dz = nodes[n].z_um - nodes[n - 1].z_um;
    sum += std::sqrt(dx * dx + dy * dy + dz * dz);
  }
  return sum;
}

double DendriteGraph::total_length_um(int dendrite_id) const {
  double sum = 0.0;
  for (const auto& b : branches)
    if (dendrite_id < 0 || b.dendrite_id == dendrite_id) sum += b.length_um();
  return sum;
}

std::vector<int> DendriteGraph::dendrite_ids() const {
  std::set<int> ids;
  for (const auto& b : branches) ids.insert(b.dendrite_id);
  return {ids.begin(), ids.end()};
}

std::vector<PointUm> DendriteGraph::branch_points(int dendrite_id) const {
  constexpr double kMeetUm = 0.5;
  std::vector<PointUm> points;
  for (int id : dendrite_ids()) {
    if (dendrite_id >= 0 && id != dendrite_id) continue;
    struct Meeting {
      double x = 0, y = 0, z = 0;
      int ends = 0;
    };
    std::vector<Meeting> meetings;
    for (const auto& b : branches) {
      if (b.dendrite_id != id || b.nodes.empty()) continue;
      for (const DendriteNode* n : {&b.nodes.front(), &b.nodes.back()}) {
        Meeting* near = nullptr;
        for (Meeting& m : meetings) {
          const double dx = m.x / m.ends - n->x_um, dy = m.y / m.ends - n->y_um, dz = m.z / m.ends - n->z_um;
          if (dx * dx + dy * dy + dz * dz <= kMeetUm * kMeetUm) near = &m;
        }
        if (!near) near = &meetings.emplace_back();
        near->x += n->x_um, near->y += n->y_um, near->z += n->z_um, ++near->ends;
      }
    }
    for (const Meeting& m : meetings)
      if (m.ends >= 3) points.push_back({m.x / m.ends, m.y / m.ends, m.z / m.ends});
  }
  return points;
}

void write_swc(const std::string& path, const DendriteGraph& graph, const std::vector<std::string>& header_lines) {
  std::ostringstream out;
  out << "# SWC (INCF): index type x y z radius parent; coordinates and radius in micrometres\n";
  for (const auto& line : header_lines) out << "# " << line << "\n";
  // Type 3 = basal dendrite (generic dendrite). Each branch becomes a chain; a branch with a parent
  // starts from whichever of its ends is nearer to the parent and attaches there to the parent's nearest node,
  // so parents come before children and no link jumps along the branch.
  long next = 1;
  std::vector<std::vector<long>> index_of(graph.branches.size());
  std::vector<bool> written(graph.branches.size(), false);
  auto distance2 = [](const DendriteNode& a, const DendriteNode& b) {
    const double dx = a.x_um - b.x_um, dy = a.y_um - b.y_um, dz = a.z_um - b.z_um;
    return dx * dx + dy * dy + dz * dz;
  };
  auto write_branch = [&](std::size_t b) {
    const auto& br = graph.branches[b];
    long parent = -1;
    bool reversed = false;
    if (br.parent_branch >= 0 && static_cast<std::size_t>(br.parent_branch) < graph.branches.size() &&
        written[br.parent_branch] && !br.nodes.empty()) {
      const auto& pb = graph.branches[br.parent_branch];
      double best = 1e300;
      for (std::size_t n = 0; n < pb.nodes.size(); ++n)
        for (const bool from_last : {false, true}) {
          const double d = distance2(pb.nodes[n], from_last ? br.nodes.back() : br.nodes.front());
          if (d < best) best = d, parent = index_of[br.parent_branch][n], reversed = from_last;
        }
    }
    index_of[b].resize(br.nodes.size());
    for (std::size_t k = 0; k < br.nodes.size(); ++k) {
      const std::size_t n = reversed ? br.nodes.size() - 1 - k : k;
      const DendriteNode& node = br.nodes[n];
      index_of[b][n] = next;
      out << next << " 3 " << format_number(node.x_um, 7) << " " << format_number(node.y_um, 7) << " "
          << format_number(node.z_um, 7) << " " << format_number(node.radius_um, 5) << " " << parent << "\n";
      parent = next++;
    }
    written[b] = true;
  };
  // Parents before children: repeat passes until every branch whose parent is written is out.
  bool progress = true;
  while (progress) {
    progress = false;
    for (std::size_t b = 0; b < graph.branches.size(); ++b) {
      if (written[b]) continue;
      const int p = graph.branches[b].parent_branch;
      if (p < 0 || static_cast<std::size_t>(p) >= graph.branches.size() || written[p]) {
        write_branch(b);
        progress = true;
      }
    }
  }
  for (std::size_t b = 0; b < graph.branches.size(); ++b)
    if (!written[b]) write_branch(b);  // a parent cycle: write as roots rather than lose them
  write_file_atomic(path, out.str());
}

}  // namespace spinescope
