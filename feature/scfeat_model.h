// SCFeat (Sun, Zhu and Ji, "Shared Coupling-bridge for Weakly Supervised Local Feature
// Learning"), Figure 3, in LibTorch:
//   (a) description network, the F2R-Backbone: ResNet encoder (Encoder_0..Encoder_3 = stem,
//       layer1..layer3; H/4, H/4, H/8, H/16), two decoders of UP-CONV + CONV (GroupNorm + ELU,
//       Fig. 4a/b) with skip connections, and a fusion module whose three side outputs
//       (Side_0..Side_2) are concatenated into a 1x1 conv: D_desc at H/4 (eq. 1);
//   (b) the shared coupling-bridge cross normalisation F_cn = H_cn(D_desc) (eqs. 2-3);
//   (c) the detection network: peakiness maps S_l of F_cn (+) F_0 and S_r of the image
//       (eqs. 4-8), Layer_0 with two CONV-I branches (eqs. 9-10), Layer_1 (eq. 11), Layer_2
//       (eq. 12) and the final score map S^ = S_l~ * S_r * H^2 (eq. 13).
// Module names follow the official implementation's, so its checkpoints convert name by name
// (scripts/convert_official_weights.py) into the `paper` config.
#pragma once

#include <torch/torch.h>

#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace scalesfm {

struct ScfeatConfig {
  std::string name = "compact";
  int in_channels = 1;  // 1: grey in [0,1]; 3: RGB with ImageNet normalisation (paper)
  // ResNet encoder: "bottleneck" (ResNet-50) or "basic" (ResNet-18 style) blocks.
  std::string block = "basic";
  int stem_channels = 16;                          // Encoder_0 (F_0): conv 7x7/2 + BN + ReLU + pool
  std::vector<int> encoder_widths = {32, 64, 96};  // layer1..3 output channels
  std::vector<int> encoder_blocks = {1, 1, 1};
  std::vector<int> decoder_widths = {64, 32};  // Decoder_0 (H/8), Decoder_1 (H/4)
  int descriptor_dim = 64;                     // fusion output C (D_desc channels)
  int group_norm_groups = 8;                   // GroupNorm groups in CONV / UP-CONV
  int head_left_channels = 16;  // Layer_0 left branch (CONV-I on S_l * (F_cn (+) F_0))
  int head_image_channels = 8;  // Layer_0 right branch (CONV-I on S_r * I_o)
  int head_channels = 16;       // Layer_1 width
  // Decoder_0/Decoder_1 concatenate [upsampled, skip] (the official skipconnect) or
  // [skip, upsampled] (what the compact config was trained with). Both halves have the same
  // width in the paper config, so the wrong order loads without a shape error.
  bool decoder_upsampled_first = false;
  // Side_1/Side_2 of the fusion module (UP-CONV to H/4): bilinear with align_corners true (what
  // the compact config was trained with) or false (the official upconv_like). Decoder UP-CONVs
  // use true in both, as the official upconv does.
  bool side_align_corners = true;
  // Preprocessing. An image whose sides are not multiples of kStride is padded (compact: no
  // pixel lost) or cropped at the bottom/right (the official loader, dataloader/hpatches.py).
  bool crop_to_stride = false;
  // Descriptor sampling (SampleDescriptors): pixel x maps to grid coordinate (x + 0.5) / W * 2 - 1
  // (pixel centres, compact) or, as the official sample_feat_by_coord, to x / ((W - 1) / 2) - 1,
  // both with grid_sample's align_corners false.
  bool official_sampling_grid = false;

  int HeadLeftChannels() const { return descriptor_dim + stem_channels; }  // F_cn (+) F_0
  // Inputs are padded to a multiple of this (the encoder's total stride).
  static constexpr int kStride = 16;

  // The official model: ResNet-50 to layer3, decoders 512/256, C = 128, GroupNorm 32.
  static ScfeatConfig Paper();
  static ScfeatConfig Compact();
  static ScfeatConfig FromName(const std::string& name);
};

// CONV of Fig. 4a: 3x3 (or k x k) conv, GroupNorm, ELU.
class GnConvImpl : public torch::nn::Module {
 public:
  GnConvImpl(int in, int out, int kernel, int groups);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::GroupNorm gn_{nullptr};
};
TORCH_MODULE(GnConv);

// UP-CONV of Fig. 4b: bilinear x2 (or to a target size), then CONV.
class GnUpConvImpl : public torch::nn::Module {
 public:
  GnUpConvImpl(int in, int out, int kernel, int groups, bool align_corners);
  torch::Tensor forward(const torch::Tensor& x, const std::vector<int64_t>& size);

