// The GT covisible-region oracle (issue 24, `--ScaleMatching.gt_region 1`): each pair's
// descriptor matching sees only the keypoints that lie where the two images see the same scene,
// by the GT model. With the gt scale oracle it tells how many views the features could register
// at all if the matcher knew both the scale and the overlap (docs/BENCHMARKS.md, "oracle").
//
// A pair's region in image A is the convex hull of the projections into A of the GT 3D points
// whose tracks hold both A and B, widened by 5% of A's longest side (GT tracks are sparser than
// keypoints, so the hull alone would cut the overlap's border off). Pairs that share fewer than 3
// GT points have no region: nothing of them is matched.
#pragma once

#include <Eigen/Core>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "colmap_ext/database.h"
#include "colmap_ext/reconstruction.h"

namespace scalesfm {

// Share of the image's longest side by which a region's hull is widened.
constexpr double kCovisibleRegionMargin = 0.05;

// For each keypoint: inside the convex hull of `hull_points` or within `margin` pixels of it.
// All false when there are fewer than 3 hull points.
std::vector<bool> InsideHull(const std::vector<Eigen::Vector2d>& hull_points,
                             const Keypoints& keypoints, double margin);

class GtCovisibleRegions {
 public:
  // Every image of `images` must be in the GT model at `gt_path` (by name), which must have
  // 3D points with tracks. Throws Error otherwise.
  GtCovisibleRegions(const std::string& gt_path, const Database* db,
                     const std::vector<Image>& images);

  // Masks over the keypoint lists of `a` and of `b`: true inside the pair's region.
  std::pair<std::vector<bool>, std::vector<bool>> Masks(image_t a, image_t b);

 private:
  const Keypoints& KeypointsOf(image_t id);

  const Database* db_;
  Reconstruction gt_;
  std::unordered_map<image_t, const ModelImage*> gt_images_;
  std::map<image_t, Keypoints> keypoints_;  // the last few images' lists
};

}  // namespace scalesfm
