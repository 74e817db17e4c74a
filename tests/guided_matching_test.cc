#include "matching/guided_matching.h"

#include <gtest/gtest.h>

#include <Eigen/LU>
#include <cstring>
#include <random>

#include "tests/test_util.h"

namespace scalesfm {
namespace {

torch::Tensor UnitRows(const torch::Tensor& x) { return x / x.norm(2, 1, true); }

// Image 1 has n keypoints with distinct descriptors. Image 2 holds each one's true
// correspondence, at `true_position(x1)`, and a twin with the same descriptor (repeated texture)
// at `twin_position(x1)`. Descriptor matching alone is ambiguous for every keypoint.
struct RepeatedTexturePair {
  torch::Tensor d1, d2, x1, x2;
  int64_t n = 0;
};

template <typename TrueFn, typename TwinFn>
RepeatedTexturePair MakePair(int64_t n, TrueFn true_position, TwinFn twin_position) {
  RepeatedTexturePair p;
  p.n = n;
  torch::manual_seed(7);
  p.d1 = UnitRows(torch::randn({n, 128}).abs());
  p.x1 = torch::rand({n, 2}) * 800 + 100;
  const torch::Tensor copy = UnitRows(p.d1 + 0.01 * torch::randn({n, 128}));
  const torch::Tensor twin = UnitRows(p.d1 + 0.01 * torch::randn({n, 128}));
  p.d2 = torch::cat({copy, twin});
  p.x2 = torch::cat({true_position(p.x1), twin_position(p.x1)});
  return p;
}

TEST(GuidedMatching, SquaredSampsonErrorsFollowTheFormula) {
  Eigen::Matrix3d F;
  F << 1e-7, -3e-6, 2e-3, 4e-6, 2e-7, -5e-3, -2e-3, 6e-3, 1.0;
  torch::manual_seed(2);
  const torch::Tensor x1 = torch::rand({5, 2}) * 1000, x2 = torch::rand({7, 2}) * 1000;
  const torch::Tensor e = SquaredSampsonErrors(x1, x2, F);
  ASSERT_EQ(e.size(0), 5);
  ASSERT_EQ(e.size(1), 7);
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 7; ++j) {
      const Eigen::Vector3d p1(x1[i][0].item<double>(), x1[i][1].item<double>(), 1);
      const Eigen::Vector3d p2(x2[j][0].item<double>(), x2[j][1].item<double>(), 1);
      const Eigen::Vector3d l1 = F * p1, l2 = F.transpose() * p2;
      const double num = std::pow(p2.dot(l1), 2);
      const double expected = num / (l1.head<2>().squaredNorm() + l2.head<2>().squaredNorm());
      EXPECT_NEAR(e[i][j].item<double>(), expected, 1e-3 * (1 + expected));
    }
  }
}

TEST(GuidedMatching, EpipolarGeometryResolvesRepeatedTexture) {
  // Sideways translation, F = [t]_x with t = (1, 0, 0): epipolar lines are the rows y2 = y1.
  Eigen::Matrix3d F;
  F << 0, 0, 0, 0, 0, -1, 0, 1, 0;
  const RepeatedTexturePair p = MakePair(
      300,
      [](const torch::Tensor& x) {
        return x + torch::tensor({37.0f, 0.0f});
      },
      [](const torch::Tensor& x) {
        return x + torch::tensor({-20.0f, 60.0f});
      });
  EXPECT_LT(MatchNearestNeighbors(p.d1, p.d2, {}).size(), 30u);  // ambiguous without geometry
  TwoViewGeometry geometry;
  geometry.config = static_cast<int>(TwoViewConfig::kCalibrated);
  geometry.F = F;
  NnMatchOptions small_blocks;
  small_blocks.block_rows = 64;
  const Matches matches = MatchGuided(p.d1, p.d2, p.x1, p.x2, geometry, 4.0, small_blocks);
  EXPECT_GT(matches.size(), 290u);
  for (const Match& m : matches) EXPECT_EQ(m.idx2, m.idx1);  // the true copy, never the twin
  // The other way round (F^T) gives the same pairs, swapped.
  geometry.F = F.transpose();
  const Matches back = MatchGuided(p.d2, p.d1, p.x2, p.x1, geometry, 4.0, {});
  EXPECT_EQ(back.size(), matches.size());
  for (const Match& m : back) EXPECT_EQ(m.idx1, m.idx2);
}

