// `scalesfm eval_scale`: scale-estimation accuracy on pairs with a GT scale.
//   - Homography pairs (pairs.txt: name, s(A->B), sizes; A.jpg, B.jpg per folder).
//   - Posed scenes (images/ + gt/): GT scale by ScaleNet's recipe (eqs. 4-5): the log-mean ratio
//     of distances between the projections of covisible 3D points, R = 200 random point pairs.
//     The 3D points come from triangulating SIFT matches with the GT poses
//     (`colmap point_triangulator`). A "<scene>-zoom" folder uses the points of "<scene>" when
//     it exists (same world frame).
// Error: E = mean |log2 s - log2 s_hat| (Scale-Net eq. 13), overall and binned by |log2 s|.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/reconstruction.h"
#include "eval_common/homography_pairs.h"
#include "scale/gt_scale.h"

namespace scalesfm {

// Projects `points` with the GT camera of `image`; keeps those in front and inside the image.
// Returns, per point, whether it is visible and its projection.
std::vector<std::pair<bool, Eigen::Vector2d>> ProjectPoints(
    const Reconstruction& model, const ModelImage& image,
    const std::vector<Eigen::Vector3d>& points);

struct ScaleEvaluationOptions {
  std::string homography_path;
  std::vector<std::string> scene_paths;
  std::vector<std::string> estimators = {"dscalenet", "scalenet", "sift_vote"};
  std::string weights;  // ScaleNet weights (empty: default)
  std::string output_path;
  std::string device = "auto";
  size_t min_covisible_points = 30;
  size_t max_pairs_per_scene = 0;  // 0: all pairs
  bool zoom_pairs_only = false;    // posed scenes: only pairs with |log2 s| >= 1
};

struct ScaleEstimateRow {
  ScalePairGt pair;
  std::string estimator;
  double estimate = 1;
  int bin = 6;
  double seconds = 0;
};

std::vector<ScaleEstimateRow> RunScaleEvaluation(const ScaleEvaluationOptions& options,
                                                 const ColmapRunner& colmap);

// Markdown: E overall and per |log2 s| bin, per estimator and dataset group.
std::string FormatScaleSummary(const std::vector<ScaleEstimateRow>& rows);

}  // namespace scalesfm
