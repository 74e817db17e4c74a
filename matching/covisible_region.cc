#include "matching/covisible_region.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "scale/gt_scale.h"
#include "util/logging.h"

namespace scalesfm {

std::vector<bool> InsideHull(const std::vector<Eigen::Vector2d>& hull_points,
                             const Keypoints& keypoints, double margin) {
  std::vector<bool> inside(keypoints.size(), false);
  if (hull_points.size() < 3) return inside;
  std::vector<cv::Point2f> points;
  points.reserve(hull_points.size());
  for (const Eigen::Vector2d& p : hull_points) points.emplace_back(float(p.x()), float(p.y()));
  std::vector<cv::Point2f> hull;
  cv::convexHull(points, hull);
  if (hull.size() < 3) return inside;  // collinear points: no area
  for (size_t k = 0; k < keypoints.size(); ++k) {
    // Signed distance: positive inside the hull, negative outside.
    const double d = cv::pointPolygonTest(hull, cv::Point2f(keypoints[k].x, keypoints[k].y), true);
    inside[k] = d >= -margin;
  }
  return inside;
}

GtCovisibleRegions::GtCovisibleRegions(const std::string& gt_path, const Database* db,
                                       const std::vector<Image>& images)
    : db_(db),
      gt_(Reconstruction::Read(gt_path)),
      gt_images_(GtImagesByDatabaseId(gt_, images, "--ScaleMatching.gt_region: " + gt_path)) {}

const Keypoints& GtCovisibleRegions::KeypointsOf(image_t id) {
  auto it = keypoints_.find(id);
  if (it != keypoints_.end()) return it->second;
  // Pairs come in blocks of a few images; a small cache keeps each list read once per block.
  if (keypoints_.size() >= 64) keypoints_.clear();
  return keypoints_[id] = db_->ReadKeypoints(id);
}

std::pair<std::vector<bool>, std::vector<bool>> GtCovisibleRegions::Masks(image_t a, image_t b) {
  const ModelImage& ma = *gt_images_.at(a);
  const ModelImage& mb = *gt_images_.at(b);
  const Camera& ca = gt_.cameras.at(ma.camera_id);
  const Camera& cb = gt_.cameras.at(mb.camera_id);
  std::vector<Eigen::Vector2d> in_a, in_b;
  CommonProjections(gt_, ma, mb, &in_a, &in_b);
  std::vector<bool> mask_a =
      InsideHull(in_a, KeypointsOf(a), kCovisibleRegionMargin * std::max(ca.width, ca.height));
  std::vector<bool> mask_b =
      InsideHull(in_b, KeypointsOf(b), kCovisibleRegionMargin * std::max(cb.width, cb.height));
  return {std::move(mask_a), std::move(mask_b)};
}

}  // namespace scalesfm
