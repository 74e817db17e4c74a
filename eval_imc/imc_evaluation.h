// The Image Matching Challenge 2020 protocol (Jin et al., IJCV 2020) on scenes with GT poses.
//  - Multiview: random bags of 5, 10 and 25 images (fixed seed) are reconstructed from the
//    method's matches of the whole scene; per bag, mAA = mean accuracy over thresholds
//    1..10 deg of max(rotation error, translation-direction error) over the bag's pairs.
//  - Stereo: per image pair, an essential matrix from the method's raw matches (OpenCV
//    MAGSAC++ with the GT intrinsics), then the same error and mAA over all pairs.
#pragma once

#include <string>
#include <vector>

#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/reconstruction.h"
#include "eval_common/pose_metrics.h"

namespace scalesfm {

struct ImcEvaluationOptions {
  std::vector<std::string> dataset_paths;  // each with images/ and gt/
  std::string output_path;
  std::vector<std::string> methods = {"scalesfm", "colmap-default"};
  int max_num_features = 8192;
  int num_threads = -1;
  std::vector<int> bag_sizes = {5, 10, 25};
  // Bags per size; empty: the IMC 2020 counts (100, 50, 25) scaled by num_images / 100, at
  // least 1, at most the number of distinct bags. Sizes larger than the scene are skipped.
  std::vector<int> bag_counts;
  unsigned seed = 0;
  bool stereo = true;
  double stereo_threshold_px = 1.0;  // MAGSAC threshold in pixels (IMC's stereo default range)
  std::string device = "auto";       // --device: scalesfm's stages (auto | cpu | cuda)
  // --intrinsics (eval_eth/eth_evaluation.h) of the multiview task: free by default, as IMC
  // 2020's multiview task lets COLMAP find and refine them. Stereo uses the GT intrinsics, as
  // IMC's stereo task does.
  std::string intrinsics = "free";

  void Check() const;
};

struct ImcResult {
  std::string dataset, method, task;  // task: "stereo" or "multiview-<k>"
  size_t num_items = 0;               // pairs (stereo) or bags (multiview)
  double maa10 = 0;                   // IMC mAA (thresholds 1..10 deg)
  double maa5 = 0;
  double registered_fraction = 0;  // multiview: mean fraction of bag images registered
  double seconds = 0;
};

// Deterministic bags: `count` distinct sorted subsets of size `size` of [0, n), fixed seed.
std::vector<std::vector<int>> SampleBags(int n, int size, int count, unsigned seed);

// Default bag count for a bag size on an n-image scene (see ImcEvaluationOptions::bag_counts).
int DefaultBagCount(int n, int bag_size);

// Stereo pose error of one pair: the relative pose from an essential matrix on `points1/2`
// (pixels, COLMAP convention) with intrinsics K1, K2, against the GT relative pose. +inf with
// fewer than 5 matches or no model.
PairPoseError StereoPoseError(const std::vector<Eigen::Vector2d>& points1,
                              const std::vector<Eigen::Vector2d>& points2, const Camera& camera1,
                              const Camera& camera2, const ModelImage& gt1, const ModelImage& gt2,
                              double threshold_px);

// Runs every method on every dataset; writes imc_results.{json,csv,md} to output_path.
std::vector<ImcResult> RunImcEvaluation(const ImcEvaluationOptions& options,
                                        const ColmapRunner& colmap);

std::string FormatImcMarkdownTable(const std::vector<ImcResult>& results);

}  // namespace scalesfm
