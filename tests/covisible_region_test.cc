#include "matching/covisible_region.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "eval_common/method_presets.h"
#include "matching/level_matcher.h"
#include "matching/matching_options.h"
#include "tests/test_util.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

Keypoints At(const std::vector<std::pair<float, float>>& xy) {
  Keypoints out;
  for (const auto& [x, y] : xy) out.push_back(Keypoint::FromScaleOrientation(x, y, 2, 0));
  return out;
}

TEST(CovisibleRegion, InsideTheHullOrWithinTheMargin) {
  const std::vector<Eigen::Vector2d> square = {{0, 0}, {100, 0}, {100, 100}, {0, 100}, {50, 50}};
  const Keypoints k = At({{50, 50}, {99, 1}, {105, 50}, {120, 50}, {50, -9}, {50, -11}});
  EXPECT_EQ(InsideHull(square, k, 10), (std::vector<bool>{true, true, true, false, true, false}));
  EXPECT_EQ(InsideHull(square, k, 0), (std::vector<bool>{true, true, false, false, false, false}));
  // Fewer than 3 points, or collinear ones, span no region: nothing is inside.
  EXPECT_EQ(InsideHull({{0, 0}, {100, 0}}, k, 10), std::vector<bool>(k.size(), false));
  EXPECT_EQ(InsideHull({{0, 0}, {50, 0}, {100, 0}}, k, 10), std::vector<bool>(k.size(), false));
}

// Two images at one pose (PINHOLE 640x480, f 500); the GT points lie in the left half of both.
// Keypoints 0 and 1 of each image are inside that region, 2 and 3 in the right half, and
// keypoint k of A has the same descriptor as keypoint k of B.
class CovisibleRegionMatching : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::MakeTempDir("covisible_region");
    gt_ = dir_ + "/gt";
    std::filesystem::create_directories(gt_);
    std::ofstream(gt_ + "/cameras.txt") << "1 PINHOLE 640 480 500 500 320 240\n";
    std::ofstream(gt_ + "/images.txt") << "1 1 0 0 0 0 0 0 1 a.jpg\n\n2 1 0 0 0 0 0 0 1 b.jpg\n\n";
    std::ofstream points(gt_ + "/points3D.txt");
    int id = 1;
    for (double x = -6; x <= -1; x += 1) {
      for (double y = -4; y <= 4; y += 2) {  // u in [20, 270], v in [40, 440]
        points << id << " " << x << " " << y << " 10 0 0 0 0.1 1 " << id << " 2 " << id << "\n";
        ++id;
      }
    }
    points.close();
    db_ = std::make_unique<Database>(dir_ + "/database.db");
    Camera camera;
    camera.model_id = 1;  // PINHOLE
    camera.width = 640;
    camera.height = 480;
    camera.params = {500, 500, 320, 240};
    const camera_t camera_id = db_->WriteCamera(camera);
    DescriptorsU8 descriptors = DescriptorsU8::Constant(4, 128, 1);
    for (int k = 0; k < 4; ++k) descriptors.block(k, 32 * k, 1, 32).setConstant(90);
    for (const char* name : {"a.jpg", "b.jpg"}) {
      const image_t id = db_->WriteImage({kInvalidImageId, name, camera_id});
      db_->WriteKeypoints(id, At({{100, 200}, {200, 300}, {500, 200}, {600, 300}}));
      db_->WriteDescriptors(id, descriptors);
    }
    images_ = db_->ReadAllImages();
  }

  std::string dir_, gt_;
  std::unique_ptr<Database> db_;
  std::vector<Image> images_;
};

TEST_F(CovisibleRegionMatching, TheOracleMatchesOnlyInsideTheGtRegion) {
  const image_t a = images_[0].image_id, b = images_[1].image_id;
  GtCovisibleRegions regions(gt_, db_.get(), images_);
  const auto [mask_a, mask_b] = regions.Masks(a, b);
  EXPECT_EQ(mask_a, (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(mask_b, (std::vector<bool>{true, true, false, false}));

  LevelMatcher levels(db_.get(), images_, torch::kCPU, NnMatchOptions(), 4);
  const auto pairs = [](const Matches& m) {
    std::vector<std::pair<int, int>> out;
    for (const Match& x : m) out.emplace_back(int(x.idx1), int(x.idx2));
    return out;
  };
  using P = std::vector<std::pair<int, int>>;
  EXPECT_EQ(pairs(levels.MatchNative(a, b)), (P{{0, 0}, {1, 1}, {2, 2}, {3, 3}}));
  levels.RestrictTo(&regions);
  EXPECT_EQ(pairs(levels.MatchNative(a, b)), (P{{0, 0}, {1, 1}}));
  EXPECT_EQ(pairs(levels.MatchNative(b, a)), (P{{0, 0}, {1, 1}}));
}

TEST_F(CovisibleRegionMatching, TheOracleNeedsAGtModelWithPointsAndEveryImage) {
  ScaleMatchingOptions options;
  options.gt_region = true;
  EXPECT_THROW(options.Check(), Error) << "gt_region without --ScaleMatching.gt_path";
  options.estimator.gt_path = gt_;
  EXPECT_NO_THROW(options.Check());
  std::vector<Image> others = images_;
  others[1].name = "other.jpg";
  EXPECT_THROW(GtCovisibleRegions(gt_, db_.get(), others), Error);
  std::ofstream(gt_ + "/points3D.txt") << "# no points\n";
  EXPECT_THROW(GtCovisibleRegions(gt_, db_.get(), images_), Error);
  // eval_eth offers the oracle as a method, with the gt scale.
  MethodConfig config;
  ASSERT_TRUE(ConfigureScalesfmMethod("scalesfm-gt-region", &config));
  EXPECT_EQ(config.scale.estimator.estimator, "gt");
  EXPECT_TRUE(config.scale.gt_region);
}

}  // namespace
}  // namespace scalesfm
