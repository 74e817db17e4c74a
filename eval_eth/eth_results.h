// One eval_eth run's result row: what eth_evaluation.h measures and html_report.h draws.
#pragma once

#include <string>

#include "colmap_ext/reconstruction.h"
#include "eval_common/pose_metrics.h"

namespace scalesfm {

struct EthResult {
  std::string dataset;
  std::string method;
  int repetition = 0;
  size_t num_images = 0;
  size_t num_models = 0;
  ReconstructionStats stats;
  bool has_gt = false;
  PoseAccuracy pose;
  double extraction_seconds = 0, matching_seconds = 0, mapping_seconds = 0;
  std::string workspace, image_path, gt_path;  // for reports (thumbnails, GT scale changes)
  double TotalSeconds() const { return extraction_seconds + matching_seconds + mapping_seconds; }
};

}  // namespace scalesfm
