// sift_vote: the non-learned baseline. SIFT mutual matches with a ratio test vote with
// log2(scale_B / scale_A); the estimate is the robust mode of the votes.
#pragma once

#include <vector>

#include "colmap_ext/types.h"
#include "scale/scale_estimator.h"

namespace scalesfm {

// Mode of `log2_ratios` by a Gaussian-kernel density on a fine grid, refined as the mean of the
// votes within +-0.25 of it. Returns 0 for no votes.
double RobustLog2Mode(const std::vector<double>& log2_ratios);

// The vote itself: every match votes log2(scale2 / scale1) + log2_correction (keypoint scales in
// COLMAP's affine convention); s = 2^mode. Used on fresh SIFT matches by SiftVoteEstimator and on
// the database's native-level matches by the scale-aware matcher.
ScaleEstimate ScaleFromMatchedKeypoints(const Keypoints& keypoints1, const Keypoints& keypoints2,
                                        const Matches& matches, double log2_correction = 0.0);

class SiftVoteEstimator : public ScaleEstimator {
 public:
  // One image's SIFT features on the image downscaled to max_image_size; a pair costs only the
  // matching and the vote, so callers that see an image in many pairs compute these once.
  struct ImageFeatures {
    Keypoints keypoints;
    DescriptorsU8 descriptors;
    double log2_downscale = 0;  // log2(original size / extraction size)
  };

  explicit SiftVoteEstimator(const ScaleEstimatorOptions& options);
  ScaleEstimate Estimate(const cv::Mat& image1, const cv::Mat& image2) override;
  ImageFeatures ComputeImageFeatures(const cv::Mat& image) const;
  ScaleEstimate EstimateFromFeatures(const ImageFeatures& f1, const ImageFeatures& f2) const;

 private:
  ScaleEstimatorOptions options_;
};

}  // namespace scalesfm