TEST(GuidedMatching, HomographyResolvesRepeatedTextureAndOtherConfigsGiveNothing) {
  Eigen::Matrix3d H;
  H << 2, 0, 10, 0, 2, -5, 0, 0, 1;
  const RepeatedTexturePair p = MakePair(
      200,
      [](const torch::Tensor& x) {
        return x * 2 + torch::tensor({10.0f, -5.0f});
      },
      [](const torch::Tensor& x) {
        return x * 2 + torch::tensor({40.0f, 30.0f});
      });
  TwoViewGeometry geometry;
  geometry.config = static_cast<int>(TwoViewConfig::kPlanar);
  geometry.H = H;
  const Matches matches = MatchGuided(p.d1, p.d2, p.x1, p.x2, geometry, 4.0, {});
  EXPECT_GT(matches.size(), 190u);
  for (const Match& m : matches) EXPECT_EQ(m.idx2, m.idx1);
  geometry.config = static_cast<int>(TwoViewConfig::kWatermark);
  EXPECT_TRUE(MatchGuided(p.d1, p.d2, p.x1, p.x2, geometry, 4.0, {}).empty());
  geometry.config = static_cast<int>(TwoViewConfig::kCalibrated);  // but F missing
  EXPECT_TRUE(MatchGuided(p.d1, p.d2, p.x1, p.x2, geometry, 4.0, {}).empty());
}

TEST(GuidedMatching, MergeKeepsTheInliersAndEachKeypointOnce) {
  const Matches guided = {{1, 10}, {1, 11}, {3, 20}, {4, 40}, {5, 40}};
  Matches merged = {{1, 10}, {2, 20}};  // the verified inliers
  AppendUnmatched(guided, &merged);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].idx1, 1u);
  EXPECT_EQ(merged[1].idx1, 2u);
  EXPECT_EQ(merged[2].idx1, 4u);
  EXPECT_EQ(merged[2].idx2, 40u);
}

TEST(GuidedMatching, ExtendsVerifiedPairsInTheDatabaseAndResumes) {
  const std::string path = test::MakeTempDir("guided_matching") + "/database.db";
  Eigen::Matrix3d F;
  F << 0, 0, 0, 0, 0, -1, 0, 1, 0;
  const RepeatedTexturePair p = MakePair(
      100,
      [](const torch::Tensor& x) {
        return x + torch::tensor({15.0f, 0.0f});
      },
      [](const torch::Tensor& x) {
        return x + torch::tensor({0.0f, 80.0f});
      });
  image_t a = 0, b = 0;
  {
    Database db(path);
    Camera camera;
    camera.model_id = 0;
    camera.width = 1000;
    camera.height = 1000;
    camera.params = {1000, 500, 500};
    const camera_t camera_id = db.WriteCamera(camera);
    a = db.WriteImage({kInvalidImageId, "a.jpg", camera_id});
    b = db.WriteImage({kInvalidImageId, "b.jpg", camera_id});
    const auto write = [&](image_t id, const torch::Tensor& x, const torch::Tensor& d) {
      Keypoints keypoints(x.size(0));
      for (int64_t i = 0; i < x.size(0); ++i) {
        keypoints[i].x = x[i][0].item<float>();
        keypoints[i].y = x[i][1].item<float>();
      }
      const torch::Tensor u8 = (d * 512).round().clamp(0, 255).to(torch::kUInt8).contiguous();
      DescriptorsU8 descriptors(d.size(0), d.size(1));
      std::memcpy(descriptors.data(), u8.data_ptr<uint8_t>(), u8.numel());
      db.WriteKeypoints(id, keypoints);
      db.WriteDescriptors(id, descriptors);
    };
    write(a, p.x1, p.d1);
    write(b, p.x2, p.d2);
    TwoViewGeometry geometry;
    geometry.config = static_cast<int>(TwoViewConfig::kCalibrated);
    geometry.F = F;
    geometry.inlier_matches = {{0, 0}, {1, 1}, {2, 2}};
    // Written the other way round: the database keeps (a -> b) and transposes F.
    Matches swapped;
    for (const Match& m : geometry.inlier_matches) swapped.push_back({m.idx2, m.idx1});
    TwoViewGeometry reversed = geometry;
    reversed.inlier_matches = swapped;
    reversed.F = F.transpose();
    db.WriteTwoViewGeometry(b, a, reversed);
    EXPECT_TRUE(db.ReadTwoViewGeometry(a, b).F.isApprox(F));
  }
  MatchingOptions options;
  options.device = "cpu";
  MatchingSummary first, second;
  RunGuidedMatching(path, {{a, b}}, options, 4.0, &first);
  EXPECT_EQ(first.num_guided, 1u);
  Database db(path);
  const TwoViewGeometry extended = db.ReadTwoViewGeometry(a, b);
  EXPECT_EQ(extended.config, static_cast<int>(TwoViewConfig::kCalibrated));
  EXPECT_TRUE(extended.F.isApprox(F));  // the geometry is kept, only the inliers grow
  EXPECT_GT(extended.inlier_matches.size(), 90u);
  for (const Match& m : extended.inlier_matches) EXPECT_EQ(m.idx2, m.idx1);
  RunGuidedMatching(path, {{a, b}}, options, 4.0, &second);
  EXPECT_EQ(second.num_guided, 0u);  // resume: already extended
  EXPECT_EQ(db.ReadTwoViewGeometry(a, b).inlier_matches.size(), extended.inlier_matches.size());
}

}  // namespace
}  // namespace scalesfm
