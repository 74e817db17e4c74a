// The Image Matching Challenge 2020 protocol (Jin et al., IJCV 2020) on scenes with GT poses. By
// default every definition is the IMC 2020 benchmark code's (github.com/ubc-vision/
// image-matching-benchmark); each option below gives back the project's earlier choice.
//  - Pose error of a pair: max(rotation error, translation-direction error), the translation
//    angle folded into [0, 90] deg, a zero-length translation a fail, thresholds 1..10 deg with
//    the last one closed (evaluate_R_t, compute_qt_auc; eval_common/pose_metrics.h).
//    --translation_angle signed, --thresholds strict: the earlier definitions.
//  - GT co-visibility (covisibility.h): per pair, the GT 3D points both images see (IMC's
//    visibility) and the bounding-box co-visibility ratio; from the GT points, or from a
//    triangulation with the GT poses when the GT model has none.
//  - Multiview: bags of 5, 10 and 25 images made of co-visible triplets (IMC's README: co-
//    visibility made its bags; --bag_sampling uniform: the earlier uniform random subsets). A bag
//    is mapped from the method's matches of the pairs whose visibility is above --vis_th = 100
//    (IMC's compute_image_pairs in run_colmap_for_bag; --vis_th -1: every pair), scored on all
//    its pairs (an image the model misses fails its pairs; compute_pose_error), the model with the
//    most images (get_best_colmap_index). Per bag size: mAA averaged over bags, registered fraction
//    over the bags with a model (IMC's avg_num_cameras; --registered_fraction all_bags: a bag
//    without a model counts 0) and the number of bags without one; a "multiview" row averages
//    the bag sizes (average_multiview_over_bags).
//  - Stereo: per pair, an essential matrix from the method's raw matches (OpenCV MAGSAC++ with
//    the GT intrinsics); a pair fails with fewer than 5 matches or 5 inliers, otherwise
//    recoverPose's pose is scored (eval_essential_matrix; of stacked solutions, the one with the
//    most points in front, as IMC's geom_cv2). --stereo_failure cheirality: the earlier rule
//    (also fails with fewer than 5 points in front, or stacked solutions). Reported over the
//    pairs with co-visibility >= --covisibility_th = 0.1 (IMC's headline qt_auc_10_th_0.1) and
//    over all pairs.
// Ours, not IMC's: the bag counts (IMC's 100 / 50 / 25 scaled to the scene), the bag
// construction beyond "co-visible", the co-visibility source (a triangulation where the GT has
// no points), the RANSAC (MAGSAC++, 1 px), COLMAP's --Mapper.min_model_size 3 in bags.
#pragma once

#include <string>
#include <vector>

#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/reconstruction.h"
#include "eval_common/pose_metrics.h"
#include "eval_imc/covisibility.h"

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
  // --Mapper.type of the multiview task: incremental or global (COLMAP 4's global_mapper).
  std::string mapper_type = "incremental";
  PoseMetricOptions metric;                // --translation_angle, --thresholds
  std::string bag_sampling = "covisible";  // --bag_sampling: covisible | uniform
  double vis_th = 100;  // --vis_th: co-visible = more shared GT points than this (< 0: all pairs)
  double covisibility_th = 0.1;             // --covisibility_th: pairs of the stereo headline
  std::string stereo_failure = "imc";       // --stereo_failure: imc | cheirality
  std::string registered_fraction = "imc";  // --registered_fraction: imc | all_bags

  void Check() const;
};

struct ImcResult {
  // task: "stereo-covis<th>" (pairs with co-visibility >= th), "stereo-all", "multiview-<k>",
  // or "multiview" (the average over bag sizes)
  std::string dataset, method, task;
  size_t num_items = 0;  // pairs (stereo) or bags (multiview)
  double maa10 = 0;      // IMC mAA (thresholds 1..10 deg)
  double maa5 = 0;
  double registered_fraction = 0;     // multiview: see ImcEvaluationOptions::registered_fraction
  size_t num_bags_without_model = 0;  // multiview
  double seconds = 0;
};

// Deterministic bags: `count` distinct sorted subsets of size `size` of [0, n), fixed seed.
std::vector<std::vector<int>> SampleBags(int n, int size, int count, unsigned seed);

// The bags of --bag_sampling: co-visible (SampleCovisibleBags) or uniform (SampleBags).
std::vector<std::vector<int>> SampleImcBags(const CovisibilityMatrix& covisible, int size,
                                            int count, const ImcEvaluationOptions& options);

// Default bag count for a bag size on an n-image scene (see ImcEvaluationOptions::bag_counts).
int DefaultBagCount(int n, int bag_size);

// Stereo pose error of one pair: the relative pose from an essential matrix on `points1/2`
// (pixels, COLMAP convention) with intrinsics K1, K2, against the GT relative pose, with
// options.stereo_threshold_px, options.stereo_failure and options.metric. +inf when the pair
// fails.
PairPoseError StereoPoseError(const std::vector<Eigen::Vector2d>& points1,
                              const std::vector<Eigen::Vector2d>& points2, const Camera& camera1,
                              const Camera& camera2, const ModelImage& gt1, const ModelImage& gt2,
                              const ImcEvaluationOptions& options);

// The registered fraction and bags without a model of one bag size, from each bag's registered
// image count (-1: no model), per options.registered_fraction.
void SummariseRegistration(const std::vector<int>& registered_per_bag, int bag_size,
                           const ImcEvaluationOptions& options, ImcResult* result);

// One "multiview" row: the mean over bag sizes of mAA and registered fraction; bag counts,
// bags without a model and seconds summed. `per_size` holds one dataset/method's rows.
ImcResult AverageOverBagSizes(const std::vector<ImcResult>& per_size);

// Runs every method on every dataset; writes imc_results.{json,csv,md} to output_path.
std::vector<ImcResult> RunImcEvaluation(const ImcEvaluationOptions& options,
                                        const ColmapRunner& colmap);

// One line naming the definitions a run used.
std::string FormatImcDefinitions(const ImcEvaluationOptions& options);

std::string FormatImcMarkdownTable(const std::vector<ImcResult>& results);

}  // namespace scalesfm
