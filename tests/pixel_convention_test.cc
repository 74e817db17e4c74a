// COLMAP puts the centre of the first pixel at (0.5, 0.5); OpenCV at (0, 0). These tests pin the
// one conversion at the OpenCV boundary, including the downscaled-extraction path.
#include <gtest/gtest.h>

#include <cmath>

#include "feature/image_io.h"
#include "feature/sift_extractor.h"

namespace scalesfm {
namespace {

// A bright Gaussian blob whose centre is at (cx, cy) in COLMAP coordinates.
cv::Mat BlobImage(int width, int height, double cx, double cy, double sigma) {
  cv::Mat image(height, width, CV_8U);
  for (int r = 0; r < height; ++r) {
    for (int c = 0; c < width; ++c) {
      const double x = c + 0.5, y = r + 0.5;  // pixel centre in COLMAP coordinates
      const double g = std::exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / (2 * sigma * sigma));
      image.at<uint8_t>(r, c) = cv::saturate_cast<uint8_t>(20 + 220 * g);
    }
  }
  return image;
}

const Keypoint* Nearest(const Keypoints& kps, double x, double y) {
  const Keypoint* best = nullptr;
  double best_d = 1e9;
  for (const Keypoint& kp : kps) {
    const double d = std::hypot(kp.x - x, kp.y - y);
    if (d < best_d) {
      best_d = d;
      best = &kp;
    }
  }
  return best;
}

TEST(PixelConvention, Conversions) {
  EXPECT_FLOAT_EQ(OpenCvToColmap(0.f), 0.5f);
  EXPECT_FLOAT_EQ(ColmapToOpenCv(0.5f), 0.f);
  EXPECT_FLOAT_EQ(ColmapToOpenCv(OpenCvToColmap(12.25f)), 12.25f);
}

TEST(PixelConvention, SiftKeypointsAreInColmapCoordinates) {
  // Centre on a pixel centre (OpenCV (100, 80)) = COLMAP (100.5, 80.5).
  const cv::Mat image = BlobImage(200, 160, 100.5, 80.5, 5.0);
  SiftExtractor sift(ExtractionOptions{});
  const FeatureSet f = sift.Extract(image);
  ASSERT_FALSE(f.keypoints.empty());
  const Keypoint* kp = Nearest(f.keypoints, 100.5, 80.5);
  EXPECT_NEAR(kp->x, 100.5, 0.15);
  EXPECT_NEAR(kp->y, 80.5, 0.15);
}

TEST(PixelConvention, DownscaledExtractionMapsBackExactly) {
  // Blob centred at COLMAP (200, 160) of a 400x320 image; extract at half size, map back.
  const cv::Mat image = BlobImage(400, 320, 200.0, 160.0, 10.0);
  double sx, sy;
  const cv::Mat small = DownscaleToMaxSize(image, 200, &sx, &sy);
  EXPECT_EQ(small.cols, 200);
  EXPECT_DOUBLE_EQ(sx, 2.0);
  SiftExtractor sift(ExtractionOptions{});
  const FeatureSet f = sift.Extract(small);
  ASSERT_FALSE(f.keypoints.empty());
  const Keypoint* kp = Nearest(f.keypoints, 100.0, 80.0);
  EXPECT_NEAR(kp->x * sx, 200.0, 0.3);
  EXPECT_NEAR(kp->y * sy, 160.0, 0.3);
}

TEST(RootSift, QuantisesLikeColmap) {
  cv::Mat d = cv::Mat::zeros(1, 128, CV_32F);
  d.at<float>(0, 0) = 3;
  d.at<float>(0, 1) = 1;
  const DescriptorsU8 q = RootSiftToUint8(d);
  // L1: (0.75, 0.25) -> sqrt: (0.866, 0.5) -> 512x, clamped: (255, 256 -> 255).
  EXPECT_EQ(q(0, 0), 255);
  EXPECT_EQ(q(0, 1), 255);
  EXPECT_EQ(q(0, 2), 0);
  cv::Mat e = cv::Mat::ones(1, 128, CV_32F);
  const DescriptorsU8 u = RootSiftToUint8(e);
  EXPECT_EQ(u(0, 5), static_cast<uint8_t>(std::round(512 * std::sqrt(1.0 / 128))));
}

}  // namespace
}  // namespace scalesfm
