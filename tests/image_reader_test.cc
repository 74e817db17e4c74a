#include "colmap_ext/image_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>

#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/database.h"
#include "synthetic/jpeg_exif.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

// What the colmap binary the suite runs makes of a 35 mm equivalent focal length.
double ColmapsFocalFrom35mm(double f35, int width, int height) {
  return ColmapExifFocalConvention() == ExifFocalConvention::kColmap4
             ? f35 / kExifFilmDiagonalMm * std::hypot(width, height)
             : f35 / kExifFilmWidthMm * std::max(width, height);
}

TEST(ImageReader, DefaultFocalPriorIsColmaps) {
  ImageReaderOptions options;
  const Camera camera = SetupCamera(options, "/nonexistent.png", 640, 480);
  EXPECT_EQ(camera.ModelName(), "SIMPLE_RADIAL");
  EXPECT_DOUBLE_EQ(camera.FocalX(), 1.2 * 640);
  EXPECT_DOUBLE_EQ(camera.PrincipalX(), 320);
  EXPECT_DOUBLE_EQ(camera.PrincipalY(), 240);
  EXPECT_FALSE(camera.has_prior_focal_length);
  EXPECT_EQ(camera.params.size(), 4u);
}

TEST(ImageReader, CameraModelAndParamsOptions) {
  ImageReaderOptions options;
  options.camera_model = "PINHOLE";
  options.camera_params = "500, 510, 320, 240";
  options.Check();
  const Camera camera = SetupCamera(options, "/nonexistent.png", 640, 480);
  EXPECT_EQ(camera.ModelName(), "PINHOLE");
  EXPECT_DOUBLE_EQ(camera.FocalY(), 510);
  EXPECT_TRUE(camera.has_prior_focal_length);
  options.camera_params = "500,510";
  EXPECT_THROW(options.Check(), Error);
  options.camera_model = "NOT_A_MODEL";
  EXPECT_THROW(options.Check(), Error);
}

// A minimal JPEG-less EXIF test: libexif parses APP1 segments inside a JPEG stream; we build a
// tiny JPEG header with an EXIF block holding FocalLengthIn35mmFilm = 36, so f = 36 / 35 *
// max(w, h) (COLMAP's 35 mm convention).
TEST(ImageReader, ExifFocalLength35mm) {
  const std::string path = test::MakeTempDir("exif") + "/exif.jpg";
  // TIFF header (little endian) with one IFD0 entry pointing to an EXIF sub-IFD holding 0xA405.
  const unsigned char tiff[] = {
      'I',  'I',  0x2A, 0x00, 0x08, 0x00, 0x00, 0x00,                          // header, IFD0 at 8
      0x01, 0x00,                                                              // 1 entry
      0x69, 0x87, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1A, 0x00, 0x00, 0x00,  // ExifIFD at 26
      0x00, 0x00, 0x00, 0x00,                                                  // no next IFD
      0x01, 0x00,                                                              // EXIF IFD: 1 entry
      0x05, 0xA4, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x24, 0x00, 0x00, 0x00,  // 35mm = 36
      0x00, 0x00, 0x00, 0x00};
  std::string app1 = "Exif";
  app1.push_back('\0');
  app1.push_back('\0');
  app1.append(reinterpret_cast<const char*>(tiff), sizeof(tiff));
  const size_t len = app1.size() + 2;
  std::ofstream out(path, std::ios::binary);
  out << '\xFF' << '\xD8' << '\xFF' << '\xE1' << static_cast<char>(len >> 8)
      << static_cast<char>(len & 0xFF) << app1 << '\xFF' << '\xD9';
  out.close();
  const auto focal = ReadExifFocalLengthPixels(path, 800, 600);
  ASSERT_TRUE(focal.has_value());
  EXPECT_NEAR(*focal, 36.0 / 35.0 * 800.0, 1e-9);
  EXPECT_NEAR(*ReadExifFocalLengthPixels(path, 800, 600, ExifFocalConvention::kColmap4),
              36.0 / 43.27 * 1000.0, 1e-9);  // COLMAP 4: over the 43.27 mm diagonal
  // The camera follows the colmap binary's convention.
  const Camera camera = SetupCamera(ImageReaderOptions(), path, 800, 600);
  EXPECT_TRUE(camera.has_prior_focal_length);
  EXPECT_NEAR(camera.FocalX(), ColmapsFocalFrom35mm(36.0, 800, 600), 1e-9);
}

