#include "feature/multilevel_extraction.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <opencv2/imgproc.hpp>

#include "util/logging.h"

namespace scalesfm {

cv::Mat ResizeToLevel(const cv::Mat& gray, double factor) {
  const int w = std::max(1, static_cast<int>(std::lround(gray.cols * factor)));
  const int h = std::max(1, static_cast<int>(std::lround(gray.rows * factor)));
  if (w == gray.cols && h == gray.rows) return gray;
  cv::Mat out;
  cv::resize(gray, out, cv::Size(w, h), 0, 0, factor < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  return out;
}

MultiLevelFeatures ExtractLevels(FeatureExtractor* extractor, const cv::Mat& gray,
                                 const std::vector<double>& factors,
                                 const KeypointMergeOptions& merge_options) {
  // Visit the native level (factor nearest 1) first, then outwards, so merged keypoints take the
  // geometry and descriptor of the least resampled level.
  std::vector<size_t> order(factors.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::abs(std::log(factors[a])) < std::abs(std::log(factors[b]));
  });

  std::vector<LevelKeypoints> level_keypoints(order.size());
  std::vector<DescriptorsU8> level_descriptors(order.size());
  DescriptorsF32 float_descriptors;
  for (size_t o = 0; o < order.size(); ++o) {
    const cv::Mat level_image = ResizeToLevel(gray, factors[order[o]]);
    FeatureSet features = extractor->Extract(level_image);
    // COLMAP's convention puts the origin at the image corner, so resizing is a pure scaling.
    const float sx = float(gray.cols) / level_image.cols, sy = float(gray.rows) / level_image.rows;
    for (Keypoint& kp : features.keypoints) {
      kp.x *= sx;
      kp.y *= sy;
      kp.a11 *= sx;
      kp.a12 *= sx;
      kp.a21 *= sy;
      kp.a22 *= sy;
    }
    level_keypoints[o].factor = factors[order[o]];
    level_keypoints[o].keypoints = std::move(features.keypoints);
    level_descriptors[o] = std::move(features.descriptors);
    if (features.float_descriptors.rows() > 0) {
      if (order.size() > 1) throw Error("float descriptors are single-level only");
      float_descriptors = std::move(features.float_descriptors);
    }
  }

  MultiLevelFeatures out;
  if (order.size() == 1) {
    out.keypoints = std::move(level_keypoints[0].keypoints);
    out.descriptors = std::move(level_descriptors[0]);
    out.float_descriptors = std::move(float_descriptors);
    out.level_sizes = {out.keypoints.size()};
    return out;
  }
  MergedKeypoints merged = MergeLevelKeypoints(level_keypoints, merge_options);
  out.keypoints = std::move(merged.keypoints);
  Eigen::Index cols = 0;
  for (const DescriptorsU8& d : level_descriptors) cols = std::max(cols, d.cols());
  out.descriptors.resize(static_cast<Eigen::Index>(out.keypoints.size()), cols);
  for (DescriptorsU8& d : level_descriptors) {
    if (d.rows() == 0) d.resize(0, cols);
  }
  for (size_t k = 0; k < merged.source.size(); ++k) {
    const auto& [o, i] = merged.source[k];
    out.descriptors.row(static_cast<Eigen::Index>(k)) = level_descriptors[o].row(i);
  }
  out.levels.resize(order.size());
  out.level_sizes.resize(order.size());
  for (size_t o = 0; o < order.size(); ++o) {
    FeatureLevel& level = out.levels[order[o]];
    level.level = static_cast<int>(order[o]);
    level.factor = factors[order[o]];
    level.descriptors = std::move(level_descriptors[o]);
    level.keypoint_index = std::move(merged.index[o]);
    out.level_sizes[order[o]] = level.keypoint_index.size();
  }
  return out;
}

}  // namespace scalesfm
