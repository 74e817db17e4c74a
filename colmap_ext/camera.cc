#include "colmap_ext/camera.h"

#include <sstream>

#include "util/logging.h"

namespace scalesfm {
namespace {

struct ModelInfo {
  int id;
  const char* name;
  size_t num_params;
  // Indices of fx, fy, cx, cy in the parameter vector.
  int fx, fy, cx, cy;
};

// COLMAP 3.8 camera models (src/base/camera_models.h).
constexpr ModelInfo kModels[] = {
    {0, "SIMPLE_PINHOLE", 3, 0, 0, 1, 2},
    {1, "PINHOLE", 4, 0, 1, 2, 3},
    {2, "SIMPLE_RADIAL", 4, 0, 0, 1, 2},
    {3, "RADIAL", 5, 0, 0, 1, 2},
    {4, "OPENCV", 8, 0, 1, 2, 3},
    {5, "OPENCV_FISHEYE", 8, 0, 1, 2, 3},
    {6, "FULL_OPENCV", 12, 0, 1, 2, 3},
    {7, "FOV", 5, 0, 1, 2, 3},
    {8, "SIMPLE_RADIAL_FISHEYE", 4, 0, 0, 1, 2},
    {9, "RADIAL_FISHEYE", 5, 0, 0, 1, 2},
    {10, "THIN_PRISM_FISHEYE", 12, 0, 1, 2, 3},
};

const ModelInfo& Info(int model_id) {
  for (const auto& m : kModels) {
    if (m.id == model_id) return m;
  }
  throw Error(StringPrintf("unknown COLMAP camera model id %d", model_id));
}

}  // namespace

int CameraModelNameToId(const std::string& name) {
  for (const auto& m : kModels) {
    if (name == m.name) return m.id;
  }
  throw Error("unknown camera model '" + name + "' (expected a COLMAP model name such as " +
              "SIMPLE_RADIAL, PINHOLE or OPENCV)");
}

std::string CameraModelIdToName(int model_id) { return Info(model_id).name; }
size_t CameraModelNumParams(int model_id) { return Info(model_id).num_params; }

std::string Camera::ModelName() const { return CameraModelIdToName(model_id); }
double Camera::FocalX() const { return params.at(Info(model_id).fx); }
double Camera::FocalY() const { return params.at(Info(model_id).fy); }
double Camera::PrincipalX() const { return params.at(Info(model_id).cx); }
double Camera::PrincipalY() const { return params.at(Info(model_id).cy); }

Camera MakeDefaultCamera(const std::string& model_name, int width, int height, double focal,
                         bool has_prior_focal_length) {
  Camera camera;
  camera.model_id = CameraModelNameToId(model_name);
  camera.width = width;
  camera.height = height;
  camera.has_prior_focal_length = has_prior_focal_length;
  const ModelInfo& info = Info(camera.model_id);
  camera.params.assign(info.num_params, 0.0);
  camera.params[info.fx] = focal;
  camera.params[info.fy] = focal;
  camera.params[info.cx] = width / 2.0;
  camera.params[info.cy] = height / 2.0;
  return camera;
}

std::vector<double> ParseCameraParams(const std::string& csv) {
  std::vector<double> params;
  std::stringstream ss(csv);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      params.push_back(std::stod(item, &used));
      if (used != item.size() && item.find_first_not_of(" \t", used) != std::string::npos) {
        throw std::invalid_argument(item);
      }
    } catch (const std::exception&) {
      throw Error("camera parameter '" + item + "' is not a number");
    }
  }
  return params;
}

}  // namespace scalesfm
