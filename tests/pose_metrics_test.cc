#include "eval_common/pose_metrics.h"

#include <gtest/gtest.h>

#include <Eigen/Geometry>

#include "tests/test_util.h"

namespace scalesfm {
namespace {

TEST(PoseMetrics, GtAgainstItselfIsPerfect) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  const PoseAccuracy a = EvaluatePoses(gt, gt);
  EXPECT_DOUBLE_EQ(a.maa5, 1.0);
  EXPECT_DOUBLE_EQ(a.maa10, 1.0);
  EXPECT_EQ(a.num_registered, 8u);
  EXPECT_EQ(a.num_pairs, 28u);
  EXPECT_NEAR(a.median_rotation_deg, 0.0, 1e-5);
  EXPECT_NEAR(a.median_center_error, 0.0, 1e-9);
}

TEST(PoseMetrics, SimilarityTransformedEstimateIsPerfect) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  Reconstruction est = gt;
  // x' = s Q x + c: camera rotation R' = R Q^T, centre C' = s Q C + c.
  const Eigen::Matrix3d Q = Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized()).matrix();
  const double s = 3.5;
  const Eigen::Vector3d c(4, -2, 1);
  for (auto& [id, image] : est.images) {
    const Eigen::Vector3d center = s * Q * image.Center() + c;
    const Eigen::Matrix3d R = image.R() * Q.transpose();
    image.q = Eigen::Quaterniond(R);
    image.t = -R * center;
  }
  const PoseAccuracy a = EvaluatePoses(gt, est);
  EXPECT_NEAR(a.maa10, 1.0, 1e-12);
  EXPECT_NEAR(a.median_center_error, 0.0, 1e-6);
}

TEST(PoseMetrics, OneImageRotatedBy20DegreesFailsExactlyItsPairs) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  Reconstruction est = gt;
  ModelImage& image = est.images.begin()->second;
  const Eigen::Vector3d center = image.Center();
  const Eigen::Matrix3d Rz =
      Eigen::AngleAxisd(20.0 * M_PI / 180.0, Eigen::Vector3d::UnitZ()).matrix();
  const Eigen::Matrix3d R = Rz * image.R();
  image.q = Eigen::Quaterniond(R);
  image.t = -R * center;
  const std::vector<PairPoseError> errors = ComputeRelativePoseErrors(gt, est);
  for (const auto& e : errors) {
    if (e.name1 == image.name || e.name2 == image.name) {
      EXPECT_NEAR(e.rotation_deg, 20.0, 1e-6);
    } else {
      EXPECT_LT(e.error_deg, 1e-4);
    }
  }
  // 8 images: 28 pairs, 7 contain the rotated image (error 20 deg > every threshold).
  const PoseAccuracy a = EvaluatePoses(gt, est);
  EXPECT_DOUBLE_EQ(a.maa10, 21.0 / 28.0);
  EXPECT_DOUBLE_EQ(a.maa5, 21.0 / 28.0);
}

TEST(PoseMetrics, UnregisteredImageFailsEveryPairItIsIn) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  Reconstruction est = gt;
  est.images.erase(est.images.begin());
  const PoseAccuracy a = EvaluatePoses(gt, est);
  EXPECT_EQ(a.num_registered, 7u);
  EXPECT_DOUBLE_EQ(a.maa10, 21.0 / 28.0);
}

TEST(PoseMetrics, EmptyEstimateIsZeroNotACrash) {
  const Reconstruction gt = Reconstruction::Read(test::SyntheticSceneDir() + "/gt");
  const PoseAccuracy a = EvaluatePoses(gt, Reconstruction());
  EXPECT_EQ(a.num_registered, 0u);
  EXPECT_DOUBLE_EQ(a.maa10, 0.0);
}

TEST(PoseMetrics, MaaAveragesThresholds) {
  std::vector<PairPoseError> errors(2);
  errors[0].error_deg = 0.5;  // below every threshold
  errors[1].error_deg = 4.5;  // below thresholds 5..10 only
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy(errors, 10), (4 * 0.5 + 6 * 1.0) / 10);
  EXPECT_DOUBLE_EQ(MeanAverageAccuracy(errors, 5), (4 * 0.5 + 1.0) / 5);
}

}  // namespace
}  // namespace scalesfm
