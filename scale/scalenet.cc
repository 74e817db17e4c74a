#include "scale/scalenet.h"

#include "scale/scale_estimator.h"
#include "util/logging.h"

namespace scalesfm {

ScaleNetConfig ScaleNetConfig::Compact() { return ScaleNetConfig(); }

ScaleNetConfig ScaleNetConfig::Paper() {
  ScaleNetConfig c;
  c.name = "paper";
  c.input_size = 256;
  c.in_channels = 3;
  c.backbone_channels = {64, 128, 256, 512};
  c.convs_per_block = 0;  // VGG layout: 2, 2, 3, 3 convs (see the constructor)
  c.aspp_channels = 256;
  c.feature_channels = 512;
  c.corr_channels = 256;
  c.reduction_channels = {512, 256, 128, 64};
  c.fc_hidden = 1024;
  return c;
}

ScaleNetConfig ScaleNetConfig::FromName(const std::string& name) {
  if (name == "compact") return Compact();
  if (name == "paper") return Paper();
  throw Error("unknown ScaleNet config '" + name + "' (known: compact, paper)");
}

namespace {
// Appends Conv(3x3)-BatchNorm-ReLU to `seq`.
void AppendConvBnRelu(torch::nn::Sequential& seq, int in, int out, int stride) {
  seq->push_back(torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  seq->push_back(torch::nn::BatchNorm2d(out));
  seq->push_back(torch::nn::ReLU());
}
}  // namespace

ReductionBlockImpl::ReductionBlockImpl(int in_channels, const std::vector<int>& channels) {
  layers_ = register_module("layers", torch::nn::Sequential());
  int in = in_channels;
  for (size_t i = 0; i < channels.size(); ++i) {
    AppendConvBnRelu(layers_, in, channels[i], i % 2 == 0 ? 2 : 1);
    in = channels[i];
  }
}

torch::Tensor ReductionBlockImpl::forward(torch::Tensor x) { return layers_->forward(x); }

ScaleNetImpl::ScaleNetImpl(const ScaleNetConfig& config) : config_(config) {
  // Backbone (VGG-style conv stacks separated by max-pools).
  backbone_ = register_module("backbone", torch::nn::Sequential());
  const std::vector<int> vgg_convs = {2, 2, 3, 3};
  int in = config.in_channels;
  for (size_t b = 0; b < config.backbone_channels.size(); ++b) {
    const int n = config.convs_per_block > 0 ? config.convs_per_block : vgg_convs.at(b);
    for (int k = 0; k < n; ++k) {
      backbone_->push_back(torch::nn::Conv2d(
          torch::nn::Conv2dOptions(in, config.backbone_channels[b], 3).padding(1)));
      if (config.convs_per_block > 0) {
        backbone_->push_back(torch::nn::BatchNorm2d(config.backbone_channels[b]));
      }
      backbone_->push_back(torch::nn::ReLU());
      in = config.backbone_channels[b];
    }
    if (b + 1 < config.backbone_channels.size()) {
      backbone_->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
    }
  }
  // ASPP: three 3x3 dilated convolutions (rates 2, 3, 4), concatenated, fused by a 1x1 conv.
  auto dilated = [&](int rate) {
    return torch::nn::Conv2d(
        torch::nn::Conv2dOptions(in, config.aspp_channels, 3).padding(rate).dilation(rate));
  };
  aspp2_ = register_module("aspp2", dilated(2));
  aspp3_ = register_module("aspp3", dilated(3));
  aspp4_ = register_module("aspp4", dilated(4));
  aspp_fuse_ = register_module(
      "aspp_fuse",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(3 * config.aspp_channels, config.feature_channels, 1)));
  // 1x1 convs learning the cross-channel interactions that feed the correlation layers.
  self_conv_ = register_module(
      "self_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(config.feature_channels,
                                                              config.corr_channels, 1)));
  cross_conv_ = register_module(
      "cross_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(config.feature_channels,
                                                               config.corr_channels, 1)));
  const int locations = config.FeatureSize() * config.FeatureSize();
  reduce_self_ = register_module("reduce_self", ReductionBlock(locations, config.reduction_channels));
  reduce_cross_ =
      register_module("reduce_cross", ReductionBlock(locations, config.reduction_channels));
  const int reduced = config.FeatureSize() / 4;
  const int flat = 3 * config.reduction_channels.back() * reduced * reduced;
  fc_ = register_module("fc", torch::nn::Sequential(torch::nn::Linear(flat, config.fc_hidden),
                                                    torch::nn::ReLU(),
                                                    torch::nn::Linear(config.fc_hidden,
                                                                      config.fc_hidden / 2),
                                                    torch::nn::ReLU(),
                                                    torch::nn::Linear(config.fc_hidden / 2,
                                                                      kNumScaleBins)));
}

ScaleNetImageFeatures ScaleNetImpl::ExtractFeatures(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == config_.in_channels &&
                  images.size(2) == config_.input_size && images.size(3) == config_.input_size,
              "ScaleNet expects [N, ", config_.in_channels, ", ", config_.input_size, ", ",
              config_.input_size, "] input, got ", images.sizes());
  const torch::Tensor x = backbone_->forward(images);
  const torch::Tensor aspp = torch::cat({torch::relu(aspp2_->forward(x)),
                                         torch::relu(aspp3_->forward(x)),
                                         torch::relu(aspp4_->forward(x))},
                                        1);
  const torch::Tensor f = torch::relu(aspp_fuse_->forward(aspp));
  return {self_conv_->forward(f), cross_conv_->forward(f)};
}

torch::Tensor GlobalCorrelation(const torch::Tensor& a, const torch::Tensor& b) {
  const int64_t n = a.size(0), c = a.size(1), h = b.size(2), w = b.size(3);
  const torch::Tensor fa = a.flatten(2).transpose(1, 2);  // [N, hw_a, C]
  const torch::Tensor fb = b.flatten(2);                  // [N, C, hw_b]
  torch::Tensor corr = torch::bmm(fa, fb) / std::sqrt(static_cast<double>(c));  // [N, hw_a, hw_b]
  corr = corr.view({n, fa.size(1), h, w});
  corr = torch::relu(corr);
  return corr / (corr.norm(2, 1, true) + 1e-6);
}

torch::Tensor ScaleNetImpl::PairLogits(const ScaleNetImageFeatures& a,
                                       const ScaleNetImageFeatures& b) {
  const torch::Tensor c_a = reduce_self_->forward(GlobalCorrelation(a.self_features, a.self_features));
  const torch::Tensor c_b = reduce_self_->forward(GlobalCorrelation(b.self_features, b.self_features));
  const torch::Tensor c_ab =
      reduce_cross_->forward(GlobalCorrelation(a.cross_features, b.cross_features));
  const torch::Tensor flat = torch::cat({c_a.flatten(1), c_b.flatten(1), c_ab.flatten(1)}, 1);
  return fc_->forward(flat);
}

}  // namespace scalesfm
