#pragma once
/// @file report_html.hpp
/// @brief report.html: one self-contained page (inline SVG and CSS, overlays as data URIs, no network, no
/// JavaScript) with density per group (animals, neurons, means with 95 % CIs), head-diameter ECDFs, spine-type
/// fractions, the statistics in words, n at every level, per-stack overlay thumbnails and a QC table.

#include <string>

#include "spinescope/stats.hpp"

namespace spinescope {

/// @brief Renders the report of @p result; overlay paths in stacks.csv are relative to @p dir. Overlays are
/// downscaled to at most @p thumbnail_px pixels wide (default 360) and embedded as PNG data URIs.
std::string render_report_html(const stats::StatsResult& result, const std::string& dir, int thumbnail_px = 360);

/// @brief Writes DIR/report.html atomically (OutputError when it cannot).
void write_report_html(const std::string& dir, const stats::StatsResult& result);

}  // namespace spinescope
