// Tracks for matchers that create keypoints (S2DNet finds new pixels in the target image): a
// found point joins the nearest keypoint already in the image's list within `radius` pixels,
// or is appended to the list. Appended keypoints are snapped to like any other, so the same
// physical point found from several partners becomes one keypoint and COLMAP builds one track.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "colmap_ext/types.h"

namespace scalesfm {

class KeypointSnapper {
 public:
  // `keypoints` in COLMAP coordinates; radius in pixels (> 0).
  KeypointSnapper(Keypoints keypoints, double radius);

  // Index of the nearest keypoint within the radius of `keypoint`'s position, or of `keypoint`
  // itself, appended.
  point2D_t SnapOrAppend(const Keypoint& keypoint);

  const Keypoints& keypoints() const { return keypoints_; }
  size_t num_appended() const { return keypoints_.size() - num_initial_; }

 private:
  int64_t CellKey(int64_t cx, int64_t cy) const { return (cx << 32) ^ (cy & 0xffffffff); }
  void Insert(point2D_t index);

  Keypoints keypoints_;
  size_t num_initial_;
  double radius_;
  std::unordered_map<int64_t, std::vector<point2D_t>> grid_;  // cells of size radius
};

}  // namespace scalesfm
