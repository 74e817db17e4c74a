// Scale-Net with CVARM (scale/cvarm.h) as a scale estimator, --ScaleMatching.estimator cvarm.
// Per-image stage: the image letterboxed into the network's square canvas (grey for compact;
// RGB, ImageNet-normalised and padded at the bottom/right for paper) and its MSFEF features.
// Per-pair stage: CVARM and the regressor in both directions, as one batch of two, combined by
// eq. 1 (SymmetricLog2Scale); the canvas scale is mapped back to the original images.
#pragma once

#include <torch/torch.h>

#include "scale/cvarm.h"
#include "scale/scale_estimator.h"

namespace scalesfm {

class CvarmEstimator : public ScaleEstimator {
 public:
  explicit CvarmEstimator(const ScaleEstimatorOptions& options);

  struct ImageFeatures : ImageCode {
    torch::Tensor features;       // F [1, c, h, w]
    double letterbox_factor = 1;  // canvas pixels per image pixel
  };
  int InputChannels() const override { return model_->config().in_channels; }
  std::shared_ptr<const ImageCode> Encode(const cv::Mat& image) override;
  ScaleEstimate Estimate(const ImageCode& a, const ImageCode& b) override;

 private:
  torch::Device device_;
  std::string weights_;
  CvarmNet model_{nullptr};
};

}  // namespace scalesfm
