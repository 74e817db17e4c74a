#include "matching/guided_matching.h"

#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <Eigen/LU>
#include <algorithm>
#include <cstring>
#include <random>
#include <set>

#include "matching/keypoint_grid.h"
#include "matching/matching_controller.h"
#include "tests/test_util.h"
#include "util/logging.h"

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

// A sideways translation: F = [t]_x with t = (1, 0, 0), whose epipolar lines are the image rows.
Eigen::Matrix3d SidewaysTranslationF() {
  Eigen::Matrix3d F;
  F << 0, 0, 0, 0, 0, -1, 0, 1, 0;
  return F;
}

std::vector<Eigen::Vector2d> Positions(const torch::Tensor& x) {
  std::vector<Eigen::Vector2d> out(x.size(0));
  for (int64_t i = 0; i < x.size(0); ++i) out[i] = {x[i][0].item<double>(), x[i][1].item<double>()};
  return out;
}

std::vector<Eigen::Vector2d> RandomPoints(int n, double extent, std::mt19937* rng) {
  std::uniform_real_distribution<double> u(0, extent);
  std::vector<Eigen::Vector2d> p(n);
  for (auto& x : p) x = {u(*rng), u(*rng)};
  return p;
}

std::set<std::pair<int32_t, int32_t>> AsSet(const CandidatePairs& c) {
  std::set<std::pair<int32_t, int32_t>> s;
  for (size_t k = 0; k < c.idx1.size(); ++k) s.insert({c.idx1[k], c.idx2[k]});
  EXPECT_EQ(s.size(), c.idx1.size()) << "a pair listed twice";
  return s;
}

TEST(GuidedMatching, SampsonErrorOfASidewaysTranslation) {
  // F x1 = (0, -1, y1) and F^T x2 = (0, 1, -y2), so the Sampson error is (y2 - y1)^2 / 2
  // whatever the x.
  const Eigen::Matrix3d F = SidewaysTranslationF();
  EXPECT_NEAR(SquaredSampsonError(F, {10, 20}, {400, 23}), 4.5, 1e-12);
  EXPECT_NEAR(SquaredSampsonError(F, {10, 20}, {-7, 20}), 0.0, 1e-12);
  EXPECT_NEAR(SquaredSampsonError(F.transpose(), {400, 23}, {10, 20}), 4.5, 1e-12);  // symmetric
}

TEST(GuidedMatching, KeypointGridVisitsEveryPointNearALineOrABox) {
  std::mt19937 rng(4);
  const std::vector<Eigen::Vector2d> points = RandomPoints(3000, 1000, &rng);
  // The automatic cell size (about 2 points per cell), and fine cells, where a band or a box cut
  // too narrow would miss points.
  for (const double cell_size : {0.0, 1.5}) {
    const KeypointGrid grid(points, cell_size);
    if (cell_size == 0) {
      EXPECT_GT(grid.cell_size(), 10);
    }
    std::uniform_real_distribution<double> u(-1, 1);
    for (int trial = 0; trial < 50; ++trial) {
      const Eigen::Vector3d line(u(rng), u(rng), 1000 * u(rng));
      const double r = 3 + 10 * std::abs(u(rng));
      std::set<int32_t> seen;
      grid.VisitBand(line, r, [&](int32_t j) { EXPECT_TRUE(seen.insert(j).second); });
      const Eigen::Vector3d unit = line / line.head<2>().norm();
      for (int32_t j = 0; j < 3000; ++j) {
        if (std::abs(unit.dot(points[j].homogeneous())) <= r) {
          ASSERT_TRUE(seen.count(j)) << "missed point " << j << " of line " << trial;
        }
      }
      EXPECT_LT(seen.size(), 600u);  // a band, not the whole image
      const Eigen::Vector2d c(1000 * std::abs(u(rng)), 1000 * std::abs(u(rng)));
      std::set<int32_t> in_box;
      grid.VisitBox(c.x() - r, c.y() - r, c.x() + r, c.y() + r,
                    [&](int32_t j) { in_box.insert(j); });
      for (int32_t j = 0; j < 3000; ++j) {
        if ((points[j] - c).cwiseAbs().maxCoeff() <= r) {
          ASSERT_TRUE(in_box.count(j));
        }
      }
    }
  }
}

