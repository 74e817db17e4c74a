// What COLMAP's ImageReader does before features exist: list the images of a folder, and set up
// a camera for each (or one shared camera) from EXIF or COLMAP's default focal prior.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "colmap_ext/camera.h"

namespace scalesfm {

// Maps 1:1 to the --ImageReader.* flags.
struct ImageReaderOptions {
  std::string camera_model = "SIMPLE_RADIAL";
  bool single_camera = false;
  // Comma-separated parameters in the model's order; when set they replace EXIF and the prior.
  std::string camera_params;
  // Focal prior when EXIF has none: factor * max(width, height) (COLMAP's default 1.2).
  double default_focal_length_factor = 1.2;

  void Check() const;  // throws Error on invalid values
};

// The non-hidden entries below `image_path`, as relative paths with '/', sorted as COLMAP lists
// them: `names` are the regular files (symlinks to files included); `skipped` are the entries
// that look like images but cannot be read as files, each with the reason: dangling symbolic
// links, symbolic-link loops, links to folders (not followed, as COLMAP does not) and folders
// named like image files. Throws Error if the folder does not exist or holds no files.
struct ImageListing {
  std::vector<std::string> names;
  std::vector<std::pair<std::string, std::string>> skipped;
};
ImageListing ListImageFolder(const std::string& image_path);

// ListImageFolder's names; each skipped entry is logged as a warning.
std::vector<std::string> ListImages(const std::string& image_path);

// The frame width that COLMAP 3.8 divides FocalLengthIn35mmFilm by (f = f35 / 35 * max(w, h)),
// and the frame diagonal that COLMAP 4.x divides it by (f = f35 / 43.27 * diagonal, CIPA's
// rule); the reader follows the colmap binary's, so scalesfm and colmap give one photo the same
// prior.
constexpr double kExifFilmWidthMm = 35.0;
constexpr double kExifFilmDiagonalMm = 43.27;
enum class ExifFocalConvention { kColmap3, kColmap4 };

// The convention of the colmap binary scalesfm runs (COLMAP 3.8's when there is none).
ExifFocalConvention ColmapExifFocalConvention();

// Focal length in pixels from the image's EXIF, if it has enough information: the 35 mm
// equivalent focal length (by `convention`), else the focal length in mm with the focal-plane
// resolution.
std::optional<double> ReadExifFocalLengthPixels(
    const std::string& path, int width, int height,
    ExifFocalConvention convention = ExifFocalConvention::kColmap3);

// A camera for an image of the given size, initialised as COLMAP's ImageReader does.
Camera SetupCamera(const ImageReaderOptions& options, const std::string& path, int width,
                   int height);

}  // namespace scalesfm
