// IMC protocol pieces: bag sampling, default bag counts and the stereo pose error.
#include "eval_imc/imc_evaluation.h"

#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <filesystem>
#include <random>
#include <set>

#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

TEST(ImcBags, AreDistinctSortedDeterministicAndBounded) {
  const auto bags = SampleBags(19, 5, 19, 0);
  ASSERT_EQ(bags.size(), 19u);
  std::set<std::vector<int>> distinct(bags.begin(), bags.end());
  EXPECT_EQ(distinct.size(), bags.size());
  for (const auto& bag : bags) {
    EXPECT_EQ(bag.size(), 5u);
    EXPECT_TRUE(std::is_sorted(bag.begin(), bag.end()));
    EXPECT_GE(bag.front(), 0);
    EXPECT_LT(bag.back(), 19);
  }
  EXPECT_EQ(SampleBags(19, 5, 19, 0), bags);
  EXPECT_NE(SampleBags(19, 5, 19, 1), bags);
  // Only C(6,5) = 6 distinct bags exist.
  EXPECT_EQ(SampleBags(6, 5, 100, 0).size(), 6u);
  EXPECT_TRUE(SampleBags(4, 5, 3, 0).empty());
}

TEST(ImcBags, DefaultCountsScaleTheIMCCountsToTheScene) {
  EXPECT_EQ(DefaultBagCount(100, 5), 100);
  EXPECT_EQ(DefaultBagCount(100, 10), 50);
  EXPECT_EQ(DefaultBagCount(100, 25), 25);
  EXPECT_EQ(DefaultBagCount(19, 5), 19);
  EXPECT_EQ(DefaultBagCount(19, 10), 10);
  EXPECT_EQ(DefaultBagCount(10, 10), 1);  // one distinct bag
  EXPECT_EQ(DefaultBagCount(8, 5), 8);
}

struct StereoScene {
  Camera camera;
  ModelImage a, b;
  std::vector<Eigen::Vector2d> pa, pb;
};

StereoScene MakeStereoScene(int num_points, double noise_px, double outlier_fraction) {
  StereoScene s;
  s.camera = MakeDefaultCamera("PINHOLE", 640, 480, 500, false);
  s.a.name = "a";
  s.b.name = "b";
  s.b.q = Eigen::Quaterniond(Eigen::AngleAxisd(0.2, Eigen::Vector3d(0.1, 1, 0).normalized()));
  s.b.t = Eigen::Vector3d(-1, 0.1, 0.2);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  std::normal_distribution<double> n(0, noise_px);
  auto project = [&](const ModelImage& im, const Eigen::Vector3d& x) {
    const Eigen::Vector3d c = im.R() * x + im.t;
    return Eigen::Vector2d(500 * c.x() / c.z() + 320, 500 * c.y() / c.z() + 240);
  };
  while (static_cast<int>(s.pa.size()) < num_points) {
    const Eigen::Vector3d x(3 * u(rng), 2 * u(rng), 6 + 3 * u(rng));
    const Eigen::Vector2d p1 = project(s.a, x), p2 = project(s.b, x);
    if (p1.x() < 0 || p1.x() > 640 || p2.x() < 0 || p2.x() > 640) continue;
    s.pa.push_back(p1 + Eigen::Vector2d(n(rng), n(rng)));
    if (u(rng) * 0.5 + 0.5 < outlier_fraction) {
      s.pb.emplace_back(320 + 300 * u(rng), 240 + 220 * u(rng));
    } else {
      s.pb.push_back(p2 + Eigen::Vector2d(n(rng), n(rng)));
    }
  }
  return s;
}

TEST(ImcStereo, RecoversTheGtRelativePoseDespiteOutliers) {
  const StereoScene s = MakeStereoScene(300, 0.3, 0.3);
  const PairPoseError e = StereoPoseError(s.pa, s.pb, s.camera, s.camera, s.a, s.b, 1.0);
  EXPECT_LT(e.rotation_deg, 0.5);
  EXPECT_LT(e.translation_deg, 1.5);
  EXPECT_EQ(e.error_deg, std::max(e.rotation_deg, e.translation_deg));
}

TEST(ImcStereo, TooFewMatchesFailThePair) {
  const StereoScene s = MakeStereoScene(4, 0, 0);
  const PairPoseError e = StereoPoseError(s.pa, s.pb, s.camera, s.camera, s.a, s.b, 1.0);
  EXPECT_TRUE(std::isinf(e.error_deg));
  EXPECT_EQ(MeanAverageAccuracy({e}, 10), 0.0);
}

TEST(ImcOptions, BadInputIsAClearError) {
  ImcEvaluationOptions o;
  o.output_path = "/tmp/x";
  EXPECT_THROW(o.Check(), Error);  // no dataset
  o.dataset_paths = {"/nonexistent_scalesfm_dataset"};
  try {
    o.Check();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no images/ folder"), std::string::npos) << e.what();
  }
}

TEST(ImcEvaluation, SyntheticSceneScoresHighOnBothTasks) {
  if (!test::HaveColmap()) GTEST_SKIP() << "colmap binary not installed";
  ImcEvaluationOptions o;
  o.dataset_paths = {test::SyntheticSceneDir()};
  o.output_path = test::MakeTempDir("imc");
  o.methods = {"scalesfm"};
  o.max_num_features = 2048;
  o.bag_sizes = {5, 25};
  o.bag_counts = {2, 1};
  const std::vector<ImcResult> results = RunImcEvaluation(o, ColmapRunner());
  ASSERT_EQ(results.size(), 2u);  // stereo + bags of 5; 25 > 8 images is skipped
  EXPECT_EQ(results[0].task, "stereo");
  EXPECT_EQ(results[0].num_items, 28u);
  EXPECT_GE(results[0].maa10, 0.5);  // measured 0.67: pairs with little overlap fail
  EXPECT_EQ(results[1].task, "multiview-5");
  EXPECT_EQ(results[1].num_items, 2u);
  EXPECT_GE(results[1].maa10, 0.9);
  EXPECT_DOUBLE_EQ(results[1].registered_fraction, 1.0);
  for (const char* f : {"imc_results.csv", "imc_results.json", "imc_results.md"}) {
    EXPECT_TRUE(std::filesystem::exists(o.output_path + "/" + f)) << f;
  }
}

}  // namespace
}  // namespace scalesfm
