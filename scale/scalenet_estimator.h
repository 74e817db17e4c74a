// ScaleNet and D-ScaleNet as scale estimators. ScaleNet: soft scale (eq. 2) with the
// consistency check (eq. 3). D-ScaleNet: the argmax bin (hard assignment).
// Preprocessing follows the weights' config:
// - compact: each grey image is letterboxed to the network's input size; the canvas scale is
//   mapped back to the originals;
// - paper: the official get_scale(): both RGB images are centre-cropped to the pair's shortest
//   side and resized (bilinear) to 240 x 240, so the canvas scale is the images' scale.
#pragma once

#include <torch/torch.h>

#include "scale/scale_estimator.h"
#include "scale/scalenet.h"

namespace scalesfm {

class ScaleNetEstimator : public ScaleEstimator {
 public:
  ScaleNetEstimator(const ScaleEstimatorOptions& options, bool discrete);

  // The per-image stage: the network's features of the letterboxed image (compact), or of the
  // image's centre square at its own shortest side (paper). A partner with a shorter side needs
  // the square cropped further and one more backbone pass for that pair: the paper code keeps
  // the image's file path (EncodeFile) and reads the image again then, or, when encoded from
  // pixels (Encode), keeps the square itself. Images of one size never pay either.
  struct ImageFeatures : ImageCode {
    ScaleNetImageFeatures net;
    double letterbox_factor = 1;  // canvas pixels per image pixel
    int side = 0;                 // paper: min(w, h)
    std::string path;             // paper, EncodeFile: the image file
    cv::Mat square;               // paper, Encode: the centre min(w, h) square (RGB)
  };
  int InputChannels() const override { return model_->config().in_channels; }
  std::shared_ptr<const ImageCode> Encode(const cv::Mat& image) override;
  std::shared_ptr<const ImageCode> EncodeFile(const std::string& path) override;
  ScaleEstimate Estimate(const ImageCode& a, const ImageCode& b) override;

 private:
  bool discrete_;
  torch::Device device_;
  std::string weights_;
  ScaleNet model_{nullptr};

  ScaleNetImageFeatures Features(const torch::Tensor& input);
  std::shared_ptr<ImageFeatures> EncodeImage(const cv::Mat& image);
  // Paper: the features of `code`'s image centre-cropped to `crop` (< its side).
  ScaleNetImageFeatures Recropped(const ImageFeatures& code, int crop);
};

}  // namespace scalesfm
