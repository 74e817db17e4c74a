#include "matching/s2dnet_model.h"

#include <filesystem>

#include "feature/network_input.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {

S2DNetConfig S2DNetConfig::Paper() {
  S2DNetConfig c;
  c.name = "paper";
  c.in_channels = 3;
  c.block_channels = {64, 128, 256, 512, 512};
  c.adaptation_hidden = 64;
  c.descriptor_dim = 128;
  c.last_tap_before_relu = true;
  return c;
}

S2DNetConfig S2DNetConfig::Compact() { return S2DNetConfig(); }

S2DNetConfig S2DNetConfig::FromName(const std::string& name) {
  if (name == "paper") return Paper();
  if (name == "compact") return Compact();
  throw Error("unknown S2DNet config '" + name + "' (known: compact, paper)");
}

S2DNetImpl::S2DNetImpl(const S2DNetConfig& config) : config_(config) {
  namespace nn = torch::nn;
  if (config.block_channels.size() != 5 || config.block_convs.size() != 5) {
    throw Error("S2DNet config needs five VGG blocks");
  }
  // torchvision's VGG-16 `features`, index for index: conv, ReLU, ..., max-pool per block,
  // ending with the ReLU after conv5_3 (parameter-free, so names match the official layout).
  encoder_ = nn::Sequential();
  int in = config.in_channels, index = 0;
  for (int block = 0; block < 5; ++block) {
    for (int k = 0; k < config.block_convs[block]; ++k) {
      const int out = config.block_channels[block];
      encoder_->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1)));
      encoder_->push_back(nn::ReLU());
      in = out;
      index += 2;
      const bool last_conv = k + 1 == config.block_convs[block];
      // Extraction points: conv1_2, conv3_3, conv5_3 (the last conv of blocks 1, 3 and 5).
      if (last_conv && (block == 0 || block == 2 || block == 4)) {
        taps_.push_back(block == 4 && config.last_tap_before_relu ? index - 2 : index - 1);
      }
    }
    if (block < 4) {
      encoder_->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
      ++index;
    }
  }
  register_module("encoder", encoder_);
  auto adaptation = std::make_shared<nn::Module>();
  const int tapped[3] = {config.block_channels[0], config.block_channels[2],
                         config.block_channels[4]};
  for (int m = 0; m < S2DNetConfig::kNumLevels; ++m) {
    nn::Sequential layer(
        nn::Conv2d(nn::Conv2dOptions(tapped[m], config.adaptation_hidden, 1)), nn::ReLU(),
        nn::Conv2d(
            nn::Conv2dOptions(config.adaptation_hidden, config.descriptor_dim, 5).padding(2)),
        nn::BatchNorm2d(config.descriptor_dim));
    adaptation->register_module("adap_layer_" + std::to_string(m), layer);
    adaptation_.push_back(layer);
  }
  register_module("adaptation_layers", adaptation);
}

std::vector<torch::Tensor> S2DNetImpl::forward(const torch::Tensor& images) {
  std::vector<torch::Tensor> maps;
  torch::Tensor x = images;
  size_t next = 0;
  int index = 0;
  for (auto& layer : *encoder_) {
    if (next == taps_.size()) break;
    x = layer.forward(x);
    if (index++ == taps_[next]) {
      maps.push_back(adaptation_[next]->forward(x));
      ++next;
    }
  }
  return maps;
}

torch::Tensor S2DNetInput(const cv::Mat& image, const S2DNetConfig& config) {
  return ImageToNetworkInput(image, S2DNetConfig::kStride, config.in_channels,
                             NetworkInputFit::kPad, "S2DNet");
}

S2DNet LoadS2DNet(const std::string& weights) {
  return LoadModelOfSidecarConfig<S2DNet, S2DNetConfig>(
      weights, "s2dnet", "S2DNet",
      "train one with `scalesfm train_s2dnet` or pass --Matching.s2dnet_weights");
}

}  // namespace scalesfm
