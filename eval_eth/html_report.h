// One self-contained HTML page for an eval_eth run: the results table, accuracy-vs-threshold and
// accuracy-vs-scale-change curves as inline SVG, and thumbnails of matched pairs with their
// verified inlier matches drawn (inline PNG). Nothing is fetched from outside the file.
#pragma once

#include <string>
#include <vector>

#include "colmap_ext/reconstruction.h"
#include "eval_eth/eth_results.h"

namespace scalesfm {

struct CurveSeries {
  std::string label;
  std::vector<double> x, y;
};

// An SVG line chart (y in [0, 1]) with axes, ticks and a legend.
std::string SvgLineChart(const std::string& title, const std::string& x_label,
                         const std::string& y_label, const std::vector<CurveSeries>& series);

// GT scale change of every pair of GT images, |log2 s| with s = (f_B / f_A) * (d_A / d_B), where
// d is the distance from the camera centre to the point nearest all optical axes (the scene
// centre the cameras look at) and f the focal length. Keyed by "name1|name2".
std::vector<std::pair<std::string, double>> GtScaleChanges(const Reconstruction& gt);

void WriteHtmlReport(const std::string& path, const std::vector<EthResult>& results,
                     int thumbnails_per_run = 2);

}  // namespace scalesfm
