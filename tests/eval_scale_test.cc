#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "eval_scale/scale_evaluation.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

TEST(EvalScale, CorrespondenceScaleRecoversASimilarity) {
  // B = 2.5 * R(30 deg) * A + t: every distance ratio is exactly 2.5 (eq. 4), so eq. 5 is too.
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0, 500);
  std::vector<Eigen::Vector2d> a, b;
  const Eigen::Rotation2Dd R(M_PI / 6);
  for (int i = 0; i < 100; ++i) {
    a.emplace_back(u(rng), u(rng));
    b.push_back(2.5 * (R * a.back()) + Eigen::Vector2d(7, -3));
  }
  EXPECT_NEAR(ScaleFromCorrespondences(a, b, 200, 0), 2.5, 1e-9);
  EXPECT_NEAR(ScaleFromCorrespondences(b, a, 200, 0), 0.4, 1e-9);
  EXPECT_EQ(ScaleFromCorrespondences({}, {}, 200, 0), 0.0);
}

TEST(EvalScale, ProjectionFollowsTheGtCameras) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  const ModelImage& image = gt.images.begin()->second;
  // A point 5 units in front of the camera centre, on the optical axis, projects to (cx, cy).
  const Eigen::Vector3d axis = image.R().transpose() * Eigen::Vector3d::UnitZ();
  const Eigen::Vector3d behind = image.Center() - 5 * axis;
  const auto p = ProjectPoints(gt, image, {image.Center() + 5 * axis, behind});
  const Camera& camera = gt.cameras.at(image.camera_id);
  ASSERT_TRUE(p[0].first);
  EXPECT_NEAR(p[0].second.x(), camera.PrincipalX(), 1e-9);
  EXPECT_NEAR(p[0].second.y(), camera.PrincipalY(), 1e-9);
  EXPECT_FALSE(p[1].first);
}

TEST(EvalScale, HomographyPairListIsReadAndBadInputIsClear) {
  const std::string dir = test::MakeTempDir("homog");
  std::ofstream(dir + "/pairs.txt")
      << "# pair gt_scale_A_to_B sizeA sizeB\nboat 0.42 850x680 850x680\n";
  const auto pairs = ReadHomographyPairs(dir);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_DOUBLE_EQ(pairs[0].scale, 0.42);
  EXPECT_EQ(pairs[0].name1, dir + "/boat/A.jpg");
  EXPECT_THROW(ReadHomographyPairs(dir + "/missing"), Error);
}

}  // namespace
}  // namespace scalesfm
