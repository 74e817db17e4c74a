#include "feature/scfeat_model.h"

#include <opencv2/imgproc.hpp>

#include "feature/network_input.h"
#include "util/logging.h"

namespace scalesfm {
namespace F = torch::nn::functional;

ScfeatConfig ScfeatConfig::Paper() {
  ScfeatConfig c;
  c.name = "paper";
  c.in_channels = 3;
  c.block = "bottleneck";
  c.stem_channels = 64;
  c.encoder_widths = {256, 512, 1024};
  c.encoder_blocks = {3, 4, 6};
  c.decoder_widths = {512, 256};
  c.descriptor_dim = 128;
  c.group_norm_groups = 32;
  c.head_left_channels = c.HeadLeftChannels();
  c.head_image_channels = 64;
  c.head_channels = 128;
  c.decoder_upsampled_first = true;
  c.side_align_corners = false;
  c.crop_to_stride = true;
  c.official_sampling_grid = true;
  return c;
}

ScfeatConfig ScfeatConfig::Compact() { return ScfeatConfig(); }

ScfeatConfig ScfeatConfig::FromName(const std::string& name) {
  if (name == "paper") return Paper();
  if (name == "compact") return Compact();
  throw Error("unknown SCFeat config '" + name + "' (known: compact, paper)");
}

GnConvImpl::GnConvImpl(int in, int out, int kernel, int groups) {
  conv_ = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2)));
  gn_ = register_module("gn", torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, out)));
}

torch::Tensor GnConvImpl::forward(const torch::Tensor& x) { return F::elu(gn_(conv_(x))); }

GnUpConvImpl::GnUpConvImpl(int in, int out, int kernel, int groups, bool align_corners)
    : align_corners_(align_corners) {
  conv_ = register_module("conv", GnConv(in, out, kernel, groups));
}

torch::Tensor GnUpConvImpl::forward(const torch::Tensor& x, const std::vector<int64_t>& size) {
  return conv_(F::interpolate(
      x,
      F::InterpolateFuncOptions().size(size).mode(torch::kBilinear).align_corners(align_corners_)));
}

CrossNormImpl::CrossNormImpl() {
  gamma_map_ =
      register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 1, 7).padding(3)));
  beta_map_ =
      register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 1, 7).padding(3)));
  w_s_ = register_parameter("fuse_weight_1", torch::full({1}, 0.7));
  w_c_ = register_parameter("fuse_weight_2", torch::full({1}, 0.3));
}

torch::Tensor CrossNormImpl::forward(const torch::Tensor& d) {
  constexpr double kEps = 1e-5;
  // Eq. 2, spatial term: normalise each position over its channels; gamma_s and beta_s are maps
  // predicted from the channel mean.
  const torch::Tensor mean_c = d.mean(1, true);
  const torch::Tensor pos =
      (d - mean_c) / (d.var(1, /*unbiased=*/true, /*keepdim=*/true) + kEps).sqrt();
  const torch::Tensor spatial = pos * gamma_map_(mean_c) + beta_map_(mean_c);
  // Eq. 2, channel term: normalise each channel over the positions.
  const torch::Tensor mean_s = d.mean({2, 3}, true);
  const torch::Tensor var_s = d.var({2, 3}, /*unbiased=*/false, /*keepdim=*/true);
  const torch::Tensor channel = (d - mean_s) / (var_s + kEps).sqrt();
  const torch::Tensor sum = w_s_ + w_c_;
  return spatial * (w_s_ / sum) + channel * (w_c_ / sum);
}

torch::Tensor PeakinessScore(const torch::Tensor& y_in) {
  const int64_t n = y_in.size(0);
  const torch::Tensor max = std::get<0>(y_in.reshape({n, -1}).max(1)).clamp_min(1e-12);
  const torch::Tensor y = y_in / max.view({n, 1, 1, 1});
  const torch::Tensor local_mean =
      F::avg_pool2d(F::pad(y, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReflect)),
                    F::AvgPool2dFuncOptions(3).stride(1));
  const torch::Tensor zeta = F::softplus(y - local_mean);      // eq. 5
  const torch::Tensor eta = F::softplus(y - y.mean(1, true));  // eq. 4
  return std::get<0>((zeta * eta).max(1, true));               // eq. 6
}

