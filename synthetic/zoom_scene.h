// `scalesfm make_zoom_scene`: a zoom variant of any posed scene, for stress-testing a collection
// with mixed scales and for development scenes beyond the shipped `-zoom` ones.
//
// The source images are taken in name order. Even positions become wide shots (the source
// downscaled by `wide_scale`); odd positions become views magnified `zooms[k % n]` times relative
// to the wide shots (2x, 4x, 8x, 2x, ...), as the shipped `-zoom` scenes are built. Each zoomed
// view looks at a spot of its source image that holds triangulated points seen by wide shots;
// the seed picks it among the well-covered spots. Views keep the wide shots' pixel size, so a
// zoomed view shows 1/zoom of the wide field of view. Their GT is exact:
//   - crop: the same camera and pose, K shifted and scaled (principal point off centre); the
//     view is the source window resampled;
//   - optical: the same camera centre, rotated to look at the spot, focal lengths times the
//     zoom, principal point at the image centre; rendered by the homography K R_look^T K_z^-1
//     (a rotation about the centre has no parallax).
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "colmap_ext/camera.h"
#include "colmap_ext/reconstruction.h"

namespace scalesfm {

struct ZoomSceneOptions {
  std::vector<double> zooms = {2, 4, 8};  // magnification relative to the wide shots, each > 1
  double wide_scale = 0.5;                // wide shot size / source size
  // optical (what a zoom lens does: principal point at the centre) | crop (off-centre).
  std::string zoom_model = "optical";
  unsigned seed = 0;
  // Every image's EXIF states its GT focal length times 1 + e, e uniform in +-this (seeded).
  double exif_focal_error = 0;
  // A spot is a candidate when its coverage score is at least this fraction of the best one.
  double spot_score_fraction = 0.5;
  int jpeg_quality = 95;

  void Check() const;
};

struct ZoomView {
  std::string name;  // NNNN_wide.jpg, NNNN_zoom<m>.jpg (NNNN: position in the source order)
  image_t source_image_id = 0;
  std::string source_name;
  double zoom = 1;                                 // relative to the wide shots; 1 for a wide shot
  Eigen::Vector2d spot = Eigen::Vector2d::Zero();  // source pixel the view centres on
  size_t spot_support = 0;  // triangulated points in the view that wide shots see
  Camera camera;            // PINHOLE
  Eigen::Quaterniond q = Eigen::Quaterniond::Identity();  // world -> camera
  Eigen::Vector3d t = Eigen::Vector3d::Zero();
  // Maps the view's pixels to the source image's (COLMAP convention, homogeneous).
  Eigen::Matrix3d source_from_view = Eigen::Matrix3d::Identity();
};

// Decides the wide shots, the zoom of each other view and where it looks. `points`: the source
// scene's 3D points with tracks in `gt`'s image ids. Throws Error for a camera that is not
// PINHOLE or SIMPLE_PINHOLE (undistort first) and for fewer than two source images.
std::vector<ZoomView> PlanZoomScene(const Reconstruction& gt,
                                    const std::vector<const ModelPoint*>& points,
                                    const ZoomSceneOptions& options);

// The view rendered from its 8-bit source image.
cv::Mat RenderZoomView(const cv::Mat& source, const Camera& source_camera, const ZoomView& view);

// `output_path` as an absolute folder name without a trailing separator; the siblings
// <name>.partial, <name>.old and <name>_triangulation are named from it.
std::filesystem::path ZoomSceneFolder(const std::string& output_path);

// Renders the views and writes `output_path`: images/, gt/ (PINHOLE cameras, poses, and the
// points as points3D with each view's projections as observations, where the source image saw
// the point and the projection is inside the view) and zoom_scene.txt (what each view is). The
// images are JPEG with the EXIF focal length of synthetic/jpeg_exif.h. The
// folder is built beside `output_path` and renamed into place; an existing folder is replaced
// only when make_zoom_scene wrote it.
void WriteZoomScene(const std::string& scene_path, const Reconstruction& gt,
                    const std::vector<const ModelPoint*>& points,
                    const std::vector<ZoomView>& views, const ZoomSceneOptions& options,
                    const std::string& output_path);

}  // namespace scalesfm
