// COLMAP camera models (ids, names, parameter layout) and ImageReader-style camera set-up.
#pragma once

#include <string>
#include <vector>

#include "colmap_ext/types.h"

namespace scalesfm {

struct Camera {
  camera_t camera_id = 0;
  int model_id = 2;  // SIMPLE_RADIAL, COLMAP's default.
  int width = 0;
  int height = 0;
  std::vector<double> params;
  bool has_prior_focal_length = false;

  std::string ModelName() const;
  // Focal lengths and principal point, whatever the model's layout.
  double FocalX() const;
  double FocalY() const;
  double PrincipalX() const;
  double PrincipalY() const;
};

// Model name <-> COLMAP 3.8 model id, and the number of parameters of each model.
int CameraModelNameToId(const std::string& name);  // throws Error on unknown names
std::string CameraModelIdToName(int model_id);
size_t CameraModelNumParams(int model_id);

// COLMAP's default initialisation: focal f (from EXIF or 1.2 * max(w, h)), principal point at the
// image centre, distortion zero.
Camera MakeDefaultCamera(const std::string& model_name, int width, int height, double focal,
                         bool has_prior_focal_length);

// Parses "f,cx,cy,k"-style comma-separated parameters (--ImageReader.camera_params).
std::vector<double> ParseCameraParams(const std::string& csv);

}  // namespace scalesfm
