// Scale levels, SDAIM level selection and the keypoint merge across levels.
#include "feature/scale_levels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "feature/keypoint_merge.h"
#include "matching/level_selection.h"
#include "util/logging.h"

namespace scalesfm {
namespace {

TEST(ScaleLevels, AutoIsSqrt2StepsFromOneEighthToSqrt2) {
  const std::vector<double> f = ParseLevelSpec("auto");
  ASSERT_EQ(f.size(), size_t(kAutoMaxLevelStep - kAutoMinLevelStep + 1));
  EXPECT_NEAR(f.front(), std::pow(std::sqrt(2.0), kAutoMaxLevelStep), 1e-12);
  EXPECT_NEAR(f.back(), 0.125, 1e-12);
  for (size_t i = 1; i < f.size(); ++i) EXPECT_NEAR(f[i - 1] / f[i], std::sqrt(2.0), 1e-12);
}

TEST(ScaleLevels, ListIsSortedAndDeduplicatedAndBadInputIsAClearError) {
  EXPECT_EQ(ParseLevelSpec("0.5,1,0.5,2"), (std::vector<double>{2, 1, 0.5}));
  EXPECT_EQ(ParseLevelSpec("1"), (std::vector<double>{1}));
  for (const char* bad : {"", "0", "-1", "abc", "1,,2", "1x"}) {
    EXPECT_THROW(ParseLevelSpec(bad), Error) << bad;
  }
}

TEST(ScaleLevels, UpsampledLevelsOnlyWithinMaxImageSize) {
  const std::vector<double> f = {2, std::sqrt(2.0), 1, 0.5, 0.125};
  // 768 px: x2 = 1536 > 1200 is dropped, x1.41 = 1086 stays.
  EXPECT_EQ(LevelsForImage(f, 768, 512, 1200).front(), std::sqrt(2.0));
  // 100x60: 0.125 would leave 7.5 px on the short side and is dropped.
  const std::vector<double> small = LevelsForImage(f, 100, 60, 3200);
  EXPECT_EQ(small.back(), 1.0);
  // A 4000 px image with max 1000: only 0.125 fits.
  EXPECT_EQ(LevelsForImage(f, 4000, 3000, 1000), (std::vector<double>{0.125}));
  // Nothing fits: the single downscaled level.
  EXPECT_EQ(LevelsForImage({1}, 4000, 3000, 1000), (std::vector<double>{0.25}));
}

TEST(LevelSelection, NoScaleChangeUsesTheNativeLevels) {
  const std::vector<double> levels = ParseLevelSpec("auto");
  const LevelChoice c = SelectLevelPair(1.0, levels, levels);
  EXPECT_EQ(levels[c.level_a], 1.0);
  EXPECT_EQ(levels[c.level_b], 1.0);
  EXPECT_EQ(levels[NativeLevel(levels)], 1.0);
}

TEST(LevelSelection, ResizesHalfwayLikeSdaim) {
  const std::vector<double> levels = {std::sqrt(2.0),       1,    1 / std::sqrt(2.0),     0.5,
                                      0.5 / std::sqrt(2.0), 0.25, 0.125 * std::sqrt(2.0), 0.125};
  // s = 4: A's content is 4x larger in B. Halfway: A x2 is not available, so the nearest exact
  // ratio pairs are (sqrt2, sqrt2/4) and (1, 1/4); (sqrt2, sqrt2/4) is nearer the halfway split.
  LevelChoice c = SelectLevelPair(4.0, levels, levels);
  EXPECT_NEAR(levels[c.level_a] / levels[c.level_b], 4.0, 1e-9);
  EXPECT_NEAR(levels[c.level_a], std::sqrt(2.0), 1e-9);
  EXPECT_NEAR(c.residual_log2, 0.0, 1e-9);
  // s = 1/4 is the mirror image.
  c = SelectLevelPair(0.25, levels, levels);
  EXPECT_NEAR(levels[c.level_b], std::sqrt(2.0), 1e-9);
  EXPECT_NEAR(levels[c.level_b] / levels[c.level_a], 4.0, 1e-9);
  // s = 2: halfway is (sqrt2, 1/sqrt2), which exists.
  c = SelectLevelPair(2.0, levels, levels);
  EXPECT_NEAR(levels[c.level_a], std::sqrt(2.0), 1e-9);
  EXPECT_NEAR(levels[c.level_b], 1 / std::sqrt(2.0), 1e-9);
  // s = 16 is beyond the levels (ratio at most sqrt2 * 8): the largest ratio is used.
  c = SelectLevelPair(16.0, levels, levels);
  EXPECT_NEAR(levels[c.level_a] / levels[c.level_b], 8 * std::sqrt(2.0), 1e-9);
  EXPECT_NEAR(c.residual_log2, 0.5, 1e-9);
  // Between two bins: s = 3 rounds to a ratio within half a step (0.25 octave).
  c = SelectLevelPair(3.0, levels, levels);
  EXPECT_LE(std::abs(c.residual_log2), 0.25 + 1e-9);
  EXPECT_THROW(SelectLevelPair(0.0, levels, levels), Error);
  EXPECT_THROW(SelectLevelPair(2.0, {}, levels), Error);
}

TEST(LevelSelection, SingleLevelImagesFallBackToTheirOnlyLevel) {
  const LevelChoice c = SelectLevelPair(8.0, {1.0}, ParseLevelSpec("auto"));
  EXPECT_EQ(c.level_a, 0);
  EXPECT_NEAR(ParseLevelSpec("auto")[c.level_b], 0.125, 1e-9);
}

Keypoint Kp(float x, float y, float scale) {
  return Keypoint::FromScaleOrientation(x, y, scale, 0);
}

TEST(KeypointMerge, SameSpotAndScaleAcrossLevelsBecomesOneKeypoint) {
  std::vector<LevelKeypoints> levels(2);
  levels[0].factor = 1.0;
  levels[0].keypoints = {Kp(10, 10, 2), Kp(50, 50, 3)};
  levels[1].factor = 0.5;                   // its pixels are 2 original pixels: radius 1.5 -> 3 px
  levels[1].keypoints = {Kp(11.5, 9, 2.4),  // near kp 0, compatible scale: joins it
                         Kp(50, 50, 12),    // same spot as kp 1 but 2 octaves larger: new
                         Kp(100, 100, 3)};  // elsewhere: new
  const MergedKeypoints m = MergeLevelKeypoints(levels, {});
  ASSERT_EQ(m.keypoints.size(), 4u);
  EXPECT_EQ(m.index[0], (std::vector<point2D_t>{0, 1}));
  EXPECT_EQ(m.index[1], (std::vector<point2D_t>{0, 2, 3}));
  // The merged keypoint keeps the geometry of the level that created it.
  EXPECT_FLOAT_EQ(m.keypoints[0].x, 10);
  EXPECT_EQ(m.source[0], (std::pair<int, point2D_t>{0, 0}));
  EXPECT_EQ(m.source[3], (std::pair<int, point2D_t>{1, 2}));
}

TEST(KeypointMerge, RadiusIsMeasuredInPixelsOfTheCoarserLevel) {
  std::vector<LevelKeypoints> levels(2);
  levels[0].keypoints = {Kp(10, 10, 4)};
  levels[1].factor = 0.25;  // radius 1.5 level pixels = 6 original pixels
  levels[1].keypoints = {Kp(15, 10, 4)};
  EXPECT_EQ(MergeLevelKeypoints(levels, {}).keypoints.size(), 1u);
  levels[1].keypoints = {Kp(17, 10, 4)};
  EXPECT_EQ(MergeLevelKeypoints(levels, {}).keypoints.size(), 2u);
  KeypointMergeOptions off;
  off.radius = 0;
  levels[1].keypoints = {Kp(10, 10, 4)};
  EXPECT_EQ(MergeLevelKeypoints(levels, off).keypoints.size(), 2u);
}

TEST(KeypointMerge, EachMergedKeypointTakesAtMostOneKeypointPerLevel) {
  // Two keypoints of level 1 near one keypoint of level 0: only the first joins it and the other
  // becomes a new keypoint, so level-1 matches still map to distinct merged keypoints.
  std::vector<LevelKeypoints> levels(2);
  levels[0].keypoints = {Kp(10, 10, 2)};
  levels[1].factor = 0.5;
  levels[1].keypoints = {Kp(12, 10, 2), Kp(10.5, 10, 2)};
  const MergedKeypoints m = MergeLevelKeypoints(levels, {});
  EXPECT_EQ(m.index[1], (std::vector<point2D_t>{0, 1}));
  // Keypoints of one level never merge with each other.
  levels.resize(1);
  levels[0].keypoints = {Kp(10, 10, 2), Kp(10, 10, 2)};
  EXPECT_EQ(MergeLevelKeypoints(levels, {}).keypoints.size(), 2u);
}

TEST(KeypointMerge, ManyLevelsMapInjectively) {
  // A grid of blobs seen at 4 levels with small jitter: every level maps injectively and most
  // keypoints merge.
  std::vector<LevelKeypoints> levels;
  for (double f : {1.0, 0.7071, 0.5, 0.3536}) {
    LevelKeypoints l;
    l.factor = f;
    for (int y = 0; y < 20; ++y) {
      for (int x = 0; x < 20; ++x) {
        l.keypoints.push_back(Kp(20 * x + 0.3f * float(f), 20 * y - 0.2f, 3));
      }
    }
    levels.push_back(l);
  }
  const MergedKeypoints m = MergeLevelKeypoints(levels, {});
  EXPECT_EQ(m.keypoints.size(), 400u);
  for (const auto& index : m.index) {
    EXPECT_EQ(std::set<point2D_t>(index.begin(), index.end()).size(), index.size());
  }
}

}  // namespace
}  // namespace scalesfm
