#include "matching/dualrc_model.h"

#include "feature/network_input.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {

namespace nn = torch::nn;

DualRcNetConfig DualRcNetConfig::Paper() {
  DualRcNetConfig c;
  c.name = "paper";
  c.backbone = "resnet101";
  c.in_channels = 3;
  c.block_channels.clear();
  c.block_convs.clear();
  c.fpn_channels = 1024;
  c.nc_kernel_sizes = {3, 3};
  c.nc_channels = {16, 1};
  c.frozen_stages = 3;
  return c;
}

DualRcNetConfig DualRcNetConfig::Compact() { return DualRcNetConfig(); }

DualRcNetConfig DualRcNetConfig::FromName(const std::string& name) {
  if (name == "paper") return Paper();
  if (name == "compact") return Compact();
  throw Error("unknown DualRC-Net config '" + name + "' (known: compact, paper)");
}

// ---------------------------------------------------------------------------------------------
// §3.1: 4D convolution, mutual matching, neighbourhood consensus.

Conv4dImpl::Conv4dImpl(int in_channels, int out_channels, int kernel_size)
    : kernel_size_(kernel_size) {
  if (kernel_size < 1 || kernel_size % 2 == 0) {
    throw Error("DualRC-Net: 4D kernel sizes must be odd, not " + std::to_string(kernel_size));
  }
  const int k = kernel_size;
  // PyTorch's default conv initialisation (uniform in +-1/sqrt(fan_in)), fan_in = in * k^4.
  const double bound = 1.0 / std::sqrt(double(in_channels) * k * k * k * k);
  weight = register_parameter(
      "weight", torch::empty({k, out_channels, in_channels, k, k, k}).uniform_(-bound, bound));
  bias = register_parameter("bias", torch::empty({out_channels}).uniform_(-bound, bound));
}

torch::Tensor Conv4dImpl::forward(const torch::Tensor& x) {
  // x [B, C, h1, w1, h2, w2]. Loop over the kernel's first dimension: output row i sums the 3D
  // convolutions of input rows i + q - p (zero outside) with kernel slice q. Every row is done
  // at once by folding h1 into the batch.
  const int64_t b = x.size(0), c = x.size(1), h1 = x.size(2);
  const int64_t w1 = x.size(3), h2 = x.size(4), w2 = x.size(5);
  const int p = kernel_size_ / 2;
  const torch::Tensor rows =
      torch::constant_pad_nd(x, {0, 0, 0, 0, 0, 0, p, p}).permute({2, 0, 1, 3, 4, 5}).contiguous();
  torch::Tensor out;
  for (int q = 0; q < kernel_size_; ++q) {
    const torch::Tensor in = rows.narrow(0, q, h1).reshape({h1 * b, c, w1, h2, w2});
    const torch::Tensor y = torch::conv3d(in, weight[q], q == p ? bias : torch::Tensor(),
                                          /*stride=*/1, /*padding=*/p);
    out = out.defined() ? out + y : y;
  }
  return out.reshape({h1, b, -1, w1, h2, w2}).permute({1, 2, 0, 3, 4, 5}).contiguous();
}

NeighConsensusImpl::NeighConsensusImpl(const std::vector<int>& kernel_sizes,
                                       const std::vector<int>& channels) {
  if (kernel_sizes.empty() || kernel_sizes.size() != channels.size() || channels.back() != 1) {
    throw Error("DualRC-Net: the NC layers need as many kernel sizes as channels, the last 1");
  }
  conv_ = nn::Sequential();
  int in = 1;
  for (size_t i = 0; i < kernel_sizes.size(); ++i) {
    conv_->push_back(Conv4d(in, channels[i], kernel_sizes[i]));
    conv_->push_back(nn::ReLU());
    in = channels[i];
  }
  register_module("conv", conv_);
}

torch::Tensor NeighConsensusImpl::forward(const torch::Tensor& corr4d) {
  const std::vector<int64_t> swap = {0, 1, 4, 5, 2, 3};
  return conv_->forward(corr4d) + conv_->forward(corr4d.permute(swap)).permute(swap);
}

torch::Tensor MutualMatching(const torch::Tensor& corr4d) {
  const int64_t b = corr4d.size(0), ha = corr4d.size(2), wa = corr4d.size(3);
  const int64_t hb = corr4d.size(4), wb = corr4d.size(5);
  constexpr double kEps = 1e-5;
  // Ratio to the best A cell of each B cell, and to the best B cell of each A cell.
  torch::Tensor by_b = corr4d.reshape({b, ha * wa, hb, wb});
  torch::Tensor by_a = corr4d.reshape({b, ha, wa, hb * wb});
  by_b = by_b / (std::get<0>(by_b.max(1, true)) + kEps);
  by_a = by_a / (std::get<0>(by_a.max(3, true)) + kEps);
  return corr4d * (by_a.reshape(corr4d.sizes()) * by_b.reshape(corr4d.sizes()));
}

