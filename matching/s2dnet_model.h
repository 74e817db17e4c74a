// S2DNet (Germain, Bourmaud and Lepetit, ECCV 2020), Figure 3, in LibTorch: a VGG-16 encoder
// with three extraction points (conv1_2 at full resolution, conv3_3 at 1/4, conv5_3 at 1/16),
// each followed by an adaptation layer (1x1 conv, ReLU, 5x5 conv, BatchNorm) that gives the
// dense maps H^m (m = 1..3) of §3.2.
// Module names follow the official model (`encoder.<index>` for torchvision's VGG-16 `features`
// up to conv5_3, `adaptation_layers.adap_layer_<m>.<index>`), so its checkpoints convert name by
// name (scripts/convert_official_weights.py --model s2dnet) into the `paper` config.
#pragma once

#include <torch/torch.h>

#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace scalesfm {

struct S2DNetConfig {
  std::string name = "compact";
  int in_channels = 1;  // 1: grey in [0,1]; 3: RGB with ImageNet normalisation (the official input)
  // VGG-16's five blocks: output channels and conv count of each (pooling between blocks).
  std::vector<int> block_channels = {16, 32, 48, 64, 64};
  std::vector<int> block_convs = {2, 2, 3, 3, 3};
  int adaptation_hidden = 32;  // the 1x1 conv of each adaptation layer
  int descriptor_dim = 32;     // the 5x5 conv + BatchNorm output, per level
  // Where H^m is tapped. conv1_2 and conv3_3 are always taken after their ReLU: the official code
  // stores the conv output, but the next layer is torchvision's in-place ReLU, which overwrites
  // the stored tensor. conv5_3 is taken before its ReLU when this is true: the official encoder
  // ends at conv5_3 (it drops relu5_3 and pool5). The compact config was trained with all three
  // after the ReLU (the paper's §3.5 reading) and keeps that.
  bool last_tap_before_relu = false;

  static constexpr int kNumLevels = 3;
  static constexpr int kStride = 16;  // conv5_3 is at 1/16: inputs are padded to a multiple
  // Stride of level m (0-based): 1, 4, 16.
  static int LevelStride(int m) { return m == 0 ? 1 : (m == 1 ? 4 : 16); }

  // The official model: VGG-16 (64, 128, 256, 512, 512), 64 hidden, 128 out, taps as it runs.
  static S2DNetConfig Paper();
  static S2DNetConfig Compact();
  static S2DNetConfig FromName(const std::string& name);
};

class S2DNetImpl : public torch::nn::Module {
 public:
  explicit S2DNetImpl(const S2DNetConfig& config);
  const S2DNetConfig& config() const { return config_; }
  // images [N, in_channels, H, W] (H, W multiples of kStride) -> H^1..H^3:
  // [N, D, H, W], [N, D, H/4, W/4], [N, D, H/16, W/16].
  std::vector<torch::Tensor> forward(const torch::Tensor& images);

 private:
  S2DNetConfig config_;
  torch::nn::Sequential encoder_{nullptr};
  std::vector<torch::nn::Sequential> adaptation_;
  std::vector<int> taps_;  // encoder indices after which H^m is taken
};
TORCH_MODULE(S2DNet);

// An 8-bit grey or RGB image (feature/network_input.h) as the network's input, padded (zeros,
// bottom/right) to a multiple of kStride; the padding does not move pixel coordinates. Images
// whose sides are multiples of 16 get exactly the official input (RGB, ImageNet normalisation).
torch::Tensor S2DNetInput(const cv::Mat& image, const S2DNetConfig& config);

// Loads weights (with their sidecar) into a model of the sidecar's config, in eval mode; throws
// Error naming the file or tensor when they are missing, of another architecture or mis-shaped.
S2DNet LoadS2DNet(const std::string& weights_path);

}  // namespace scalesfm
