// Reader for COLMAP sparse models (binary or text) and the statistics users compare.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <map>
#include <string>
#include <vector>

#include "colmap_ext/camera.h"
#include "colmap_ext/types.h"

namespace scalesfm {

struct ModelImage {
  image_t image_id = 0;
  std::string name;
  camera_t camera_id = 0;
  Eigen::Quaterniond q = Eigen::Quaterniond::Identity();  // world -> camera rotation
  Eigen::Vector3d t = Eigen::Vector3d::Zero();            // world -> camera translation
  size_t num_points2D = 0;
  size_t num_points3D = 0;  // observations with a 3D point

  Eigen::Matrix3d R() const { return q.normalized().toRotationMatrix(); }
  Eigen::Vector3d Center() const { return -(R().transpose() * t); }
};

struct ModelPoint {
  Eigen::Vector3d xyz = Eigen::Vector3d::Zero();
  double error = 0;
  size_t track_length = 0;
  std::vector<image_t> track_images;  // the image of each observation, in track order
};

struct ReconstructionStats {
  size_t num_images = 0;  // registered
  size_t num_points = 0;
  size_t num_observations = 0;
  double mean_track_length = 0;
  double mean_observations_per_image = 0;
  double mean_reprojection_error = 0;  // pixels, averaged over observations
};

class Reconstruction {
 public:
  // Reads cameras/images/points3D from `path`, binary (.bin) if present, else text (.txt).
  // Throws Error naming the file when a file is missing or truncated.
  static Reconstruction Read(const std::string& path);

  std::map<camera_t, Camera> cameras;
  std::map<image_t, ModelImage> images;
  std::vector<ModelPoint> points;

  ReconstructionStats ComputeStats() const;
  const ModelImage* FindImageByName(const std::string& name) const;
};

// K of `camera` from its focal lengths and principal point (distortion, if any, ignored).
Eigen::Matrix3d CalibrationMatrix(const Camera& camera);

// Pinhole projection of world point X by `camera` at pose (q, t) (world -> camera), in COLMAP's
// pixel convention. False when X is not in front of the camera (then *pixel is unset).
bool ProjectWorldPoint(const Camera& camera, const Eigen::Quaterniond& q, const Eigen::Vector3d& t,
                       const Eigen::Vector3d& X, Eigen::Vector2d* pixel);

// Whether a pixel position lies in [0, width) x [0, height).
bool InsideImage(const Camera& camera, const Eigen::Vector2d& pixel);

// The sub-models under a mapper output folder (sparse/0, sparse/1, ...), largest first by number
// of registered images. Empty when the mapper produced no model.
std::vector<std::string> ListModels(const std::string& sparse_path);

}  // namespace scalesfm
