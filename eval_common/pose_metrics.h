// Pose accuracy of an estimated model against GT, by default with the definitions of the IMC 2020
// benchmark code (Jin et al., IJCV 2020; github.com/ubc-vision/image-matching-benchmark), used by
// evaluate_model, eval_eth and eval_imc:
//  - Per image pair, the error is max(rotation error, translation-direction error) of the
//    relative pose (IMC's evaluate_R_t). The translation angle is folded, arccos(|cos|) in
//    [0, 90] deg, so a reversed baseline scores ~0 deg; a zero-length relative translation
//    scores 90 deg, a fail (IMC's t / (|t| + eps) makes the cosine 0).
//  - An image missing from the estimate fails every pair it is in (compute_stereo_metrics_from_
//    colmap leaves err_q, err_t at inf).
//  - mAA@k: mean over thresholds 1..k deg of the fraction of pairs within the threshold; as
//    np.histogram(errors, bins=arange(11)) cumulated (compute_qt_auc, compute_qt_auc_colmap),
//    "within" is error < t for t = 1..9 and error <= 10 at t = 10 (the last bin is closed).
//  - Of several models in a mapper output, the one with the most images whose poses are all
//    finite (get_best_colmap_index, is_colmap_img_valid).
// PoseMetricOptions restores the project's earlier, stricter choices: a signed translation angle
// in [0, 180] deg (zero-length translation then scores 180 deg) and error < t at every threshold.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "colmap_ext/reconstruction.h"

namespace scalesfm {

// IMC's histogram bins are arange(11): thresholds 1..10 deg, the last one closed.
constexpr int kImcMaxThresholdDeg = 10;

struct PoseMetricOptions {
  // --translation_angle: "folded" (IMC's evaluate_R_t: arccos(|cos|), [0, 90] deg) or "signed"
  // (arccos(cos), [0, 180] deg: a reversed baseline scores ~180 deg).
  std::string translation_angle = "folded";
  // --thresholds: "imc" (error < t for t < 10, error <= 10 at t = 10, as np.histogram) or
  // "strict" (error < t at every threshold).
  std::string thresholds = "imc";

  void Check() const;
  bool Folded() const { return translation_angle == "folded"; }
};

struct PairPoseError {
  std::string name1, name2;
  double rotation_deg = 0;
  double translation_deg = 0;
  double error_deg = 0;  // max of the two; +inf when an image is unregistered
};

// Relative pose of image b w.r.t. image a (x_b = R x_a + t). A baseline below rounding (1e-9 of
// the cameras' translations: identical or co-centred poses leave ~1e-16) is set to exactly zero.
void RelativePose(const ModelImage& a, const ModelImage& b, Eigen::Matrix3d* R, Eigen::Vector3d* t);

// Rotation angle of R_gt^T R_est and the angle between t_gt and t_est (folded or signed); a zero
// t_gt or t_est scores the worst angle of the convention (90 deg folded, 180 deg signed).
PairPoseError RelativePoseError(const Eigen::Matrix3d& R_gt, const Eigen::Vector3d& t_gt,
                                const Eigen::Matrix3d& R_est, const Eigen::Vector3d& t_est,
                                const PoseMetricOptions& options);

// Every pair of GT images (by name), in GT image-id order.
std::vector<PairPoseError> ComputeRelativePoseErrors(const Reconstruction& gt,
                                                     const Reconstruction& estimate,
                                                     const PoseMetricOptions& options = {});

// Whether an error counts at a threshold (see PoseMetricOptions::thresholds).
bool WithinThreshold(double error_deg, int threshold_deg, const PoseMetricOptions& options);

// Mean over thresholds 1, 2, ..., max_threshold_deg degrees of the fraction of errors within it.
double MeanAverageAccuracy(const std::vector<PairPoseError>& errors, int max_threshold_deg,
                           const PoseMetricOptions& options = {});

// Whether every image of `model` has a finite pose (IMC's is_colmap_img_valid).
bool HasFinitePoses(const Reconstruction& model);

// The model of a mapper output folder (sparse/0, sparse/1, ...) that IMC's get_best_colmap_index
// picks: the most images, models with a non-finite pose skipped; a tie goes to the first in
// path order. Empty when there is none.
std::string BestModelPath(const std::string& sparse_path);

struct PoseAccuracy {
  size_t num_gt_images = 0;
  size_t num_registered = 0;  // GT images present in the estimate
  size_t num_pairs = 0;
  double maa5 = 0, maa10 = 0;
  double median_rotation_deg = 0;     // over pairs of registered images
  double median_translation_deg = 0;  // idem
  // Camera centres after a robust Sim(3) alignment (Umeyama inside RANSAC), in GT units.
  double median_center_error = 0;
  size_t num_center_inliers = 0;
  std::vector<PairPoseError> errors;  // per GT pair, for curves
  PoseMetricOptions options;          // the definitions used
};

PoseAccuracy EvaluatePoses(const Reconstruction& gt, const Reconstruction& estimate,
                           const PoseMetricOptions& options = {});

void PrintPoseAccuracy(const PoseAccuracy& accuracy);

}  // namespace scalesfm
