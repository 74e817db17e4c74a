#include "colmap_ext/image_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

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
// tiny JPEG header with an EXIF block holding FocalLengthIn35mmFilm = 36 (so f = max(w, h)).
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
  EXPECT_NEAR(*focal, 800.0, 1e-9);
  const Camera camera = SetupCamera(ImageReaderOptions(), path, 800, 600);
  EXPECT_TRUE(camera.has_prior_focal_length);
  EXPECT_NEAR(camera.FocalX(), 800.0, 1e-9);
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

}  // namespace
}  // namespace scalesfm
