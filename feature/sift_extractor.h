// SIFT through OpenCV, with COLMAP-compatible output: keypoints in COLMAP's pixel convention and
// RootSIFT-normalised uint8 descriptors, so stock `colmap exhaustive_matcher` works on them.
#pragma once

#include <opencv2/features2d.hpp>

#include "feature/extractor.h"

namespace scalesfm {

class SiftExtractor : public FeatureExtractor {
 public:
  explicit SiftExtractor(const ExtractionOptions& options);
  FeatureSet Extract(const cv::Mat& gray) override;

 private:
  ExtractionOptions options_;
  cv::Ptr<cv::SIFT> sift_;
};

// RootSIFT (L1-normalise, square root) quantised as COLMAP does: round(512 * v), clamped to 255.
DescriptorsU8 RootSiftToUint8(const cv::Mat& float_descriptors);
// Plain SIFT (L2-normalise) quantised the same way.
DescriptorsU8 L2SiftToUint8(const cv::Mat& float_descriptors);

}  // namespace scalesfm