 private:
  bool align_corners_;
  GnConv conv_{nullptr};
};
TORCH_MODULE(GnUpConv);

// Eq. 2 as the official layer computes it: a position-wise normalisation (over channels, with
// 7x7-conv modulation maps) and a channel-wise normalisation (over positions), mixed by the
// learned weights w_s / (w_s + w_c) and w_c / (w_s + w_c).
class CrossNormImpl : public torch::nn::Module {
 public:
  CrossNormImpl();
  torch::Tensor forward(const torch::Tensor& d);

 private:
  torch::nn::Conv2d gamma_map_{nullptr}, beta_map_{nullptr};
  torch::Tensor w_s_, w_c_;
};
TORCH_MODULE(CrossNorm);

// Peakiness measurement H_peak (eqs. 4-6) of a [N, C, H, W] map: S = max_k zeta^k * eta^k with
// eta^k = softplus(y^k - mean_t y^t) and zeta^k = softplus(y^k - mean_{3x3} y^k); y is first
// divided by its per-sample maximum (as the official code does), and the 3x3 mean uses
// reflect padding. Returns [N, 1, H, W].
torch::Tensor PeakinessScore(const torch::Tensor& y);

// Detection network of Fig. 3c (names as in the official DetNet): conv1/norm1 = Layer_0 left,
// convimg/normimg = Layer_0 right, conv2/norm2 = Layer_1, conv3/norm3 = Layer_2; one PReLU.
class ScfeatDetectorImpl : public torch::nn::Module {
 public:
  explicit ScfeatDetectorImpl(const ScfeatConfig& config);
  // left = F_cn (+) F_0 [N, C+stem, H/4, W/4], image = I_o [N, in, H, W] -> S^ [N, 1, H, W].
  torch::Tensor forward(const torch::Tensor& left, const torch::Tensor& image);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr}, convimg_{nullptr};
  torch::nn::InstanceNorm2d norm1_{nullptr}, norm2_{nullptr}, norm3_{nullptr}, normimg_{nullptr};
  torch::nn::PReLU relu_{nullptr};
};
TORCH_MODULE(ScfeatDetector);

struct ScfeatDescription {
  torch::Tensor desc;   // D_desc [N, C, H/4, W/4] (eq. 1), what descriptors are sampled from
  torch::Tensor cn;     // F_cn [N, C, H/4, W/4] (eq. 3), what the losses and the detector see
  torch::Tensor first;  // F_0 [N, stem, H/4, W/4] (Encoder_0 output)
};

class ScfeatImpl : public torch::nn::Module {
 public:
  explicit ScfeatImpl(const ScfeatConfig& config);
  const ScfeatConfig& config() const { return config_; }

  // images: [N, in_channels, H, W], H and W multiples of ScfeatConfig::kStride.
  ScfeatDescription Describe(const torch::Tensor& images);
  // The score map S^ [N, 1, H, W] (eq. 13).
  torch::Tensor Detect(const ScfeatDescription& description, const torch::Tensor& images);

  // Parameters of the description network and bridge (stage 1) and of the detector (stage 2).
  std::vector<torch::Tensor> DescriptionParameters();
  std::vector<torch::Tensor> DetectionParameters();

 private:
  torch::nn::Sequential ResLayer(int in, int out, int blocks, int stride);

  ScfeatConfig config_;
  // (a) F2R-Backbone
  torch::nn::Conv2d firstconv_{nullptr};
  torch::nn::BatchNorm2d firstbn_{nullptr};
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr};
  GnUpConv upconv3_{nullptr}, upconv2_{nullptr};
  GnConv iconv3_{nullptr}, iconv2_{nullptr};
  GnUpConv side3_{nullptr}, side2_{nullptr};
  GnConv side1_{nullptr};
  torch::nn::Conv2d fusion_conv_{nullptr};
  // (b) coupling bridge
  CrossNorm cross_norm_{nullptr};
  // (c) detector
  ScfeatDetector detector_{nullptr};
};
TORCH_MODULE(Scfeat);

// 8-bit grey or RGB image (feature/network_input.h) -> [1, in_channels, H', W'] with H', W'
// multiples of kStride (padded or cropped as config.crop_to_stride says); the paper config gets
// the official input (RGB, ImageNet normalisation, cropped).
torch::Tensor ScfeatInput(const cv::Mat& image, const ScfeatConfig& config);

}  // namespace scalesfm
