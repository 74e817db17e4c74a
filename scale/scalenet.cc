#include "scale/scalenet.h"

#include "scale/scale_estimator.h"
#include "util/logging.h"

namespace scalesfm {

ScaleNetConfig ScaleNetConfig::Compact() { return ScaleNetConfig(); }

ScaleNetConfig ScaleNetConfig::Paper() {
  ScaleNetConfig c;
  c.name = "paper";
  c.input_size = 240;
  c.in_channels = 3;
  c.letterbox = false;
  c.backbone = {{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}};
  c.backbone_batchnorm = false;
  c.feature_channels = 512;
  c.aspp_dilations = {1, 2, 3};
  c.reduction_channels = {256, 128, 64, 32};
  c.head_channels = {2056, 1024, 512, 256, 128};
  return c;
}

ScaleNetConfig ScaleNetConfig::FromName(const std::string& name) {
  if (name == "compact") return Compact();
  if (name == "paper") return Paper();
  throw Error("unknown ScaleNet config '" + name + "' (known: compact, paper)");
}

namespace {

torch::nn::LeakyReLU LeakyRelu() {
  return torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.1));
}

// Conv(k) - BN - LeakyReLU(0.1), appended to `seq`.
void AppendConvBnLrelu(torch::nn::Sequential& seq, int in, int out, int kernel, int padding = 0,
                       int dilation = 1) {
  seq->push_back(torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).padding(padding).dilation(dilation)));
  seq->push_back(torch::nn::BatchNorm2d(out));
  seq->push_back(LeakyRelu());
}

}  // namespace

AsppImpl::AsppImpl(int channels, const std::vector<int>& dilations) {
  const int levels = 1 + static_cast<int>(dilations.size());
  for (int k = 0; k < levels; ++k) {
    torch::nn::Sequential branch;
    if (k == 0) {
      AppendConvBnLrelu(branch, channels, channels, 1);
    } else {
      const int d = dilations[k - 1];
      AppendConvBnLrelu(branch, channels, channels, 3, d, d);
    }
    branches_.push_back(register_module("ms_" + std::to_string(k), branch));
  }
  mix_comb_ = register_module("mix_comb", torch::nn::Sequential());
  AppendConvBnLrelu(mix_comb_, channels * levels, channels * levels / 2, 1);
  mix_comb_->push_back(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(channels * levels / 2, channels, 1)));
}

torch::Tensor AsppImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> outputs;
  for (auto& branch : branches_) outputs.push_back(branch->forward(x));
  return mix_comb_->forward(torch::cat(outputs, 1));
}

ScaleNetImpl::ScaleNetImpl(const ScaleNetConfig& config) : config_(config) {
  backbone_ = register_module("backbone", torch::nn::Sequential());
  int in = config.in_channels;
  for (const std::vector<int>& block : config.backbone) {
    for (int out : block) {
      backbone_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)));
      if (config.backbone_batchnorm) backbone_->push_back(torch::nn::BatchNorm2d(out));
      backbone_->push_back(torch::nn::ReLU());
      in = out;
    }
    backbone_->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
  }
  TORCH_CHECK(in == config.feature_channels, "backbone width ", in, " != feature_channels ",
              config.feature_channels);
  aspp_ = register_module("aspp", Aspp(config.feature_channels, config.aspp_dilations));

  const int locations = config.FeatureSize() * config.FeatureSize();
  auto reduction = [&]() {
    torch::nn::Sequential seq;
    int c = locations;
    for (int out : config.reduction_channels) {
      AppendConvBnLrelu(seq, c, out, 3);
      c = out;
    }
    return seq;
  };
  reduce_ab_ = register_module("reduce_ab", reduction());
  reduce_a_ = register_module("reduce_a", reduction());
  reduce_b_ = register_module("reduce_b", reduction());

  // Fully connected layers as 1x1 convolutions; dropout after the 3rd, 4th and 5th layers.
  head_ = register_module("head", torch::nn::Sequential());
  const int flat =
      3 * config.reduction_channels.back() * config.ReducedSize() * config.ReducedSize();
  int c = flat;
  for (size_t i = 0; i < config.head_channels.size(); ++i) {
    AppendConvBnLrelu(head_, c, config.head_channels[i], 1);
    if (i >= 2) head_->push_back(torch::nn::Dropout(config.dropout));
    c = config.head_channels[i];
  }
  head_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(c, kNumScaleBins, 1)));
}

ScaleNetImageFeatures ScaleNetImpl::ExtractFeatures(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == config_.in_channels &&
                  images.size(2) == config_.input_size && images.size(3) == config_.input_size,
              "ScaleNet expects [N, ", config_.in_channels, ", ", config_.input_size, ", ",
              config_.input_size, "] input, got ", images.sizes());
  const torch::Tensor f = aspp_->forward(backbone_->forward(images));
  ScaleNetImageFeatures out;
  out.features = f / (f.pow(2).sum(1, true) + 1e-6).sqrt();
  return out;
}

torch::Tensor CorrelationVolume(const torch::Tensor& a, const torch::Tensor& b) {
  const int64_t n = a.size(0), c = a.size(1), h = a.size(2), w = a.size(3);
  const torch::Tensor fa = a.reshape({n, c, h * w}).transpose(1, 2);               // [N, hw, C]
  const torch::Tensor fb = b.transpose(2, 3).contiguous().reshape({n, c, h * w});  // col-major
  torch::Tensor corr = torch::bmm(fa, fb)  // [N, hw_a, hw_b]
                           .view({n, h, w, h * w})
                           .permute({0, 3, 1, 2});  // [N, hw_b, h, w]
  corr = torch::relu(corr);
  return corr / (corr.pow(2).sum(1, true) + 1e-6).sqrt();
}

void ScaleNetImpl::CacheSelfCorrelation(ScaleNetImageFeatures* f) {
  torch::NoGradGuard no_grad;
  const torch::Tensor self = CorrelationVolume(f->features, f->features);
  f->self_as_a = reduce_a_->forward(self).flatten(1);
  f->self_as_b = reduce_b_->forward(self).flatten(1);
}

torch::Tensor ScaleNetImpl::PairLogits(const ScaleNetImageFeatures& a,
                                       const ScaleNetImageFeatures& b) {
  const torch::Tensor ab = reduce_ab_->forward(CorrelationVolume(a.features, b.features));
  const torch::Tensor aa =
      a.self_as_a.defined()
          ? a.self_as_a
          : reduce_a_->forward(CorrelationVolume(a.features, a.features)).flatten(1);
  const torch::Tensor bb =
      b.self_as_b.defined()
          ? b.self_as_b
          : reduce_b_->forward(CorrelationVolume(b.features, b.features)).flatten(1);
  const torch::Tensor flat = torch::cat({ab.flatten(1), aa, bb}, 1);
  return head_->forward(flat.unsqueeze(-1).unsqueeze(-1)).flatten(1);
}

}  // namespace scalesfm
