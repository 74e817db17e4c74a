// A synthetic multi-view scene rendered by ray casting: a textured ground, a back wall and boxes,
// seen from cameras on an arc, some of them zoomed in. Textures are fractal value noise whose
// finest octave follows each pixel's footprint, so zoomed views see real detail and wide views
// do not alias. GT cameras are exact in COLMAP's pixel convention.
#pragma once

#include <Eigen/Core>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace scalesfm {

struct SyntheticSceneOptions {
  int num_cameras = 10;  // total, zoomed ones included
  int num_zoomed = 2;    // every so often a camera is replaced by a zoomed one
  double zoom = 4.0;     // focal-length factor of zoomed cameras
  // optical: a zoomed camera turns towards its target, principal point at the centre (a zoom
  // lens); crop: it faces as the wide cameras do and its principal point moves so the target
  // is at the image centre (a crop of a wider image).
  std::string zoom_model = "optical";
  int width = 640;
  int height = 480;
  double focal = 520.0;   // wide cameras, pixels
  int supersampling = 2;  // samples per pixel side
  // Amplitude ratio of successive texture octaves (each twice the frequency of the last): 0.5
  // is a 1/f spectrum like natural images; larger values give fine detail more contrast.
  double texture_octave_gain = 0.72;
  unsigned seed = 1;

  void Check() const;
};

struct SyntheticCamera {
  std::string name;
  Eigen::Matrix3d R;  // world -> camera
  Eigen::Vector3d t;
  double focal = 0;
  double cx = 0, cy = 0;  // principal point, pixels (COLMAP convention)
  double zoom = 1;
  int width = 0, height = 0;
};

struct SyntheticScene {
  std::vector<SyntheticCamera> cameras;
  std::vector<cv::Mat> images;  // 8-bit BGR
};

SyntheticScene RenderSyntheticScene(const SyntheticSceneOptions& options);

// Writes images/ (PNG), gt/ (COLMAP text model: PINHOLE cameras, images, empty points3D) and
// scene.txt (zoom factor per image) under `output_path`.
void WriteSyntheticScene(const SyntheticScene& scene, const std::string& output_path);

}  // namespace scalesfm
