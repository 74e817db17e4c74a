// Pose accuracy of an estimated model against GT, as in the IMC protocol (Jin et al., IJCV 2020)
// and DESIGN.md: per image pair the error is max(relative rotation error, angle between the
// relative translation directions); an unregistered image fails every pair it is in.
#pragma once

#include <string>
#include <vector>

#include "colmap_ext/reconstruction.h"

namespace scalesfm {

struct PairPoseError {
  std::string name1, name2;
  double rotation_deg = 0;
  double translation_deg = 0;
  double error_deg = 0;  // max of the two; +inf when an image is unregistered
};

// Every pair of GT images (by name), in GT image-id order.
std::vector<PairPoseError> ComputeRelativePoseErrors(const Reconstruction& gt,
                                                     const Reconstruction& estimate);

// Mean over thresholds 1, 2, ..., max_threshold_deg degrees of the fraction of errors below it.
double MeanAverageAccuracy(const std::vector<PairPoseError>& errors, int max_threshold_deg);

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
};

PoseAccuracy EvaluatePoses(const Reconstruction& gt, const Reconstruction& estimate);

void PrintPoseAccuracy(const PoseAccuracy& accuracy);

}  // namespace scalesfm
