// An 8-bit image as a network input tensor, shared by the learned models (SCFeat, S2DNet).
#pragma once

#include <torch/torch.h>

#include <opencv2/core.hpp>
#include <string>

namespace scalesfm {

// How an image whose sides are not multiples of the network's stride is fitted to them.
enum class NetworkInputFit {
  kPad,   // zeros at the bottom and right (scalesfm's compact configs: no pixel is lost)
  kCrop,  // the bottom and right remainders are cut off (the official SCFeat loader)
};

// [1, in_channels, H', W'] float with H' and W' multiples of `multiple`; neither fit moves pixel
// coordinates. `image` is 8-bit grey (CV_8UC1) or RGB (CV_8UC3, channels R, G, B).
// in_channels 1: grey in [0, 1] (an RGB image is converted to grey first).
// in_channels 3: RGB in [0, 1] normalised with ImageNet's mean and std, as VGG/ResNet weights
// and the official models expect (torchvision's ToTensor + Normalize); a grey image is
// replicated to three channels.
// Throws Error naming `network` for an empty image or another pixel type.
torch::Tensor ImageToNetworkInput(const cv::Mat& image, int multiple, int in_channels,
                                  NetworkInputFit fit, const std::string& network);

}  // namespace scalesfm
