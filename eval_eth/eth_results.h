// One eval_eth run's result row: what eth_evaluation.h measures and html_report.h draws.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "colmap_ext/reconstruction.h"
#include "eval_common/pose_metrics.h"

namespace scalesfm {

struct EthResult {
  std::string dataset;
  std::string method;
  int repetition = 0;
  std::string intrinsics = "gt";       // eth_evaluation.h's --intrinsics mode of the run
  std::string mapper = "incremental";  // --Mapper.type of the run
  size_t num_images = 0;
  size_t num_models = 0;
  ReconstructionStats stats;
  bool has_gt = false;
  PoseAccuracy pose;
  // View type ("wide", "zoom2", ...: make_zoom_scene's and the -zoom scenes' naming) ->
  // (registered in the evaluated model, images). Empty for datasets named otherwise.
  std::map<std::string, std::pair<size_t, size_t>> registered_by_view;
  // View type -> where its unregistered images were lost -> count (registration_breakdown.h;
  // datasets with gt/ only).
  std::map<std::string, std::map<std::string, size_t>> lost_by_view;
  double extraction_seconds = 0, matching_seconds = 0, mapping_seconds = 0;
  std::string workspace, image_path, gt_path;  // for reports (thumbnails, GT scale changes)
  double TotalSeconds() const { return extraction_seconds + matching_seconds + mapping_seconds; }
};

// "wide" for "0004_wide.jpg", "zoom8" for "0005_zoom8.jpg", "" for names without such a suffix.
std::string ViewTypeOfImage(const std::string& name);

}  // namespace scalesfm
