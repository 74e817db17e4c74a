#include "colmap_ext/image_reader.h"

#include <libexif/exif-data.h>

#include <algorithm>
#include <filesystem>

#include "util/logging.h"

namespace scalesfm {

void ImageReaderOptions::Check() const {
  const int model_id = CameraModelNameToId(camera_model);
  if (default_focal_length_factor <= 0) {
    throw Error("--ImageReader.default_focal_length_factor must be positive");
  }
  if (!camera_params.empty()) {
    const size_t n = ParseCameraParams(camera_params).size();
    if (n != CameraModelNumParams(model_id)) {
      throw Error(StringPrintf("--ImageReader.camera_params has %zu values, but %s needs %zu", n,
                               camera_model.c_str(), CameraModelNumParams(model_id)));
    }
  }
}

std::vector<std::string> ListImages(const std::string& image_path) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(image_path)) {
    throw Error("image folder " + image_path + " does not exist or is not a folder");
  }
  std::vector<std::string> names;
  fs::path base = fs::path(image_path).lexically_normal();
  if (base.filename().empty()) base = base.parent_path();  // "images/" -> "images"
  for (const auto& entry : fs::recursive_directory_iterator(base)) {
    if (!entry.is_regular_file()) continue;
    // Lexical, so symlinked images keep their name in the folder (fs::relative would resolve
    // the link and name the target).
    const std::string rel = entry.path().lexically_relative(base).generic_string();
    if (rel.empty() || rel[0] == '.' || rel.find("/.") != std::string::npos) continue;
    names.push_back(rel);
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) throw Error("image folder " + image_path + " contains no files");
  return names;
}

namespace {

std::optional<double> ExifDouble(ExifData* data, ExifTag tag) {
  ExifEntry* entry = exif_data_get_entry(data, tag);
  if (!entry || entry->components < 1) return std::nullopt;
  const ExifByteOrder order = exif_data_get_byte_order(data);
  switch (entry->format) {
    case EXIF_FORMAT_RATIONAL: {
      const ExifRational r = exif_get_rational(entry->data, order);
      if (r.denominator == 0) return std::nullopt;
      return static_cast<double>(r.numerator) / r.denominator;
    }
    case EXIF_FORMAT_SHORT:
      return static_cast<double>(exif_get_short(entry->data, order));
    case EXIF_FORMAT_LONG:
      return static_cast<double>(exif_get_long(entry->data, order));
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<double> ReadExifFocalLengthPixels(const std::string& path, int width, int height) {
  ExifData* data = exif_data_new_from_file(path.c_str());
  if (!data) return std::nullopt;
  const double max_size = std::max(width, height);
  std::optional<double> focal_px;
  // 35 mm equivalent: a full-frame sensor is 36 mm wide.
  if (auto f35 = ExifDouble(data, EXIF_TAG_FOCAL_LENGTH_IN_35MM_FILM); f35 && *f35 > 0) {
    focal_px = *f35 / 36.0 * max_size;
  } else if (auto f_mm = ExifDouble(data, EXIF_TAG_FOCAL_LENGTH); f_mm && *f_mm > 0) {
    // Focal-plane resolution in pixels per unit (2 = inch, 3 = cm, 4 = mm, 5 = um).
    auto res = ExifDouble(data, EXIF_TAG_FOCAL_PLANE_X_RESOLUTION);
    auto unit = ExifDouble(data, EXIF_TAG_FOCAL_PLANE_RESOLUTION_UNIT);
    if (res && *res > 0) {
      double mm_per_unit = 25.4;
      if (unit && *unit == 3) mm_per_unit = 10.0;
      if (unit && *unit == 4) mm_per_unit = 1.0;
      if (unit && *unit == 5) mm_per_unit = 0.001;
      focal_px = *f_mm * (*res / mm_per_unit);
    }
  }
  exif_data_unref(data);
  if (focal_px && (!std::isfinite(*focal_px) || *focal_px <= 0)) return std::nullopt;
  return focal_px;
}

Camera SetupCamera(const ImageReaderOptions& options, const std::string& path, int width,
                   int height) {
  if (!options.camera_params.empty()) {
    Camera camera = MakeDefaultCamera(options.camera_model, width, height, 1.0, true);
    camera.params = ParseCameraParams(options.camera_params);
    return camera;
  }
  if (auto focal = ReadExifFocalLengthPixels(path, width, height)) {
    return MakeDefaultCamera(options.camera_model, width, height, *focal, true);
  }
  return MakeDefaultCamera(options.camera_model, width, height,
                           options.default_focal_length_factor * std::max(width, height), false);
}

}  // namespace scalesfm