TEST(GuidedMatching, CandidatePairsAreExactlyThePairsWithinTheError) {
  std::mt19937 rng(9);
  const std::vector<Eigen::Vector2d> x1 = RandomPoints(400, 1200, &rng);
  const std::vector<Eigen::Vector2d> x2 = RandomPoints(500, 1200, &rng);
  // A general F (epipoles inside and outside the images) and a general H.
  Eigen::Matrix3d F, H;
  F << 2e-7, -4e-6, 3e-3, 5e-6, 1e-7, -6e-3, -3e-3, 7e-3, 0.2;
  H << 1.3, 0.1, -40, -0.05, 1.2, 25, 1e-4, -2e-4, 1;
  for (const bool epipolar : {true, false}) {
    TwoViewGeometry geometry;
    geometry.config = static_cast<int>(epipolar ? TwoViewConfig::kUncalibrated
                                                : TwoViewConfig::kPlanarOrPanoramic);
    geometry.F = F;
    geometry.H = H;
    const double t = epipolar ? 2.0 : 20.0;
    const auto found = AsSet(GuidedCandidatePairs(x1, x2, geometry, t));
    std::set<std::pair<int32_t, int32_t>> expected;
    for (int32_t i = 0; i < 400; ++i) {
      for (int32_t j = 0; j < 500; ++j) {
        const bool ok =
            epipolar ? SquaredSampsonError(F, x1[i], x2[j]) <= t * t
                     : (x2[j] - (H * x1[i].homogeneous()).hnormalized()).norm() <= t &&
                           (x1[i] - (H.inverse() * x2[j].homogeneous()).hnormalized()).norm() <= t;
        if (ok) expected.insert({i, j});
      }
    }
    EXPECT_GT(expected.size(), 50u);
    EXPECT_EQ(found, expected) << (epipolar ? "F" : "H");
  }
}

