// ScaleNet (Barroso-Laguna et al., CVPR 2022), Figure 2, in LibTorch:
//   image -> backbone CNN (VGG-style) -> ASPP: a 1x1 branch and 3x3 dilated branches,
//   concatenated and mixed by 1x1 convs ("Conv" blocks of the figure) -> L2-normalised f
//   f_A, f_B -> cross-correlation c_{A-B} and self-correlations c_A, c_B (ReLU + L2 norm)
//   -> one reduction block each (4 x Conv-BN-LeakyReLU, no padding) -> flatten, concat
//   -> fully connected layers (1x1 convs with BN, LeakyReLU, dropout) -> 13 logits; softmax
//   over the bins s_t = sqrt(2)^t, t = -6..6.
// The module layout follows the official implementation's, so that its checkpoints convert
// name by name (scripts/convert_official_weights.py) into the `paper` config. Per-image
// features (backbone + ASPP, and the reduced self-correlations) are computed once and cached; a
// pair costs the cross-correlation, its reduction block and the head only.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace scalesfm {

struct ScaleNetConfig {
  std::string name = "compact";
  int input_size = 128;
  int in_channels = 1;    // 1: grey; 3: RGB (ImageNet normalisation)
  bool letterbox = true;  // else centre crop to a square (the official preprocessing)
  // VGG-style backbone: per block, the conv widths; a 2x2 max-pool ends every block.
  std::vector<std::vector<int>> backbone = {{16}, {32}, {64}};
  bool backbone_batchnorm = true;               // VGG-16 has none
  int feature_channels = 64;                    // backbone output = ASPP width
  std::vector<int> aspp_dilations = {2, 3, 4};  // 3x3 branches, after the 1x1 branch
  std::vector<int> reduction_channels = {64, 32, 32, 16};
  std::vector<int> head_channels = {256, 256, 128, 64, 32};
  double dropout = 0.3;

  int FeatureSize() const { return input_size >> backbone.size(); }
  int ReducedSize() const {
    return FeatureSize() - 2 * static_cast<int>(reduction_channels.size());
  }

  static ScaleNetConfig Compact();
  // The official model: VGG-16 to pool4 (RGB, 240 px, 15x15 features), ASPP 1x1 + dilations
  // 1/2/3 (the official code's rates; the paper's text says 2/3/4), head 2056-1024-512-256-128.
  static ScaleNetConfig Paper();
  static ScaleNetConfig FromName(const std::string& name);
};

struct ScaleNetImageFeatures {
  torch::Tensor features;  // [N, C, h, w], L2-normalised over C
  // Inference cache (ScaleNetImpl::CacheSelfCorrelation): the image's self-correlation c_A
  // after the reduction block of the A side (reduce_a) and of the B side (reduce_b), flattened.
  // They depend on one image only, so a pair then costs c_{A-B}, its reduction and the head.
  // Undefined: PairLogits computes them.
  torch::Tensor self_as_a, self_as_b;
};

// ASPP of Figure 2: branch ms_0 is a 1x1 conv, ms_k (k >= 1) a 3x3 conv with dilation d_k;
// each with BN + LeakyReLU(0.1); concatenated and mixed by mix_comb (1x1, BN, LeakyReLU, 1x1).
class AsppImpl : public torch::nn::Module {
 public:
  AsppImpl(int channels, const std::vector<int>& dilations);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::vector<torch::nn::Sequential> branches_;
  torch::nn::Sequential mix_comb_{nullptr};
};
TORCH_MODULE(Aspp);

class ScaleNetImpl : public torch::nn::Module {
 public:
  explicit ScaleNetImpl(const ScaleNetConfig& config);

  const ScaleNetConfig& config() const { return config_; }

  // images: [N, in_channels, S, S], normalised.
  ScaleNetImageFeatures ExtractFeatures(const torch::Tensor& images);
  // Fills the self-correlation cache of `f` (inference only: no gradient flows through it).
  void CacheSelfCorrelation(ScaleNetImageFeatures* f);
  // Logits over the 13 bins for A -> B.
  torch::Tensor PairLogits(const ScaleNetImageFeatures& a, const ScaleNetImageFeatures& b);
  torch::Tensor forward(const torch::Tensor& images_a, const torch::Tensor& images_b) {
    return PairLogits(ExtractFeatures(images_a), ExtractFeatures(images_b));
  }

 private:
  ScaleNetConfig config_;
  torch::nn::Sequential backbone_{nullptr};
  Aspp aspp_{nullptr};
  torch::nn::Sequential reduce_ab_{nullptr}, reduce_a_{nullptr}, reduce_b_{nullptr};
  torch::nn::Sequential head_{nullptr};
};
TORCH_MODULE(ScaleNet);

// Correlation volume of two [N, C, h, w] maps: [N, h*w, h, w] where channel j is the location
// (x_j, y_j) of `b` in column-major order (j = x * h + y) and the spatial grid is `a`'s, as in
// the official CorrelationVolume. ReLU and L2 normalisation over the channels follow.
torch::Tensor CorrelationVolume(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace scalesfm
