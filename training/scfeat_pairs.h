// Posed training pairs for SCFeat without MegaDepth: each generic image is a textured plane
// seen by two cameras with known K1, K2, R, t and plane (n, d) (n^T X = d in camera 1). View A
// is the image itself (camera 1); view B is the plane-induced homography
//   H = K2 (R + t n^T / d) K1^-1        (the K'(R - t n^T/d)K^-1 with n -> -n)
// applied to it, with a distractor image behind the plane and photometric jitter. The
// fundamental matrix F = K2^-T [t]x R K1^-1 is then exact, so SCFeat's epipolar losses
// (eqs. 14-18) apply unchanged. Coordinates are OpenCV's (first pixel centre at 0).
#pragma once

#include <Eigen/Core>
#include <opencv2/core.hpp>
#include <random>
#include <string>
#include <vector>

namespace scalesfm {

struct PosedPlanePairOptions {
  int size = 256;                           // both views are size x size, 8-bit grey
  double min_focal = 0.8, max_focal = 1.6;  // focal length of camera 1, in units of `size`
  double max_log2_zoom = 1.0;               // f2 / f1 = 2^u, |u| <= max_log2_zoom
  double max_tilt_deg = 35;                 // plane normal vs camera 1's optical axis
  double max_baseline = 0.35;               // |C2 - C1| / depth of the plane on camera 1's axis
  double max_roll_deg = 30;                 // camera 2's rotation about its optical axis
  double min_overlap = 0.35;                // fraction of B's pixels that see A's image
};

struct PosedPlanePair {
  cv::Mat a, b;  // CV_8U, size x size
  Eigen::Matrix3d K1, K2, R, H, F;
  Eigen::Vector3d t, n;
  double d = 1;
  double overlap = 0;
};

// Fundamental matrix of two calibrated views with X2 = R X1 + t: K2^-T [t]x R K1^-1.
Eigen::Matrix3d FundamentalFromPose(const Eigen::Matrix3d& K1, const Eigen::Matrix3d& K2,
                                    const Eigen::Matrix3d& R, const Eigen::Vector3d& t);
// Homography A -> B induced by the plane n^T X1 = d: K2 (R + t n^T / d) K1^-1.
Eigen::Matrix3d PlaneHomography(const Eigen::Matrix3d& K1, const Eigen::Matrix3d& K2,
                                const Eigen::Matrix3d& R, const Eigen::Vector3d& t,
                                const Eigen::Vector3d& n, double d);

class PosedPlanePairGenerator {
 public:
  // Loads every image (grey) up front; unreadable files are skipped with a warning. Throws
  // Error when none is left.
  PosedPlanePairGenerator(const std::vector<std::string>& image_paths,
                          const PosedPlanePairOptions& options);

  // Deterministic for a given rng state.
  PosedPlanePair Sample(std::mt19937* rng) const;
  size_t num_images() const { return images_.size(); }

 private:
  PosedPlanePairOptions options_;
  std::vector<cv::Mat> images_;
};

}  // namespace scalesfm