TEST(GuidedMatching, EpipolarGeometryResolvesRepeatedTexture) {
  const Eigen::Matrix3d F = SidewaysTranslationF();  // epipolar lines are the rows y2 = y1
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
  const Matches matches =
      MatchGuided(p.d1, p.d2, Positions(p.x1), Positions(p.x2), geometry, 4.0, {});
  EXPECT_GT(matches.size(), 290u);
  for (const Match& m : matches) EXPECT_EQ(m.idx2, m.idx1);  // the true copy, never the twin
  // The other way round (F^T) gives the same pairs, swapped.
  geometry.F = F.transpose();
  const Matches back = MatchGuided(p.d2, p.d1, Positions(p.x2), Positions(p.x1), geometry, 4.0, {});
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
  const Matches matches =
      MatchGuided(p.d1, p.d2, Positions(p.x1), Positions(p.x2), geometry, 4.0, {});
  EXPECT_GT(matches.size(), 190u);
  for (const Match& m : matches) EXPECT_EQ(m.idx2, m.idx1);
  geometry.config = static_cast<int>(TwoViewConfig::kWatermark);
  EXPECT_TRUE(MatchGuided(p.d1, p.d2, Positions(p.x1), Positions(p.x2), geometry, 4.0, {}).empty());
  geometry.config = static_cast<int>(TwoViewConfig::kCalibrated);  // but F missing
  EXPECT_TRUE(MatchGuided(p.d1, p.d2, Positions(p.x1), Positions(p.x2), geometry, 4.0, {}).empty());
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

// The guided band follows --SiftMatching.max_error unless set on its own, and it is scalesfm's
// flag: COLMAP's verification gets max_error only (colmap would reject an unknown flag).
TEST(GuidedMatching, BandFollowsTheVerificationErrorUnlessSetAndStaysOutOfColmapArgs) {
  VerificationOptions v;
  v.max_error = 7.5;
  v.guided_max_error = 0;
  EXPECT_DOUBLE_EQ(v.GuidedMaxError(), 7.5);
  v.guided_max_error = 3;
  EXPECT_DOUBLE_EQ(v.GuidedMaxError(), 3);
  const std::vector<std::string> args = v.ToColmapArgs();
  for (const std::string& arg : args) EXPECT_EQ(arg.find("guided_max_error"), std::string::npos);
  const auto it = std::find(args.begin(), args.end(), "--SiftMatching.max_error");
  ASSERT_NE(it, args.end());
  EXPECT_DOUBLE_EQ(std::stod(*(it + 1)), 7.5);
}

// The pass runs for SIFT-style matching only: descriptors on every keypoint and a ratio test.
TEST(GuidedMatching, RunsOnlyWithDescriptorsAndTheRatioTest) {
  MatchingConfig options;
  EXPECT_EQ(GuidedMatchingSkipReason(options), "");
  options.matching.nn.max_ratio = 1.0;  // plain mutual NN, as eval_eth's learned-feature methods
  EXPECT_NE(GuidedMatchingSkipReason(options).find("ratio test"), std::string::npos);
  options.matching.nn.max_ratio = 0.8;
  options.matching.type = "s2dnet";  // its traits: new keypoints without descriptors
  EXPECT_NE(GuidedMatchingSkipReason(options).find("s2dnet"), std::string::npos);
}

// Images a and b of a repeated-texture pair under F, added to the database at `path` (created
// if absent): keypoints, descriptors, and a calibrated geometry with 3 verified inliers, written
// as (b, a).
void WriteVerifiedPair(const std::string& path, const Eigen::Matrix3d& F, image_t* a_out,
                       image_t* b_out) {
  static int count = 0;
  ++count;
  const RepeatedTexturePair p = MakePair(
      100,
      [](const torch::Tensor& x) {
        return x + torch::tensor({15.0f, 0.0f});
      },
      [](const torch::Tensor& x) {
        return x + torch::tensor({0.0f, 80.0f});
      });
  image_t& a = *a_out;
  image_t& b = *b_out;
  {
    Database db(path);
    Camera camera;
    camera.model_id = 0;
    camera.width = 1000;
    camera.height = 1000;
    camera.params = {1000, 500, 500};
    const camera_t camera_id = db.WriteCamera(camera);
    a = db.WriteImage({kInvalidImageId, StringPrintf("a%d.jpg", count), camera_id});
    b = db.WriteImage({kInvalidImageId, StringPrintf("b%d.jpg", count), camera_id});
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
}

TEST(GuidedMatching, ExtendsVerifiedPairsInTheDatabaseAndResumes) {
  const std::string path = test::MakeTempDir("guided_matching") + "/database.db";
  const Eigen::Matrix3d F = SidewaysTranslationF();
  image_t a = 0, b = 0;
  WriteVerifiedPair(path, F, &a, &b);
  MatchingOptions options;
  options.device = "cpu";
  MatchingSummary first, second;
  RunGuidedMatching(path, {{a, b}}, options, 100, 4.0, 0, &first);
  EXPECT_EQ(first.num_guided, 1u);
  Database db(path);
  const TwoViewGeometry extended = db.ReadTwoViewGeometry(a, b);
  EXPECT_EQ(extended.config, static_cast<int>(TwoViewConfig::kCalibrated));
  EXPECT_TRUE(extended.F.isApprox(F));  // the geometry is kept, only the inliers grow
  EXPECT_GT(extended.inlier_matches.size(), 90u);
  for (const Match& m : extended.inlier_matches) EXPECT_EQ(m.idx2, m.idx1);
  RunGuidedMatching(path, {{a, b}}, options, 100, 4.0, 0, &second);
  EXPECT_EQ(second.num_guided, 0u);  // resume: already extended
  EXPECT_EQ(db.ReadTwoViewGeometry(a, b).inlier_matches.size(), extended.inlier_matches.size());
}

TEST(GuidedMatching, LeavesPairsAboveTheInlierBoundAsVerified) {
  const Eigen::Matrix3d F = SidewaysTranslationF();
  MatchingOptions options;
  options.device = "cpu";
  // The pair has 3 verified inliers: a bound of 2 leaves it alone, a bound of 3 extends it.
  for (const int bound : {2, 3}) {
    const std::string path = test::MakeTempDir("guided_bound") + "/database.db";
    image_t a = 0, b = 0;
    WriteVerifiedPair(path, F, &a, &b);
    MatchingSummary summary;
    RunGuidedMatching(path, {{a, b}}, options, 100, 4.0, bound, &summary);
    Database db(path);
    const size_t inliers = db.ReadTwoViewGeometry(a, b).inlier_matches.size();
    if (bound == 2) {
      EXPECT_EQ(summary.num_guided, 0u);
      EXPECT_EQ(inliers, 3u);
      EXPECT_TRUE(db.ReadGuidedPairIds().empty());
    } else {
      EXPECT_EQ(summary.num_guided, 1u);
      EXPECT_GT(inliers, 90u);
    }
  }
}

// The pairs' searches run on --Matching.num_threads threads: the database is the same with one
// thread and with two, across several transactions.
TEST(GuidedMatching, SameInliersWithOneThreadAndWithTwo) {
  std::vector<Eigen::Matrix3d> geometries;
  for (int k = 0; k < 5; ++k) {
    Eigen::Matrix3d F = SidewaysTranslationF();
    F(0, 2) += 1e-4 * k;  // a slightly different band per pair
    geometries.push_back(F);
  }
  std::vector<std::vector<Matches>> results;
  for (const int threads : {1, 2}) {
    const std::string path = test::MakeTempDir("guided_threads") + "/database.db";
    ImagePairs pairs;
    for (const Eigen::Matrix3d& F : geometries) {
      image_t a = 0, b = 0;
      WriteVerifiedPair(path, F, &a, &b);
      pairs.emplace_back(a, b);
    }
    MatchingOptions options;
    options.device = "cpu";
    options.num_threads = threads;
    options.pairs_per_commit = 2;
    MatchingSummary summary;
    RunGuidedMatching(path, pairs, options, 100, 4.0, 0, &summary);
    EXPECT_EQ(summary.num_guided, pairs.size());
    Database db(path);
    results.emplace_back();
    for (const auto& [a, b] : pairs) {
      results.back().push_back(db.ReadTwoViewGeometry(a, b).inlier_matches);
      EXPECT_GT(results.back().back().size(), 90u);
    }
  }
  ASSERT_EQ(results[0].size(), results[1].size());
  for (size_t k = 0; k < results[0].size(); ++k) {
    ASSERT_EQ(results[0][k].size(), results[1][k].size()) << k;
    for (size_t i = 0; i < results[0][k].size(); ++i) {
      EXPECT_EQ(results[0][k][i].idx1, results[1][k][i].idx1);
      EXPECT_EQ(results[0][k][i].idx2, results[1][k][i].idx2);
    }
  }
}

}  // namespace
}  // namespace scalesfm
