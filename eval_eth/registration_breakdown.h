// Where an image that did not register was lost (issue 24's breakdown), from a method's database,
// its model and the GT: no GT-covisible partner at all, no candidate pair with any covisible
// partner (no matches row), too few raw matches, too few verified inliers, too few inliers that
// agree with the GT epipolar geometry (a wrong pair passed verification), or not registered
// although a pair has enough right inliers (the mapper's doing).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "colmap_ext/reconstruction.h"

namespace scalesfm {

// Two GT images are covisible when at least this many GT points are in both tracks.
constexpr size_t kMinCovisiblePoints = 20;
// An inlier agrees with the GT when both keypoints lie within this angle (point-to-epipolar-line
// distance over the focal length) of the GT epipolar lines: 0.01 rad is about 7 px in a
// 768-pixel wide shot, and 1.3 deg of pseudo-GT error would exceed it. The GT cameras are taken
// as pinhole (exact for make_zoom_scene's scenes; distortion of other GT models is ignored).
constexpr double kMaxEpipolarAngle = 0.01;

struct ImageRegistration {
  std::string name;
  std::string view;  // ViewTypeOfImage (wide, zoom2, ...), "" for other names
  bool registered = false;
  size_t covisible_partners = 0;  // GT images it shares kMinCovisiblePoints points with
  size_t matched_partners = 0;    // covisible partners with a raw-matches row
  size_t best_raw_matches = 0;    // over covisible partners
  size_t best_inliers = 0;     // over covisible partners, verified with a configuration COLMAP maps
                               // (calibrated, uncalibrated, planar, panoramic)
  size_t best_gt_inliers = 0;  // over covisible partners, inliers that agree with the GT
  std::string lost_at;         // "" when registered; else one of kLostAt
};

// The reasons, in pipeline order.
extern const std::vector<std::string> kLostAt;

// Every image of the database. `gt` needs points with tracks (make_zoom_scene writes them); with
// none, every other image counts as covisible. `min_inliers`: the verification's
// --SiftMatching.min_num_inliers (COLMAP's 15); raw matches are held to the same count.
std::vector<ImageRegistration> AnalyseRegistration(const std::string& database_path,
                                                   const Reconstruction& gt,
                                                   const Reconstruction& estimate,
                                                   size_t min_inliers = 15);

// view -> reason -> count, over the unregistered images.
std::map<std::string, std::map<std::string, size_t>> CountLost(
    const std::vector<ImageRegistration>& images);

void WriteRegistrationCsv(const std::string& path, const std::vector<ImageRegistration>& images);

}  // namespace scalesfm
