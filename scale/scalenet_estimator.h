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

  // The per-image stage: the network's features of the letterboxed image.
  struct ImageFeatures : ImageCode {
    ScaleNetImageFeatures net;
    double letterbox_factor = 1;  // canvas pixels per image pixel
  };
  std::shared_ptr<const ImageCode> Encode(const cv::Mat& gray) override;
  ScaleEstimate Estimate(const ImageCode& a, const ImageCode& b) override;

 private:
  bool discrete_;
  torch::Device device_;
  std::string weights_;
  ScaleNet model_{nullptr};
};

}  // namespace scalesfm
