// DualRC-Net (Li, Han, Li and Prisacariu, NeurIPS 2020), Figures 1 and 2, in LibTorch:
// - an FPN-like feature extractor (§3.2, Figure 2) over three backbone stages at 1/4, 1/8 and
//   1/16: the coarse map F~ is the 1/16 stage, the fine map F^ (1/4) fuses the coarser stages
//   into the 1/4 stage through 1x1 "inner" convolutions and bilinear up-sampling, then a 3x3
//   convolution;
// - the 4D correlation C of the L2-normalised coarse maps, filtered by soft mutual
//   nearest-neighbour matching M(.) and the neighbourhood-consensus 4D convolutions N(.) of
//   §3.1 (applied to C and to its A<->B transpose and summed, so the filter is symmetric):
//   C_bar = M(N(M(C))).
// The fine map's use (eqs. 1-3) is in matching/dualrc_matching.h.
//
// Module names follow the official model (lib/model_v2.py, backbone resnet101fpn_3_1024_4):
// FeatureExtraction.extractor_list.{0,1,2} (the backbone stages), .inner_block_list.{0,1},
// .last_layer_block, NeighConsensus.conv.{0,2} (4D convolutions, their weights stored as the
// official Conv4d stores them: [k, out, in, k, k, k]). Its checkpoint converts name by name
// (scripts/convert_official_weights.py --model dualrc) into the `paper` config.
#pragma once

#include <torch/torch.h>

#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace scalesfm {

struct DualRcNetConfig {
  std::string name = "compact";
  // "resnet101": torchvision's ResNet-101 up to layer3 (conv1 .. layer1 = 1/4, layer2 = 1/8,
  // layer3 = 1/16; 256, 512, 1024 channels), RGB with ImageNet normalisation (the official).
  // "vgg": a VGG encoder of block_channels x block_convs (S2DNet's compact layout; stages end at
  // conv3_3 = 1/4, conv4_3 = 1/8, conv5_3 = 1/16), grey input in [0, 1].
  std::string backbone = "vgg";
  int in_channels = 1;
  std::vector<int> block_channels = {16, 32, 48, 64, 64};  // vgg only
  std::vector<int> block_convs = {2, 2, 3, 3, 3};          // vgg only
  // Channels of the fine map (the FPN's inner blocks and last 3x3 conv). The coarse map is the
  // 1/16 stage itself (its channel count is the backbone's).
  int fpn_channels = 64;
  // The NC module: one 4D conv per entry, ReLU after each; the last must output 1 channel.
  std::vector<int> nc_kernel_sizes = {3, 3};
  std::vector<int> nc_channels = {8, 1};
  // Backbone stages that training leaves fixed, from the first (the official fixes all three).
  int frozen_stages = 1;

  static constexpr int kStride = 16;     // coarse map: inputs are padded to a multiple of 16
  static constexpr int kFineStride = 4;  // fine map

  // The official model: ResNet-101 FPN with 1024 channels, NC kernels {3, 3}, channels {16, 1}.
  static DualRcNetConfig Paper();
  static DualRcNetConfig Compact();
  static DualRcNetConfig FromName(const std::string& name);
};

// A 4D convolution (NCNet's Conv4d): the kernel's first dimension is looped over, each slice is
// a 3D convolution over the other three; zero padding keeps the size. Input and output are
// [B, C, h1, w1, h2, w2]; weight [k, out, in, k, k, k] (the official pre-permuted layout).
class Conv4dImpl : public torch::nn::Module {
 public:
  Conv4dImpl(int in_channels, int out_channels, int kernel_size);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight, bias;

 private:
  int kernel_size_;
};
TORCH_MODULE(Conv4d);

// §3.1's neighbourhood consensus: the conv stack applied to C and to C with A and B swapped
// (transposed back), summed.
class NeighConsensusImpl : public torch::nn::Module {
 public:
  NeighConsensusImpl(const std::vector<int>& kernel_sizes, const std::vector<int>& channels);
  torch::Tensor forward(const torch::Tensor& corr4d);

