// One image -> features at each scale level -> merged keypoints + per-level descriptors.
#pragma once

#include <vector>

#include "colmap_ext/database.h"
#include "feature/extractor.h"
#include "feature/keypoint_merge.h"

namespace scalesfm {

struct MultiLevelFeatures {
  // The merged list for COLMAP's keypoints/descriptors tables (descriptor of the creating level).
  Keypoints keypoints;
  DescriptorsU8 descriptors;
  DescriptorsF32 float_descriptors;  // learned extractors (single level only)
  // For scalesfm_feature_levels; empty when only one level was extracted.
  std::vector<FeatureLevel> levels;
  std::vector<size_t> level_sizes;  // keypoints found per level (for logs)
};

// The resized image of one level; `factor` is its size relative to `gray`. Area interpolation
// down, bicubic up.
cv::Mat ResizeToLevel(const cv::Mat& gray, double factor);

// Extracts `gray` at each factor (relative to `gray`), maps keypoints back to `gray`'s COLMAP
// coordinates and merges them. Factors come from LevelsForImage (sorted descending).
MultiLevelFeatures ExtractLevels(FeatureExtractor* extractor, const cv::Mat& gray,
                                 const std::vector<double>& factors,
                                 const KeypointMergeOptions& merge_options);

}  // namespace scalesfm
