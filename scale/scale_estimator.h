// The scale-estimator interface: s(A->B), how many times larger A's content appears in B.
// Estimators register by name in one table (scale_estimator.cc) and map 1:1 to
// --ScaleMatching.estimator.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace scalesfm {

// D-ScaleNet's discretisation: L = 13 bins s_t = sqrt(2)^t, t = -6..6.
constexpr int kNumScaleBins = 13;
double ScaleBinCenter(int bin);  // bin in [0, 12] -> sqrt(2)^(bin - 6)
int NearestScaleBin(double scale);

struct ScaleEstimate {
  double scale = 1.0;
  int bin = kNumScaleBins / 2;
  std::vector<double> probs;  // kNumScaleBins entries summing to 1
  size_t support = 0;         // evidence behind the estimate (e.g. votes)
};

struct ScaleEstimatorOptions {
  std::string estimator = "sift_vote";
  // ScaleNet weights; empty: models/scalenet_compact.pt of the source tree (or $SCALESFM_MODELS).
  std::string weights;
  int max_num_features = 4096;
  int max_image_size = 1024;
  std::string device = "auto";
};

// The weights file used when ScaleEstimatorOptions::weights is empty.
std::string DefaultScaleNetWeights();

class ScaleEstimator {
 public:
  virtual ~ScaleEstimator() = default;
  // 8-bit grayscale images.
  virtual ScaleEstimate Estimate(const cv::Mat& image1, const cv::Mat& image2) = 0;

  static std::unique_ptr<ScaleEstimator> Create(const ScaleEstimatorOptions& options);
  static std::vector<std::string> Names();
};

}  // namespace scalesfm
