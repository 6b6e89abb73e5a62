// overlay.png: what a researcher looks at to trust the numbers.
#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "spinescope/errors.hpp"
#include "spinescope/io.hpp"
#include "stages/report/report_stage.hpp"

namespace spinescope::stages::report {

namespace {

cv::Scalar type_colour(SpineType t) {  // BGR, distinguishable for common colour-vision deficiencies
  switch (t) {
    case SpineType::kStubby: return {255, 160, 40};      // blue
    case SpineType::kMushroom: return {200, 60, 230};    // magenta
    case SpineType::kThin: return {60, 220, 60};         // green
    case SpineType::kFilopodium: return {0, 170, 255};   // orange
  }
  return {255, 255, 255};
}

double nice_bar_um(double target_um) {
  const double steps[] = {0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500};
  double best = steps[0];
  for (double s : steps)
    if (s <= target_um) best = s;
  return best;
}

}  // namespace

void write_overlay_png(const std::string& path, const Volume<float>& mip, const DendriteGraph& graph,
                       const std::vector<Spine>& spines) {
  if (mip.empty()) throw OutputError(path, "no projection to draw on");
  const int w = static_cast<int>(mip.nx()), h = static_cast<int>(mip.ny());
  // Display range from robust percentiles of the projection.
  std::vector<float> sorted(mip.data(), mip.data() + mip.size());
  const std::size_t lo_i = sorted.size() / 200, hi_i = sorted.size() - 1 - sorted.size() / 500;
  std::nth_element(sorted.begin(), sorted.begin() + lo_i, sorted.end());
  const float lo = sorted[lo_i];
  std::nth_element(sorted.begin(), sorted.begin() + hi_i, sorted.end());
  const float hi = std::max(sorted[hi_i], lo + 1e-6f);
  cv::Mat grey(h, w, CV_8UC1);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      grey.at<std::uint8_t>(y, x) =
          cv::saturate_cast<std::uint8_t>(255.0f * (mip(x, y, 0) - lo) / (hi - lo));
  // Small stacks are enlarged so text and markers stay legible; large ones are drawn at 1:1.
  const int scale = std::max(1, std::min(4, 1024 / std::max(w, h)));
  cv::Mat img;
  cv::cvtColor(grey, img, cv::COLOR_GRAY2BGR);
  if (scale > 1) cv::resize(img, img, cv::Size(w * scale, h * scale), 0, 0, cv::INTER_NEAREST);
  const double px_x = scale / mip.spacing().x_um, px_y = scale / mip.spacing().y_um;
  auto to_px = [&](double x_um, double y_um) {
    return cv::Point(static_cast<int>(std::lround(x_um * px_x + 0.5 * (scale - 1))),
                     static_cast<int>(std::lround(y_um * px_y + 0.5 * (scale - 1))));
  };
  const int thickness = std::max(1, scale / 2);
  for (const auto& b : graph.branches) {
    std::vector<cv::Point> pts;
    for (const auto& n : b.nodes) pts.push_back(to_px(n.x_um, n.y_um));
    if (pts.size() >= 2) cv::polylines(img, pts, false, cv::Scalar(0, 255, 255), thickness, cv::LINE_AA);
  }
  // Branch points: a white ring (on an unbranched segment, dendrites that touched: worth a look).
  const std::vector<PointUm> forks = graph.branch_points();
  const int ring_px = std::max(6, static_cast<int>(std::lround(1.5 * px_x)));
  for (const PointUm& p : forks)
    cv::circle(img, to_px(p.x_um, p.y_um), ring_px, cv::Scalar(255, 255, 255), thickness, cv::LINE_AA);
  std::map<SpineType, int> counts;
  for (const auto& s : spines) {
    ++counts[s.type];
    const cv::Scalar c = type_colour(s.type);
    cv::line(img, to_px(s.base.x_um, s.base.y_um), to_px(s.head.x_um, s.head.y_um), c, thickness, cv::LINE_AA);
    const int r = std::max(2, static_cast<int>(std::lround(0.5 * s.head_diameter_um * px_x)));
    cv::circle(img, to_px(s.head.x_um, s.head.y_um), r, c, thickness, cv::LINE_AA);
  }
  // Legend and scale bar go in a strip under the picture, so they never hide a spine.
  const double font = std::max(0.45, 0.45 * img.cols / 700.0);
  const int line_h = static_cast<int>(std::lround(26 * font / 0.45));
  cv::Mat canvas(img.rows + line_h + 16, img.cols, CV_8UC3, cv::Scalar(0, 0, 0));
  img.copyTo(canvas(cv::Rect(0, 0, img.cols, img.rows)));
  const int text_y = img.rows + line_h;
  int x = 8;
  auto legend_item = [&](const std::string& text, const cv::Scalar& colour) {
    int baseline = 0;
    const cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font, 1, &baseline);
    cv::putText(canvas, text, cv::Point(x, text_y), cv::FONT_HERSHEY_SIMPLEX, font, colour, 1, cv::LINE_AA);
    x += size.width + static_cast<int>(18 * font / 0.45);
  };
  legend_item("trace", cv::Scalar(0, 255, 255));
  if (!forks.empty()) legend_item("branch point " + std::to_string(forks.size()), cv::Scalar(255, 255, 255));
  for (SpineType t : {SpineType::kStubby, SpineType::kMushroom, SpineType::kThin, SpineType::kFilopodium})
    legend_item(std::string(to_string(t)) + " " + std::to_string(counts[t]), type_colour(t));
  const double bar_um = nice_bar_um(0.15 * w * mip.spacing().x_um);
  const int bar_px = static_cast<int>(std::lround(bar_um * px_x));
  const std::string label = format_number(bar_um, 3) + " um";
  int baseline = 0;
  const cv::Size label_size = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, font, 1, &baseline);
  const int x1 = canvas.cols - 10, x0 = x1 - bar_px;
  if (x0 - label_size.width - 10 > x) {  // the bar fits beside the legend
    cv::rectangle(canvas, cv::Rect(x0, text_y - line_h / 3, bar_px, std::max(3, scale * 2)),
                  cv::Scalar(255, 255, 255), cv::FILLED);
    cv::putText(canvas, label, cv::Point(x0 - label_size.width - 8, text_y), cv::FONT_HERSHEY_SIMPLEX, font,
                cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  }
  img = canvas;
  std::vector<std::uint8_t> png;
  if (!cv::imencode(".png", img, png)) throw OutputError(path, "PNG encoding failed");
  write_file_atomic(path, std::string(png.begin(), png.end()));
}

}  // namespace spinescope::stages::report