torch::Tensor Correlation4d(const torch::Tensor& a, const torch::Tensor& b) {
  const int64_t n = a.size(0), c = a.size(1), ha = a.size(2), wa = a.size(3);
  const int64_t hb = b.size(2), wb = b.size(3);
  const torch::Tensor m =
      torch::bmm(a.reshape({n, c, ha * wa}).transpose(1, 2), b.reshape({n, c, hb * wb}));
  return m.reshape({n, 1, ha, wa, hb, wb});
}

torch::Tensor FeatureL2Norm(const torch::Tensor& x) {
  return x / torch::sqrt(x.pow(2).sum(1, true) + 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Backbones.

namespace {

// A Sequential with a plain forward, so that one can hold another (ResNet stages hold layers).
class ChainImpl : public nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(Chain);

nn::Conv2d Conv(int in, int out, int k, int stride = 1, int pad = 0, bool bias = false) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(bias));
}

// torchvision's ResNet Bottleneck (v1.5: the stride is in the 3x3 conv).
class BottleneckImpl : public nn::Module {
 public:
  BottleneckImpl(int in, int planes, int stride) {
    conv1 = register_module("conv1", Conv(in, planes, 1));
    bn1 = register_module("bn1", nn::BatchNorm2d(planes));
    conv2 = register_module("conv2", Conv(planes, planes, 3, stride, 1));
    bn2 = register_module("bn2", nn::BatchNorm2d(planes));
    conv3 = register_module("conv3", Conv(planes, planes * 4, 1));
    bn3 = register_module("bn3", nn::BatchNorm2d(planes * 4));
    if (stride != 1 || in != planes * 4) {
      downsample = register_module("downsample", nn::Sequential(Conv(in, planes * 4, 1, stride),
                                                                nn::BatchNorm2d(planes * 4)));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1(conv1(x)));
    y = torch::relu(bn2(conv2(y)));
    y = bn3(conv3(y));
    return torch::relu(y + (downsample ? downsample->forward(x) : x));
  }
  nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  nn::Sequential downsample{nullptr};
};
TORCH_MODULE(Bottleneck);

Chain ResNetLayer(int* in, int planes, int blocks, int stride) {
  Chain layer;
  for (int i = 0; i < blocks; ++i) {
    layer->push_back(Bottleneck(*in, planes, i == 0 ? stride : 1));
    *in = planes * 4;
  }
  return layer;
}

// ResNet-101 up to layer3 as the official extractor_list: [conv1, bn1, relu, maxpool, layer1],
// [layer2], [layer3].
std::vector<Chain> ResNet101Stages(int in_channels) {
  int in = 64;
  Chain s0(Conv(in_channels, 64, 7, 2, 3), nn::BatchNorm2d(64), nn::ReLU(),
           nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
  s0->push_back(ResNetLayer(&in, 64, 3, 1));
  // Pushed, not passed to the constructor: Chain(chain) copies the holder, which would drop the
  // official nesting (extractor_list.1.0.<block>, not extractor_list.1.<block>).
  Chain s1, s2;
  s1->push_back(ResNetLayer(&in, 128, 4, 2));
  s2->push_back(ResNetLayer(&in, 256, 23, 2));
  return {s0, s1, s2};
}

// A VGG encoder (torchvision's layout, S2DNet compact's sizes) cut after conv3_3, conv4_3 and
// conv5_3 (with their ReLUs); the pooling before blocks 4 and 5 opens stages 1 and 2.
std::vector<Chain> VggStages(const DualRcNetConfig& config) {
  if (config.block_channels.size() != 5 || config.block_convs.size() != 5) {
    throw Error("DualRC-Net: the vgg backbone needs five blocks");
  }
  std::vector<Chain> stages = {Chain(), Chain(), Chain()};
  int in = config.in_channels;
  for (int block = 0; block < 5; ++block) {
    Chain& stage = stages[block <= 2 ? 0 : block - 2];
    if (block > 0) stage->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
    for (int k = 0; k < config.block_convs[block]; ++k) {
      stage->push_back(Conv(in, config.block_channels[block], 3, 1, 1, /*bias=*/true));
      stage->push_back(nn::ReLU());
      in = config.block_channels[block];
    }
  }
  return stages;
}

}  // namespace

DualRcFeaturesImpl::DualRcFeaturesImpl(const DualRcNetConfig& config) {
  std::vector<Chain> stages;
  std::vector<int> stage_channels;
  if (config.backbone == "resnet101") {
    stages = ResNet101Stages(config.in_channels);
    stage_channels = {256, 512, 1024};
  } else if (config.backbone == "vgg") {
    stages = VggStages(config);
    stage_channels = {config.block_channels[2], config.block_channels[3], config.block_channels[4]};
  } else {
    throw Error("DualRC-Net: unknown backbone '" + config.backbone + "' (known: resnet101, vgg)");
  }
  // The top-down path adds the up-sampled coarse stage to the projected finer ones (Figure 2).
  if (config.fpn_channels != stage_channels[2]) {
    throw Error("DualRC-Net: fpn_channels must equal the 1/16 stage's channels");
  }
  extractor_list_ = nn::ModuleList();
  for (auto& s : stages) extractor_list_->push_back(s);
  register_module("extractor_list", extractor_list_);
  inner_block_list_ = nn::ModuleList();
  for (int i : {1, 0}) {  // top-down: 1/8 then 1/4
    inner_block_list_->push_back(Conv(stage_channels[i], config.fpn_channels, 1, 1, 0, true));
  }
  register_module("inner_block_list", inner_block_list_);
  last_layer_block_ =
      register_module("last_layer_block", Conv(config.fpn_channels, config.fpn_channels, 3, 1, 1,
                                               /*bias=*/true));
  SetFrozen(config.frozen_stages);
}

void DualRcFeaturesImpl::SetFrozen(int frozen_stages) {
  frozen_stages_ = frozen_stages;
  for (size_t i = 0; i < extractor_list_->size(); ++i) {
    for (auto& p : extractor_list_[i]->parameters()) {
      p.set_requires_grad(static_cast<int>(i) >= frozen_stages);
    }
  }
  train(is_training());
}

void DualRcFeaturesImpl::train(bool on) {
  nn::Module::train(on);
  // Frozen stages keep their BatchNorm statistics (the official model runs its extractor in
  // eval mode throughout training).
  for (int i = 0; i < frozen_stages_ && i < static_cast<int>(extractor_list_->size()); ++i) {
    extractor_list_[i]->train(false);
  }
}

std::vector<torch::Tensor> DualRcFeaturesImpl::forward(const torch::Tensor& images) {
  std::vector<torch::Tensor> bottom_up;
  torch::Tensor x = images;
  for (size_t i = 0; i < extractor_list_->size(); ++i) {
    x = extractor_list_[i]->as<ChainImpl>()->forward(x);
    bottom_up.push_back(x);
  }
  torch::Tensor coarse = bottom_up[2];
  torch::Tensor merged = coarse;
  for (int i = 0; i < 2; ++i) {  // 1/8, then 1/4
    const torch::Tensor& lateral = bottom_up[1 - i];
    namespace F = torch::nn::functional;
    merged =
        inner_block_list_[i]->as<nn::Conv2d>()->forward(lateral) +
        F::interpolate(merged, F::InterpolateFuncOptions()
                                   .size(std::vector<int64_t>{lateral.size(2), lateral.size(3)})
                                   .mode(torch::kBilinear)
                                   .align_corners(true));
  }
  return {last_layer_block_->forward(merged), coarse};
}

DualRcNetImpl::DualRcNetImpl(const DualRcNetConfig& config) : config_(config) {
  features_ = register_module("FeatureExtraction", DualRcFeatures(config));
  neigh_consensus_ =
      register_module("NeighConsensus", NeighConsensus(config.nc_kernel_sizes, config.nc_channels));
}

std::vector<torch::Tensor> DualRcNetImpl::Features(const torch::Tensor& images) {
  std::vector<torch::Tensor> maps = features_->forward(images);
  return {FeatureL2Norm(maps[0]), FeatureL2Norm(maps[1])};
}

torch::Tensor DualRcNetImpl::FilterCorrelation(const torch::Tensor& coarse_a,
                                               const torch::Tensor& coarse_b) {
  torch::Tensor corr = MutualMatching(Correlation4d(coarse_a, coarse_b));
  return MutualMatching(neigh_consensus_->forward(corr));
}

DualRcOutput DualRcNetImpl::forward(const torch::Tensor& images_a, const torch::Tensor& images_b) {
  const std::vector<torch::Tensor> a = Features(images_a), b = Features(images_b);
  return {FilterCorrelation(a[1], b[1]), a[0], b[0]};
}

torch::Tensor DualRcNetInput(const cv::Mat& image, const DualRcNetConfig& config) {
  return ImageToNetworkInput(image, DualRcNetConfig::kStride, config.in_channels,
                             NetworkInputFit::kPad, "DualRC-Net");
}

std::string DualRcNetWeightsPath(const std::string& weights) {
  return weights.empty() ? DefaultWeights("dualrc_compact.pt") : weights;
}

DualRcNet LoadDualRcNet(const std::string& weights) {
  return LoadModelOfSidecarConfig<DualRcNet, DualRcNetConfig>(
      weights, "dualrc", "DualRC-Net",
      "train one with `scalesfm train_dualrc` or pass --Matching.dualrc_weights");
}

}  // namespace scalesfm
