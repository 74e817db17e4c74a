#include "matching/keypoint_snapper.h"

#include <cmath>

#include "util/logging.h"

namespace scalesfm {

KeypointSnapper::KeypointSnapper(Keypoints keypoints, double radius)
    : keypoints_(std::move(keypoints)), num_initial_(keypoints_.size()), radius_(radius) {
  if (!(radius > 0)) throw Error("keypoint snapping radius must be > 0");
  for (size_t i = 0; i < keypoints_.size(); ++i) Insert(static_cast<point2D_t>(i));
}

void KeypointSnapper::Insert(point2D_t index) {
  const Keypoint& k = keypoints_[index];
  grid_[CellKey(static_cast<int64_t>(std::floor(k.x / radius_)),
                static_cast<int64_t>(std::floor(k.y / radius_)))]
      .push_back(index);
}

point2D_t KeypointSnapper::SnapOrAppend(const Keypoint& keypoint) {
  const int64_t cx = static_cast<int64_t>(std::floor(keypoint.x / radius_));
  const int64_t cy = static_cast<int64_t>(std::floor(keypoint.y / radius_));
  double best = radius_ * radius_;
  int64_t found = -1;
  for (int64_t dy = -1; dy <= 1; ++dy) {
    for (int64_t dx = -1; dx <= 1; ++dx) {
      auto it = grid_.find(CellKey(cx + dx, cy + dy));
      if (it == grid_.end()) continue;
      for (point2D_t i : it->second) {
        const double ex = keypoints_[i].x - keypoint.x, ey = keypoints_[i].y - keypoint.y;
        const double d2 = ex * ex + ey * ey;
        // Ties go to the lower index, i.e. the older keypoint.
        if (d2 < best || (d2 == best && (found < 0 || i < found))) {
          found = i;
          best = d2;
        }
      }
    }
  }
  if (found >= 0) return static_cast<point2D_t>(found);
  keypoints_.push_back(keypoint);
  const point2D_t index = static_cast<point2D_t>(keypoints_.size() - 1);
  Insert(index);
  return index;
}

}  // namespace scalesfm
