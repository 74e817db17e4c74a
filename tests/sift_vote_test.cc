#include "scale/sift_vote.h"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/test_util.h"

namespace scalesfm {
namespace {

TEST(ScaleBins, AreSqrt2Apart) {
  EXPECT_DOUBLE_EQ(ScaleBinCenter(6), 1.0);
  EXPECT_NEAR(ScaleBinCenter(8), 2.0, 1e-12);
  EXPECT_NEAR(ScaleBinCenter(0), 0.125, 1e-12);
  EXPECT_EQ(NearestScaleBin(1.0), 6);
  EXPECT_EQ(NearestScaleBin(4.0), 10);
  EXPECT_EQ(NearestScaleBin(1000.0), 12);
  EXPECT_EQ(NearestScaleBin(0.001), 0);
}

TEST(SiftVote, RobustModeIgnoresOutliers) {
  std::vector<double> votes(60, 1.0);
  for (int i = 0; i < 30; ++i) votes.push_back(-3.0 + 0.2 * i);  // spread-out outliers
  EXPECT_NEAR(RobustLog2Mode(votes), 1.0, 1e-9);
  EXPECT_EQ(RobustLog2Mode({}), 0.0);
}

TEST(SiftVote, EstimatesAKnownZoom) {
  // A crop of a synthetic view, magnified 2x: content appears 2x larger in B.
  const cv::Mat a =
      cv::imread(test::SyntheticSceneDir() + "/images/0000.png", cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(a.empty());
  const cv::Rect roi(a.cols / 4, a.rows / 4, a.cols / 2, a.rows / 2);
  cv::Mat b;
  cv::resize(a(roi), b, cv::Size(), 2.0, 2.0, cv::INTER_CUBIC);
  SiftVoteEstimator estimator(ScaleEstimatorOptions{});
  const ScaleEstimate ab = estimator.EstimateImages(a, b);
  EXPECT_NEAR(std::log2(ab.scale), 1.0, 0.15);
  EXPECT_EQ(ab.bin, NearestScaleBin(2.0));
  double sum = 0;
  for (double p : ab.probs) sum += p;
  EXPECT_NEAR(sum, 1.0, 1e-9);
  const ScaleEstimate ba = estimator.EstimateImages(b, a);
  EXPECT_NEAR(std::log2(ba.scale), -1.0, 0.15);
}

}  // namespace
}  // namespace scalesfm