 private:
  torch::nn::Sequential conv_{nullptr};
};
TORCH_MODULE(NeighConsensus);

// Soft mutual nearest-neighbour filtering M(C) (§3.1): C_ijkl * (C_ijkl / max_ab C_abkl) *
// (C_ijkl / max_cd C_ijcd), with eps = 1e-5 in the denominators as in NCNet.
torch::Tensor MutualMatching(const torch::Tensor& corr4d);

// Cosine 4D correlation of two feature maps [B, C, ha, wa], [B, C, hb, wb] (unit-normalised
// along C) -> [B, 1, ha, wa, hb, wb].
torch::Tensor Correlation4d(const torch::Tensor& a, const torch::Tensor& b);

// x / sqrt(sum_c x^2 + 1e-6), per pixel (the official featureL2Norm).
torch::Tensor FeatureL2Norm(const torch::Tensor& x);

// The backbone stages and the FPN (Figure 2).
class DualRcFeaturesImpl : public torch::nn::Module {
 public:
  explicit DualRcFeaturesImpl(const DualRcNetConfig& config);
  // images [N, in, H, W], H and W multiples of 16 -> {fine [N, fpn_channels, H/4, W/4],
  // coarse [N, C, H/16, W/16]}, before L2 normalisation.
  std::vector<torch::Tensor> forward(const torch::Tensor& images);
  // The first `frozen_stages` stages take no gradient and stay in eval mode.
  void SetFrozen(int frozen_stages);
  void train(bool on = true) override;

 private:
  torch::nn::ModuleList extractor_list_{nullptr};
  torch::nn::ModuleList inner_block_list_{nullptr};
  torch::nn::Conv2d last_layer_block_{nullptr};
  int frozen_stages_ = 0;
};
TORCH_MODULE(DualRcFeatures);

// What the network gives for a pair: C_bar and the L2-normalised fine maps.
struct DualRcOutput {
  torch::Tensor corr4d;          // [B, 1, ha, wa, hb, wb], C_bar = M(N(M(C)))
  torch::Tensor fine_a, fine_b;  // [B, D, Ha, Wa], [B, D, Hb, Wb], unit along D
};

class DualRcNetImpl : public torch::nn::Module {
 public:
  explicit DualRcNetImpl(const DualRcNetConfig& config);
  const DualRcNetConfig& config() const { return config_; }
  // One image batch through the extractor: {fine, coarse}, both L2-normalised.
  std::vector<torch::Tensor> Features(const torch::Tensor& images);
  // C_bar from the normalised coarse maps of A and B.
  torch::Tensor FilterCorrelation(const torch::Tensor& coarse_a, const torch::Tensor& coarse_b);
  // The official ImMatchNet.forward: both images -> C_bar and the normalised fine maps.
  DualRcOutput forward(const torch::Tensor& images_a, const torch::Tensor& images_b);
  DualRcFeatures features() { return features_; }

 private:
  DualRcNetConfig config_;
  DualRcFeatures features_{nullptr};
  NeighConsensus neigh_consensus_{nullptr};
};
TORCH_MODULE(DualRcNet);

// An 8-bit grey or RGB image as the network's input, padded (zeros, bottom/right) to a multiple
// of 16; the padding does not move pixel coordinates.
torch::Tensor DualRcNetInput(const cv::Mat& image, const DualRcNetConfig& config);

// Loads weights (with their sidecar) into a model of the sidecar's config, in eval mode; throws
// Error naming the file or tensor when they are missing, of another architecture or mis-shaped.
DualRcNet LoadDualRcNet(const std::string& weights_path);

// The shipped compact weights, or `weights` when not empty.
std::string DualRcNetWeightsPath(const std::string& weights);

}  // namespace scalesfm