namespace {

// A torchvision ResNet block (names conv1/bn1/.../downsample as in torchvision): "basic" is two
// 3x3 convs, "bottleneck" 1x1 - 3x3 - 1x1 with the stride on the 3x3 (ResNet v1.5).
class ResBlockImpl : public torch::nn::Module {
 public:
  ResBlockImpl(bool bottleneck, int in, int out, int stride) : bottleneck_(bottleneck) {
    auto bn = [](int c) { return torch::nn::BatchNorm2d(c); };
    auto conv = [](int i, int o, int k, int s) {
      return torch::nn::Conv2d(
          torch::nn::Conv2dOptions(i, o, k).stride(s).padding(k / 2).bias(false));
    };
    if (bottleneck) {
      const int width = out / 4;
      conv1_ = register_module("conv1", conv(in, width, 1, 1));
      bn1_ = register_module("bn1", bn(width));
      conv2_ = register_module("conv2", conv(width, width, 3, stride));
      bn2_ = register_module("bn2", bn(width));
      conv3_ = register_module("conv3", conv(width, out, 1, 1));
      bn3_ = register_module("bn3", bn(out));
    } else {
      conv1_ = register_module("conv1", conv(in, out, 3, stride));
      bn1_ = register_module("bn1", bn(out));
      conv2_ = register_module("conv2", conv(out, out, 3, 1));
      bn2_ = register_module("bn2", bn(out));
    }
    if (stride != 1 || in != out) {
      downsample_ =
          register_module("downsample", torch::nn::Sequential(conv(in, out, 1, stride), bn(out)));
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1_(conv1_(x)));
    y = bn2_(conv2_(y));
    if (bottleneck_) y = bn3_(conv3_(torch::relu(y)));
    return torch::relu(y + (downsample_ ? downsample_->forward(x) : x));
  }

 private:
  bool bottleneck_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr}, bn3_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(ResBlock);

torch::nn::Conv2d Conv(int in, int out, int kernel) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding(kernel / 2));
}

torch::nn::InstanceNorm2d InstanceNorm(int c) {
  return torch::nn::InstanceNorm2d(torch::nn::InstanceNorm2dOptions(c));
}

}  // namespace

ScfeatDetectorImpl::ScfeatDetectorImpl(const ScfeatConfig& c) {
  const int left = c.HeadLeftChannels();
  conv1_ = register_module("conv1", Conv(left, c.head_left_channels, 3));
  norm1_ = register_module("norm1", InstanceNorm(c.head_left_channels));
  conv2_ = register_module("conv2",
                           Conv(c.head_left_channels + c.head_image_channels, c.head_channels, 3));
  norm2_ = register_module("norm2", InstanceNorm(c.head_channels));
  conv3_ = register_module("conv3", Conv(c.head_channels, 1, 1));
  norm3_ = register_module("norm3", InstanceNorm(1));
  relu_ = register_module("relu", torch::nn::PReLU());
  convimg_ = register_module("convimg", Conv(c.in_channels, c.head_image_channels, 3));
  normimg_ = register_module("normimg", InstanceNorm(c.head_image_channels));
}

torch::Tensor ScfeatDetectorImpl::forward(const torch::Tensor& left, const torch::Tensor& image) {
  const std::vector<int64_t> full = {image.size(2), image.size(3)};
  const auto up = [&](const torch::Tensor& x) {
    return F::interpolate(
        x, F::InterpolateFuncOptions().size(full).mode(torch::kBilinear).align_corners(false));
  };
  const torch::Tensor s_l = PeakinessScore(left);                                   // eq. 7
  const torch::Tensor s_r = PeakinessScore(image);                                  // eq. 8
  const torch::Tensor h_l0 = relu_(norm1_(conv1_(s_l * left)));                     // eq. 9
  const torch::Tensor h_r0 = relu_(normimg_(convimg_(s_r * image)));                // eq. 10
  const torch::Tensor h1 = relu_(norm2_(conv2_(torch::cat({up(h_l0), h_r0}, 1))));  // eq. 11
  const torch::Tensor h2 = F::softplus(norm3_(conv3_(h1)));                         // eq. 12
  return up(s_l) * s_r * h2;                                                        // eq. 13
}

torch::nn::Sequential ScfeatImpl::ResLayer(int in, int out, int blocks, int stride) {
  torch::nn::Sequential layer;
  const bool bottleneck = config_.block == "bottleneck";
  for (int b = 0; b < blocks; ++b) {
    layer->push_back(ResBlock(bottleneck, b == 0 ? in : out, out, b == 0 ? stride : 1));
  }
  return layer;
}