TEST(ImageReader, ListsImagesRecursivelyAndSorted) {
  const std::string dir = test::MakeTempDir("list");
  std::filesystem::create_directories(dir + "/sub");
  for (const char* name : {"b.png", "a.png", "sub/c.png", ".hidden.png"}) {
    std::ofstream(dir + "/" + name) << "x";
  }
  EXPECT_EQ(ListImages(dir), (std::vector<std::string>{"a.png", "b.png", "sub/c.png"}));
  EXPECT_THROW(ListImages(dir + "/missing"), Error);
}

// Collections are often folders of links into an archive: a link keeps its own name, and a
// trailing slash on the folder changes nothing.
TEST(ImageReader, SymlinkedImagesKeepTheirNames) {
  const std::string archive = test::MakeTempDir("archive");
  const std::string dir = test::MakeTempDir("links");
  std::ofstream(archive + "/original.png") << "x";
  std::filesystem::create_symlink(archive + "/original.png", dir + "/view1.png");
  EXPECT_EQ(ListImages(dir), (std::vector<std::string>{"view1.png"}));
  EXPECT_EQ(ListImages(dir + "/"), (std::vector<std::string>{"view1.png"}));
}

// A JPEG as make_zoom_scene writes it: the 35 mm equivalent (whole millimetres) wins, as in
// COLMAP; without it, FocalLength with the focal-plane resolution gives the focal length to the
// rationals' precision.
TEST(ImageReader, ExifWrittenByMakeZoomSceneGivesTheFocalPrior) {
  const std::string dir = test::MakeTempDir("exif_writer");
  const cv::Mat bgr(512, 768, CV_8UC3, cv::Scalar(90, 120, 150));
  const double focal = 1381.4;  // 35 mm equivalent 1381.4 / 768 * 35 = 62.96 -> 63
  auto write = [&](const std::string& name, bool with_35mm) {
    WriteJpegWithExif(dir + "/" + name, bgr, 90, {focal, 768, 512, with_35mm});
    return dir + "/" + name;
  };
  const auto from_35mm = ReadExifFocalLengthPixels(write("a.jpg", true), 768, 512);
  ASSERT_TRUE(from_35mm.has_value());
  EXPECT_NEAR(*from_35mm, 63.0 / 35.0 * 768, 1e-9);
  const auto from_focal_plane = ReadExifFocalLengthPixels(write("b.jpg", false), 768, 512);
  ASSERT_TRUE(from_focal_plane.has_value());
  EXPECT_NEAR(*from_focal_plane, focal, 1e-2);
  EXPECT_THROW(EncodeJpegWithExif(bgr, 90, {0.0, 768, 512}), Error);
}

// scalesfm's image reader and colmap feature_extractor give the same file the same camera: the
// same focal prior, flagged as a prior, at the image centre.
TEST(ImageReader, ExifPriorEqualsColmapFeatureExtractors) {
  const std::string dir = test::MakeTempDir("exif_colmap");
  std::filesystem::create_directories(dir + "/images");
  const cv::Mat bgr(480, 640, CV_8UC3, cv::Scalar(60, 200, 30));
  cv::Mat textured = bgr.clone();
  cv::randu(textured, 0, 255);
  WriteJpegWithExif(dir + "/images/a.jpg", textured, 90, {1003.7, 640, 480});
  ColmapRunner().Run("feature_extractor",
                     {"--database_path", dir + "/colmap.db", "--image_path", dir + "/images",
                      "--SiftExtraction.use_gpu", "0", "--SiftExtraction.max_num_features", "50"});
  const std::vector<Camera> cameras = Database(dir + "/colmap.db").ReadAllCameras();
  ASSERT_EQ(cameras.size(), 1u);
  const Camera ours = SetupCamera(ImageReaderOptions(), dir + "/images/a.jpg", 640, 480);
  EXPECT_EQ(cameras[0].ModelName(), ours.ModelName());
  EXPECT_TRUE(cameras[0].has_prior_focal_length);
  EXPECT_TRUE(ours.has_prior_focal_length);
  ASSERT_EQ(cameras[0].params.size(), ours.params.size());
  for (size_t i = 0; i < ours.params.size(); ++i)
    EXPECT_NEAR(cameras[0].params[i], ours.params[i], 1e-9);
  EXPECT_NEAR(ours.FocalX(), ColmapsFocalFrom35mm(std::lround(1003.7 / 640 * 35), 640, 480), 1e-9);
}

}  // namespace
}  // namespace scalesfm
