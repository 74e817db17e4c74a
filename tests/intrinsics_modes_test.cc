// eval_eth / eval_imc --intrinsics (eval_eth/eth_evaluation.h): where every method's cameras come
// from and what bundle adjustment may refine, the same for stock COLMAP and scalesfm.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>

#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/database.h"
#include "colmap_ext/image_reader.h"
#include "colmap_ext/reconstruction.h"
#include "eval_eth/eth_evaluation.h"
#include "synthetic/jpeg_exif.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {
namespace fs = std::filesystem;

// The methods checked: stock COLMAP's reader and scalesfm's.
const std::vector<std::string> kMethods = {"colmap-default", "scalesfm-plain"};

std::map<std::string, Camera> CamerasByImage(const std::string& database_path) {
  Database db(database_path);
  std::map<std::string, Camera> out;
  for (const Image& image : db.ReadAllImages()) out[image.name] = db.ReadCamera(image.camera_id);
  return out;
}

bool FixesIntrinsics(const std::vector<std::string>& args) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--Mapper.ba_refine_focal_length" && args[i + 1] == "0") return true;
  }
  return false;
}

MethodDatabase Prepare(const std::string& dataset, const std::string& method,
                       const std::string& mode, const std::string& workspace) {
  return PrepareMethodDatabase(dataset, method, 500, 2, workspace, ColmapRunner(), "cpu", mode);
}

TEST(IntrinsicsModes, UnknownModeIsRefused) {
  EXPECT_THROW(CheckIntrinsicsMode("exact"), Error);
  EXPECT_NO_THROW(CheckIntrinsicsMode("exif"));
}

// The synthetic scene's PNGs carry no EXIF: exif mode says so before any work, naming the file.
TEST(IntrinsicsModes, ExifModeRefusesImagesWithoutExif) {
  const std::string work = test::MakeTempDir("intrinsics_noexif");
  try {
    Prepare(test::SyntheticSceneDir(), "scalesfm-plain", "exif", work + "/w");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("0000.png has no EXIF focal length"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(work + "/w/database.db"));
}

// gt: the GT cameras, fixed; free: COLMAP's 1.2 * max(w, h) without prior, refined. The same
// for both methods.
TEST(IntrinsicsModes, GtAndFreeGiveEveryMethodTheSameCameras) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not found";
  const std::string scene = test::SyntheticSceneDir();
  const Reconstruction gt = Reconstruction::Read(scene + "/gt");
  const std::string work = test::MakeTempDir("intrinsics_gt_free");
  for (const std::string& method : kMethods) {
    const MethodDatabase fixed = Prepare(scene, method, "gt", work + "/gt-" + method);
    EXPECT_TRUE(FixesIntrinsics(fixed.mapper_args)) << method;
    const auto gt_cameras = CamerasByImage(fixed.database_path);
    ASSERT_EQ(gt_cameras.size(), gt.images.size()) << method;
    for (const auto& [id, image] : gt.images) {
      EXPECT_EQ(gt_cameras.at(image.name).params, gt.cameras.at(image.camera_id).params);
    }

    const MethodDatabase free = Prepare(scene, method, "free", work + "/free-" + method);
    EXPECT_FALSE(FixesIntrinsics(free.mapper_args)) << method;
    const auto cameras = CamerasByImage(free.database_path);
    ASSERT_EQ(cameras.size(), 8u) << method;
    for (const auto& [name, camera] : cameras) {
      EXPECT_EQ(camera.ModelName(), "SIMPLE_RADIAL") << method << " " << name;
      EXPECT_FALSE(camera.has_prior_focal_length) << method << " " << name;
      EXPECT_EQ(camera.params, (std::vector<double>{1.2 * 480, 240, 180, 0})) << method << name;
    }
  }
}

// exif: every method's reader takes the same prior from each image's EXIF (the scene's images
// re-encoded as JPEG stating their GT focal lengths: the wide ones 400 px, the zoomed 800 px).
TEST(IntrinsicsModes, ExifModeGivesEveryMethodTheExifPrior) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not found";
  const std::string scene = test::SyntheticSceneDir();
  const Reconstruction gt = Reconstruction::Read(scene + "/gt");
  const std::string dataset = test::MakeTempDir("intrinsics_exif") + "/dataset";
  fs::create_directories(dataset + "/images");
  std::map<std::string, double> expected;
  for (const auto& [id, image] : gt.images) {
    const Camera& camera = gt.cameras.at(image.camera_id);
    const cv::Mat bgr = cv::imread(scene + "/images/" + image.name);
    const std::string name = fs::path(image.name).stem().string() + ".jpg";
    WriteJpegWithExif(dataset + "/images/" + name, bgr, 95, {camera.FocalX(), bgr.cols, bgr.rows});
    // The JPEG states the 35 mm equivalent in whole millimetres; each COLMAP version converts
    // it back by its own rule (image_reader.h), and every method follows the binary's.
    const double f35 = std::round(camera.FocalX() / 480 * kExifFilmWidthMm);
    expected[name] = ColmapExifFocalConvention() == ExifFocalConvention::kColmap4
                         ? f35 / kExifFilmDiagonalMm * std::hypot(480.0, 360.0)
                         : f35 / kExifFilmWidthMm * 480;
  }
  for (const std::string& method : kMethods) {
    const MethodDatabase prepared = Prepare(dataset, method, "exif", dataset + "/../" + method);
    EXPECT_FALSE(FixesIntrinsics(prepared.mapper_args)) << method;
    const auto cameras = CamerasByImage(prepared.database_path);
    ASSERT_EQ(cameras.size(), expected.size()) << method;
    for (const auto& [name, camera] : cameras) {
      EXPECT_EQ(camera.ModelName(), "SIMPLE_RADIAL") << method << " " << name;
      EXPECT_TRUE(camera.has_prior_focal_length) << method << " " << name;
      EXPECT_NEAR(camera.FocalX(), expected.at(name), 1e-9) << method << " " << name;
      EXPECT_EQ(camera.PrincipalX(), 240) << method << " " << name;
      EXPECT_EQ(camera.PrincipalY(), 180) << method << " " << name;
    }
  }
}

}  // namespace
}  // namespace scalesfm
