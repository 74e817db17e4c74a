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
  // The per-image stage: SIFT features of the image downscaled to max_image_size; a pair costs
  // only the matching and the vote.
  struct ImageFeatures : ImageCode {
    Keypoints keypoints;
    DescriptorsU8 descriptors;
    double log2_downscale = 0;  // log2(original size / extraction size)
  };

  explicit SiftVoteEstimator(const ScaleEstimatorOptions& options);
  std::shared_ptr<const ImageCode> Encode(const cv::Mat& image) override;
  ScaleEstimate Estimate(const ImageCode& a, const ImageCode& b) override;

 private:
  ScaleEstimatorOptions options_;
};

}  // namespace scalesfm