ScfeatImpl::ScfeatImpl(const ScfeatConfig& c) : config_(c) {
  if (c.block != "basic" && c.block != "bottleneck") {
    throw Error("SCFeat block must be basic or bottleneck, not " + c.block);
  }
  const auto& w = c.encoder_widths;
  const auto& dw = c.decoder_widths;
  const int g = c.group_norm_groups;
  firstconv_ = register_module(
      "firstconv", torch::nn::Conv2d(torch::nn::Conv2dOptions(c.in_channels, c.stem_channels, 7)
                                         .stride(2)
                                         .padding(3)
                                         .bias(false)));
  firstbn_ = register_module("firstbn", torch::nn::BatchNorm2d(c.stem_channels));
  layer1_ = register_module("layer1", ResLayer(c.stem_channels, w[0], c.encoder_blocks[0], 1));
  layer2_ = register_module("layer2", ResLayer(w[0], w[1], c.encoder_blocks[1], 2));
  layer3_ = register_module("layer3", ResLayer(w[1], w[2], c.encoder_blocks[2], 2));
  upconv3_ = register_module("upconv3", GnUpConv(w[2], dw[0], 3, g, true));  // Decoder_0
  iconv3_ = register_module("iconv3", GnConv(w[1] + dw[0], dw[0], 3, g));
  upconv2_ = register_module("upconv2", GnUpConv(dw[0], dw[1], 3, g, true));  // Decoder_1
  iconv2_ = register_module("iconv2", GnConv(w[0] + dw[1], dw[1], 3, g));
  const bool side_ac = c.side_align_corners;
  side3_ = register_module("side3", GnUpConv(w[2], c.descriptor_dim, 3, g, side_ac));   // Encoder_3
  side2_ = register_module("side2", GnUpConv(dw[0], c.descriptor_dim, 3, g, side_ac));  // Decoder_0
  side1_ = register_module("side1", GnConv(dw[1], c.descriptor_dim, 1, g));  // from Decoder_1
  fusion_conv_ = register_module("fusion_conv", Conv(3 * c.descriptor_dim, c.descriptor_dim, 1));
  cross_norm_ = register_module("cross_norm", CrossNorm());
  detector_ = register_module("detector", ScfeatDetector(c));
}

ScfeatDescription ScfeatImpl::Describe(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != config_.in_channels ||
      images.size(2) % ScfeatConfig::kStride || images.size(3) % ScfeatConfig::kStride) {
    throw Error("SCFeat input must be [N, " + std::to_string(config_.in_channels) +
                ", H, W] with H and W multiples of 16");
  }
  ScfeatDescription out;
  const torch::Tensor x0 = torch::relu(firstbn_(firstconv_(images)));
  out.first = F::max_pool2d(x0, F::MaxPool2dFuncOptions(3).stride(2).padding(1));  // Encoder_0
  const torch::Tensor x1 = layer1_->forward(out.first);                            // H/4
  const torch::Tensor x2 = layer2_->forward(x1);                                   // H/8
  const torch::Tensor x3 = layer3_->forward(x2);                                   // H/16
  const std::vector<int64_t> s8 = {x2.size(2), x2.size(3)}, s4 = {x1.size(2), x1.size(3)};
  const auto skip_connect = [&](const torch::Tensor& upsampled, const torch::Tensor& skip) {
    return config_.decoder_upsampled_first ? torch::cat({upsampled, skip}, 1)
                                           : torch::cat({skip, upsampled}, 1);
  };
  const torch::Tensor d0 = iconv3_(skip_connect(upconv3_(x3, s8), x2));  // Decoder_0
  const torch::Tensor d1 = iconv2_(skip_connect(upconv2_(d0, s4), x1));  // Decoder_1
  // Eq. 1: D_desc = H_conv(H_cat([F_s0, F_s1, F_s2])).
  out.desc = fusion_conv_(torch::cat({side1_(d1), side2_(d0, s4), side3_(x3, s4)}, 1));
  out.cn = cross_norm_(out.desc);  // eq. 3
  return out;
}

torch::Tensor ScfeatImpl::Detect(const ScfeatDescription& d, const torch::Tensor& images) {
  return detector_(torch::cat({d.cn, d.first}, 1), images);
}

std::vector<torch::Tensor> ScfeatImpl::DescriptionParameters() {
  std::vector<torch::Tensor> out;
  for (const auto& item : named_parameters()) {
    if (item.key().rfind("detector.", 0) != 0) out.push_back(item.value());
  }
  return out;
}

std::vector<torch::Tensor> ScfeatImpl::DetectionParameters() { return detector_->parameters(); }

torch::Tensor ScfeatInput(const cv::Mat& image, const ScfeatConfig& config) {
  return ImageToNetworkInput(image, ScfeatConfig::kStride, config.in_channels,
                             config.crop_to_stride ? NetworkInputFit::kCrop : NetworkInputFit::kPad,
                             "SCFeat");
}

}  // namespace scalesfm
