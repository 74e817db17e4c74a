// 3D points for a posed scene whose GT model has none (the Strecha and realworld scenes ship an
// empty points3D.txt): SIFT matches triangulated with the GT poses and intrinsics held fixed, by
// `colmap point_triangulator`. Used for GT scales (eval_scale) and for placing zoomed views where
// other views see the scene (make_zoom_scene).
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/reconstruction.h"

namespace scalesfm {

// Triangulates `scene_path` (images/ + gt/) into `work_path`/model and returns that model, with
// tracks. A model already under `work_path` is reused when it was made from the same scene
// (work_path/scene.txt names it); one made from another scene is replaced.
Reconstruction TriangulateWithGtPoses(const std::string& scene_path, const std::string& work_path,
                                      const ColmapRunner& colmap);

// The points of `model` seen in at least `min_track_length` images with a mean reprojection
// error below `max_error` pixels.
std::vector<const ModelPoint*> ReliablePoints(const Reconstruction& model,
                                              size_t min_track_length = 3, double max_error = 2.0);

// A scene's GT 3D points: `gt` itself when it has at least kMinReliableGtPoints ReliablePoints,
// else TriangulateWithGtPoses(scene_path, work_path) (cached there). make_zoom_scene places its
// views with them; eval_imc takes the GT co-visibility from them.
constexpr size_t kMinReliableGtPoints = 100;
Reconstruction GtPointsOrTriangulation(const std::string& scene_path, const Reconstruction& gt,
                                       const std::string& work_path, const ColmapRunner& colmap);

}  // namespace scalesfm
