// An 8-bit grey image as a network input tensor, shared by the learned models (SCFeat, S2DNet).
#pragma once

#include <torch/torch.h>

#include <opencv2/core.hpp>
#include <string>

namespace scalesfm {

// [1, in_channels, H', W'] float: values in [0, 1], zero-padded at the bottom and right to a
// multiple of `multiple` (the padding does not move pixel coordinates). With in_channels 3 the
// grey image is replicated to RGB and normalised with ImageNet's mean and std, as VGG/ResNet
// weights expect. Throws Error naming `network` for an empty or non-grey image.
torch::Tensor GrayToNetworkInput(const cv::Mat& gray, int multiple, int in_channels,
                                 const std::string& network);

}  // namespace scalesfm
