// COLMAP puts the centre of the first pixel at (0.5, 0.5); OpenCV at (0, 0). These tests pin the
// one conversion at the OpenCV boundary, including the downscaled-extraction path.
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgcodecs.hpp>

#include "feature/image_io.h"
#include "feature/network_input.h"
#include "feature/sift_extractor.h"
#include "tests/test_util.h"
#include "util/logging.h"

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

// The official models read RGB: ReadImage(path, 3) gives channels R, G, B (OpenCV decodes BGR),
// and the network input is ImageNet-normalised RGB, padded or cropped without moving pixels.
TEST(NetworkInput, RgbChannelOrderAndStrideFit) {
  const std::string dir = test::MakeTempDir("network_input");
  cv::Mat bgr(20, 35, CV_8UC3, cv::Scalar(10, 20, 200));  // B, G, R: a red image
  bgr.at<cv::Vec3b>(3, 4) = cv::Vec3b(255, 0, 0);         // one blue pixel
  ASSERT_TRUE(cv::imwrite(dir + "/red.png", bgr));
  std::string error;
  const cv::Mat rgb = ReadImage(dir + "/red.png", 3, &error);
  ASSERT_EQ(rgb.type(), CV_8UC3) << error;
  EXPECT_EQ(rgb.at<cv::Vec3b>(0, 0), cv::Vec3b(200, 20, 10));
  EXPECT_EQ(rgb.at<cv::Vec3b>(3, 4), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(ReadImage(dir + "/red.png", 1, &error).type(), CV_8UC1);

  const torch::Tensor padded = ImageToNetworkInput(rgb, 16, 3, NetworkInputFit::kPad, "test");
  EXPECT_EQ(padded.sizes(), (std::vector<int64_t>{1, 3, 32, 48}));
  // Channel 0 is R, ImageNet-normalised: (200 / 255 - 0.485) / 0.229.
  EXPECT_NEAR(padded[0][0][0][0].item<float>(), (200 / 255.0 - 0.485) / 0.229, 1e-5);
  EXPECT_NEAR(padded[0][2][3][4].item<float>(), (255 / 255.0 - 0.406) / 0.225, 1e-5);
  EXPECT_NEAR(padded[0][0][31][47].item<float>(), (0 - 0.485) / 0.229, 1e-5);  // padding
  const torch::Tensor cropped = ImageToNetworkInput(rgb, 16, 3, NetworkInputFit::kCrop, "test");
  EXPECT_EQ(cropped.sizes(), (std::vector<int64_t>{1, 3, 16, 32}));
  EXPECT_TRUE(torch::equal(cropped, padded.slice(2, 0, 16).slice(3, 0, 32)));
  // A grey network gets the grey value; a grey image on an RGB network is replicated.
  const torch::Tensor grey = ImageToNetworkInput(rgb, 1, 1, NetworkInputFit::kPad, "test");
  EXPECT_NEAR(grey[0][0][0][0].item<float>(),
              std::round(0.299 * 200 + 0.587 * 20 + 0.114 * 10) / 255, 1e-6);
  const torch::Tensor replicated = ImageToNetworkInput(cv::Mat(16, 16, CV_8UC1, cv::Scalar(128)),
                                                       16, 3, NetworkInputFit::kPad, "test");
  EXPECT_NEAR(replicated[0][1][5][5].item<float>(), (128 / 255.0 - 0.456) / 0.224, 1e-5);
  EXPECT_THROW(ImageToNetworkInput(cv::Mat(8, 8, CV_8UC3), 16, 3, NetworkInputFit::kCrop, "t"),
               Error);
}

}  // namespace
}  // namespace scalesfm
