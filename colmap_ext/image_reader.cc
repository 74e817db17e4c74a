#include "colmap_ext/image_reader.h"

#include <libexif/exif-data.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>

#include "colmap_ext/colmap_runner.h"
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

namespace {

bool HasImageExtension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  for (const char* known :
       {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".ppm", ".pgm", ".webp", ".jp2"}) {
    if (ext == known) return true;
  }
  return false;
}

}  // namespace

ImageListing ListImageFolder(const std::string& image_path) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(image_path)) {
    throw Error("image folder " + image_path + " does not exist or is not a folder");
  }
  ImageListing listing;
  fs::path base = fs::path(image_path).lexically_normal();
  if (base.filename().empty()) base = base.parent_path();  // "images/" -> "images"
  std::error_code ec;
  fs::recursive_directory_iterator it(base, fs::directory_options::skip_permission_denied, ec);
  if (ec) throw Error("cannot list image folder " + image_path + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw Error("cannot list image folder " + image_path + ": " + ec.message());
    const fs::directory_entry& entry = *it;
    // Lexical, so symlinked images keep their name in the folder (fs::relative would resolve
    // the link and name the target).
    const std::string rel = entry.path().lexically_relative(base).generic_string();
    if (rel.empty() || rel[0] == '.' || rel.find("/.") != std::string::npos) {
      if (entry.is_directory(ec) && !entry.is_symlink(ec)) it.disable_recursion_pending();
      continue;
    }
    // Every status query takes an error_code: a symbolic-link loop must not stop the listing.
    std::error_code status_error;
    const fs::file_status status = fs::status(entry.path(), status_error);
    const bool is_link = entry.is_symlink(ec);
    if (status_error || !fs::exists(status)) {
      if (!is_link) continue;  // removed while listing
      const bool loop = status_error.value() == ELOOP;
      std::error_code read_error;
      const fs::path target = fs::read_symlink(entry.path(), read_error);
      listing.skipped.emplace_back(
          rel, loop ? "symbolic link loop" : "dangling symbolic link to " + target.string());
      continue;
    }
    if (fs::is_regular_file(status)) {
      listing.names.push_back(rel);
    } else if (fs::is_directory(status)) {
      if (is_link) {
        listing.skipped.emplace_back(rel, "symbolic link to a folder (not followed)");
      } else if (HasImageExtension(entry.path())) {
        listing.skipped.emplace_back(rel, "a folder, not an image file");
      }
    } else if (HasImageExtension(entry.path())) {
      listing.skipped.emplace_back(rel, "not a regular file");
    }
  }
  std::sort(listing.names.begin(), listing.names.end());
  std::sort(listing.skipped.begin(), listing.skipped.end());
  if (listing.names.empty()) throw Error("image folder " + image_path + " contains no files");
  return listing;
}

std::vector<std::string> ListImages(const std::string& image_path) {
  ImageListing listing = ListImageFolder(image_path);
  for (const auto& [name, reason] : listing.skipped) {
    LogWarning("skipping " + name + " in " + image_path + ": " + reason);
  }
  return std::move(listing.names);
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

ExifFocalConvention ColmapExifFocalConvention() {
  try {
    return ColmapRunner().Dialect().IsColmap4() ? ExifFocalConvention::kColmap4
                                                : ExifFocalConvention::kColmap3;
  } catch (const Error&) {
    return ExifFocalConvention::kColmap3;
  }
}

std::optional<double> ReadExifFocalLengthPixels(const std::string& path, int width, int height,
                                                ExifFocalConvention convention) {
  ExifData* data = exif_data_new_from_file(path.c_str());
  if (!data) return std::nullopt;
  const double max_size = std::max(width, height);
  std::optional<double> focal_px;
  // 35 mm equivalent over COLMAP's 35 mm frame width (colmap feature_extractor gives the same
  // prior for the same file: tests/image_reader_test.cc compares them).
  if (auto f35 = ExifDouble(data, EXIF_TAG_FOCAL_LENGTH_IN_35MM_FILM); f35 && *f35 > 0) {
    focal_px = convention == ExifFocalConvention::kColmap4
                   ? *f35 / kExifFilmDiagonalMm * std::hypot(width, height)
                   : *f35 / kExifFilmWidthMm * max_size;
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
  if (auto focal = ReadExifFocalLengthPixels(path, width, height, ColmapExifFocalConvention())) {
    return MakeDefaultCamera(options.camera_model, width, height, *focal, true);
  }
  return MakeDefaultCamera(options.camera_model, width, height,
                           options.default_focal_length_factor * std::max(width, height), false);
}

}  // namespace scalesfm
