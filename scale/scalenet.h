// ScaleNet (Barroso-Laguna et al., CVPR 2022), Figure 2, in LibTorch:
//   image -> backbone CNN -> ASPP (3x3 dilated convs, rates 2/3/4, concatenated, 1x1 conv) = f
//   f_A, f_B -> 1x1 convs -> self-correlation c_A, c_B and cross-correlation c_{A-B}
//   (ReLU + L2 normalisation) -> reduction blocks (4 x Conv-BN-ReLU each) -> flatten, concat
//   -> fully connected layers -> softmax over L = 13 bins s_t = sqrt(2)^t, t = -6..6.
// Per-image features (backbone + ASPP + 1x1 convs) are computed once and cached; a pair then
// costs the correlations and the head only.
#pragma once

#include <string>

#include <torch/torch.h>

namespace scalesfm {

struct ScaleNetConfig {
  std::string name = "compact";
  int input_size = 128;  // longest side; images are letterboxed to input_size^2
  int in_channels = 1;   // grey
  // Backbone: conv blocks (channels per block; a 2x2 max-pool follows every block but the last).
  std::vector<int> backbone_channels = {16, 32, 64, 64};
  int convs_per_block = 1;
  int aspp_channels = 48;  // per dilation branch
  int feature_channels = 64;  // f after the ASPP 1x1 conv
  int corr_channels = 64;     // after the 1x1 convs feeding the correlations
  std::vector<int> reduction_channels = {64, 32, 32, 16};
  int fc_hidden = 256;

  // The network's own downsampling: 2^(blocks-1).
  int FeatureStride() const { return 1 << (static_cast<int>(backbone_channels.size()) - 1); }
  int FeatureSize() const { return input_size / FeatureStride(); }

  static ScaleNetConfig Compact();
  // VGG-16 up to conv4_3 (RGB input 256), the official model's backbone, so converted weights
  // fit; too heavy to train on 2 CPU cores.
  static ScaleNetConfig Paper();
  static ScaleNetConfig FromName(const std::string& name);
};

// Per-image outputs cached by D-ScaleNet matching.
struct ScaleNetImageFeatures {
  torch::Tensor self_features;   // [N, corr_channels, h, w]
  torch::Tensor cross_features;  // [N, corr_channels, h, w]
};

// One reduction block: four Conv-BN-ReLU layers, the 1st and 3rd with stride 2.
class ReductionBlockImpl : public torch::nn::Module {
 public:
  ReductionBlockImpl(int in_channels, const std::vector<int>& channels);
  torch::Tensor forward(torch::Tensor x);

 private:
  torch::nn::Sequential layers_{nullptr};
};
TORCH_MODULE(ReductionBlock);

class ScaleNetImpl : public torch::nn::Module {
 public:
  explicit ScaleNetImpl(const ScaleNetConfig& config);

  const ScaleNetConfig& config() const { return config_; }

  // images: [N, in_channels, S, S] normalised.
  ScaleNetImageFeatures ExtractFeatures(const torch::Tensor& images);
  // Logits over the 13 bins for A -> B.
  torch::Tensor PairLogits(const ScaleNetImageFeatures& a, const ScaleNetImageFeatures& b);
  torch::Tensor forward(const torch::Tensor& images_a, const torch::Tensor& images_b) {
    return PairLogits(ExtractFeatures(images_a), ExtractFeatures(images_b));
  }

 private:
  ScaleNetConfig config_;
  torch::nn::Sequential backbone_{nullptr};
  torch::nn::Conv2d aspp2_{nullptr}, aspp3_{nullptr}, aspp4_{nullptr}, aspp_fuse_{nullptr};
  torch::nn::Conv2d self_conv_{nullptr}, cross_conv_{nullptr};
  ReductionBlock reduce_self_{nullptr}, reduce_cross_{nullptr};
  torch::nn::Sequential fc_{nullptr};
};
TORCH_MODULE(ScaleNet);

// Correlation of every location of `a` with every location of `b` (both [N, C, h, w]):
// [N, h*w (locations of a), h, w (locations of b)], then ReLU and L2 normalisation over the
// first dimension, as in the paper (after [38]).
torch::Tensor GlobalCorrelation(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace scalesfm
