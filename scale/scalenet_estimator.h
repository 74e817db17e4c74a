// ScaleNet and D-ScaleNet as scale estimators. ScaleNet: soft scale (eq. 2) with the
// consistency check (eq. 3). D-ScaleNet: the argmax bin (hard assignment). Images are
// letterboxed to the network's input size; the canvas scale is mapped back to the originals.
#pragma once

#include <torch/torch.h>

#include "scale/scale_estimator.h"
#include "scale/scalenet.h"

namespace scalesfm {

class ScaleNetEstimator : public ScaleEstimator {
 public:
  ScaleNetEstimator(const ScaleEstimatorOptions& options, bool discrete);
  ScaleEstimate Estimate(const cv::Mat& image1, const cv::Mat& image2) override;

  // Per-image features, computed once and reused across pairs.
  struct ImageFeatures {
    ScaleNetImageFeatures net;
    double letterbox_factor = 1;  // canvas pixels per image pixel
  };
  ImageFeatures ComputeImageFeatures(const cv::Mat& gray);
  ScaleEstimate EstimateFromFeatures(const ImageFeatures& a, const ImageFeatures& b);

 private:
  bool discrete_;
  torch::Device device_;
  ScaleNet model_{nullptr};
};

}  // namespace scalesfm
