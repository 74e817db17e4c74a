// Merges the keypoints of several extraction levels into one keypoint list per image.
//
// The same image structure is often detected at two neighbouring levels. If both detections
// became database keypoints, COLMAP would see two different 2D points and split the 3D track
// between them. A level keypoint therefore joins an earlier merged keypoint when it lies within
// `radius` pixels of it (measured at the coarser of the two levels, in that level's pixels) and
// their scales differ by at most `max_log2_scale_diff` octaves. Each merged keypoint takes at
// most one keypoint per level, so matches between two levels map to distinct merged keypoints.
#pragma once

#include <vector>

#include "colmap_ext/types.h"

namespace scalesfm {

struct KeypointMergeOptions {
  double radius = 1.5;  // pixels of the coarser level
  double max_log2_scale_diff = 0.5;
  void Check() const;
};

struct LevelKeypoints {
  double factor = 1.0;  // level size / original size
  Keypoints keypoints;  // in original-image COLMAP coordinates
};

struct MergedKeypoints {
  Keypoints keypoints;  // the merged list, in original-image coordinates
  // index[l][i]: merged index of keypoint i of levels[l].
  std::vector<std::vector<point2D_t>> index;
  // source[k]: (level, keypoint) that created merged keypoint k (its geometry and descriptor).
  std::vector<std::pair<int, point2D_t>> source;
};

// Levels are visited in the given order; earlier levels win ties and supply the geometry of
// merged keypoints, so pass the native level first.
MergedKeypoints MergeLevelKeypoints(const std::vector<LevelKeypoints>& levels,
                                    const KeypointMergeOptions& options);

}  // namespace scalesfm
