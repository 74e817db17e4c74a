// JPEG files with the camera EXIF a user's photo carries, so generated scenes reach the image
// reader's EXIF focal prior (colmap_ext/image_reader.h) by the same path as real photos.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace scalesfm {

// The focal length of one image, in pixels, as EXIF states it. It is written as a camera whose
// sensor is kExifFilmWidthMm (35 mm, COLMAP's convention) wide along the image's longer side, so
// the 35 mm equivalent is the focal length in millimetres:
//   FocalLength (RATIONAL, mm), FocalPlaneXResolution / FocalPlaneYResolution (RATIONAL, pixels
//   per cm) with FocalPlaneResolutionUnit = 3, PixelXDimension / PixelYDimension, and
//   FocalLengthIn35mmFilm (SHORT, whole millimetres, as cameras round it).
struct FocalExif {
  double focal_px = 0;
  int width = 0, height = 0;
  // false: leave FocalLengthIn35mmFilm out (as some cameras and editors do), so readers must
  // use FocalLength with the focal-plane resolution.
  bool with_35mm_equivalent = true;
};

// The APP1 "Exif\0\0" payload (without marker and length) for `focal`.
std::vector<unsigned char> MakeFocalExifBlock(const FocalExif& focal);

// `bgr` encoded as JPEG at `quality` with the EXIF block right after the SOI marker.
std::vector<unsigned char> EncodeJpegWithExif(const cv::Mat& bgr, int quality,
                                              const FocalExif& focal);

// EncodeJpegWithExif written to `path`; throws Error when the file cannot be written.
void WriteJpegWithExif(const std::string& path, const cv::Mat& bgr, int quality,
                       const FocalExif& focal);

}  // namespace scalesfm
