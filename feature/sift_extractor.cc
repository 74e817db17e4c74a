#include "feature/sift_extractor.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace scalesfm {

SiftExtractor::SiftExtractor(const ExtractionOptions& options)
    : options_(options),
      sift_(cv::SIFT::create(options.max_num_features, 3, options.sift_contrast_threshold,
                             options.sift_edge_threshold, 1.6)) {}

DescriptorsU8 RootSiftToUint8(const cv::Mat& float_descriptors) {
  DescriptorsU8 out(float_descriptors.rows, float_descriptors.cols);
  for (int r = 0; r < float_descriptors.rows; ++r) {
    const float* d = float_descriptors.ptr<float>(r);
    double l1 = 0;
    for (int c = 0; c < float_descriptors.cols; ++c) l1 += std::abs(d[c]);
    if (l1 <= 0) l1 = 1;
    for (int c = 0; c < float_descriptors.cols; ++c) {
      const double v = std::sqrt(std::abs(d[c]) / l1);
      out(r, c) = static_cast<uint8_t>(std::min(255.0, std::round(512.0 * v)));
    }
  }
  return out;
}

DescriptorsU8 L2SiftToUint8(const cv::Mat& float_descriptors) {
  DescriptorsU8 out(float_descriptors.rows, float_descriptors.cols);
  for (int r = 0; r < float_descriptors.rows; ++r) {
    const double l2 = std::max(1e-12, cv::norm(float_descriptors.row(r), cv::NORM_L2));
    const float* d = float_descriptors.ptr<float>(r);
    for (int c = 0; c < float_descriptors.cols; ++c) {
      out(r, c) = static_cast<uint8_t>(std::min(255.0, std::round(512.0 * std::abs(d[c]) / l2)));
    }
  }
  return out;
}

namespace {
// cv::SIFT doubles the image first (INTER_LINEAR, whose pixel u samples source u/2 - 0.25) but
// maps keypoints back with a plain pt * 0.5, so every keypoint is 0.25 px too far right and
// down in OpenCV's own convention. Measured by tests/pixel_convention_test.cc (+0.23 px on a
// centred blob before this correction, -0.02 after).
constexpr float kUpscaleBias = 0.25f;
}  // namespace

FeatureSet SiftExtractor::Extract(const cv::Mat& gray) {
  std::vector<cv::KeyPoint> cv_keypoints;
  cv::Mat descriptors;
  sift_->detectAndCompute(gray, cv::noArray(), cv_keypoints, descriptors);

  // OpenCV may return a few more than nfeatures on response ties; keep the strongest.
  std::vector<int> order(cv_keypoints.size());
  std::iota(order.begin(), order.end(), 0);
  if (static_cast<int>(order.size()) > options_.max_num_features) {
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return cv_keypoints[a].response > cv_keypoints[b].response;
    });
    order.resize(options_.max_num_features);
    std::sort(order.begin(), order.end());
  }

  FeatureSet features;
  features.keypoints.reserve(order.size());
  cv::Mat kept(static_cast<int>(order.size()), descriptors.cols, CV_32F);
  for (size_t i = 0; i < order.size(); ++i) {
    const cv::KeyPoint& kp = cv_keypoints[order[i]];
    // OpenCV's size is the diameter of the region; COLMAP's scale is its radius. OpenCV's angle
    // is in degrees.
    features.keypoints.push_back(Keypoint::FromScaleOrientation(
        OpenCvToColmap(kp.pt.x - kUpscaleBias), OpenCvToColmap(kp.pt.y - kUpscaleBias),
        0.5f * kp.size, kp.angle * static_cast<float>(M_PI / 180.0)));
    descriptors.row(order[i]).copyTo(kept.row(static_cast<int>(i)));
  }
  features.descriptors =
      options_.sift_normalization == "l2" ? L2SiftToUint8(kept) : RootSiftToUint8(kept);
  return features;
}

}  // namespace scalesfm
