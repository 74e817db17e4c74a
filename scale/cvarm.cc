#include "scale/cvarm.h"

#include "util/logging.h"

namespace scalesfm {

CvarmConfig CvarmConfig::Compact() { return CvarmConfig(); }

CvarmConfig CvarmConfig::Paper() {
  CvarmConfig c;
  c.name = "paper";
  c.input_size = 640;
  c.in_channels = 3;
  c.resnet18 = true;
  c.backbone.clear();
  c.feature_channels = 256;
  c.regressor_channels = {256, 128, 64, 32};  // 40 -> 32 px
  c.fc_channels = {512, 128};
  return c;
}

CvarmConfig CvarmConfig::FromName(const std::string& name) {
  if (name == "compact") return Compact();
  if (name == "paper") return Paper();
  throw Error("unknown CVARM config '" + name + "' (known: compact, paper)");
}

int CvarmConfig::Stride() const { return resnet18 ? 16 : (1 << static_cast<int>(backbone.size())); }

BasicBlockImpl::BasicBlockImpl(int in, int out, int stride) {
  conv1_ = register_module(
      "conv1", torch::nn::Conv2d(
                   torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(out));
  conv2_ = register_module(
      "conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(out));
  if (stride != 1 || in != out) {
    downsample_ = register_module(
        "downsample",
        torch::nn::Sequential(
            torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)),
            torch::nn::BatchNorm2d(out)));
  }
}

torch::Tensor BasicBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = torch::relu(bn1_->forward(conv1_->forward(x)));
  y = bn2_->forward(conv2_->forward(y));
  return torch::relu(y + (downsample_ ? downsample_->forward(x) : x));
}

namespace {

// A ResNet stage ("layer1".."layer3"): blocks named 0, 1 as torchvision names them. A Sequential
// with a plain forward, so that it can sit inside another Sequential.
struct ResLayerImpl : torch::nn::SequentialImpl {
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(x); }
};
TORCH_MODULE(ResLayer);

// ResNet-18 up to conv4_2 (torchvision's names: conv1, bn1, layer1..layer3), stride 16.
torch::nn::Sequential ResNet18ToConv4(int in_channels) {
  torch::nn::Sequential seq;
  seq->push_back(
      "conv1", torch::nn::Conv2d(
                   torch::nn::Conv2dOptions(in_channels, 64, 7).stride(2).padding(3).bias(false)));
  seq->push_back("bn1", torch::nn::BatchNorm2d(64));
  seq->push_back("relu", torch::nn::ReLU());
  seq->push_back("maxpool",
                 torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(3).stride(2).padding(1)));
  int in = 64;
  int index = 1;
  for (int out : {64, 128, 256}) {
    const int stride = out == 64 ? 1 : 2;
    seq->push_back("layer" + std::to_string(index++),
                   ResLayer(BasicBlock(in, out, stride), BasicBlock(out, out, 1)));
    in = out;
  }
  return seq;
}

torch::nn::Sequential VggBlocks(const CvarmConfig& config) {
  torch::nn::Sequential seq;
  int in = config.in_channels;
  for (const std::vector<int>& block : config.backbone) {
    for (int out : block) {
      seq->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)));
      seq->push_back(torch::nn::BatchNorm2d(out));
      seq->push_back(torch::nn::ReLU());
      in = out;
    }
    seq->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
  }
  TORCH_CHECK(in == config.feature_channels, "backbone width ", in, " != feature_channels ",
              config.feature_channels);
  return seq;
}

torch::Tensor Resize2x(const torch::Tensor& x, bool up) {
  if (!up) return torch::avg_pool2d(x, 2);  // Ds: 2x2 box filter
  namespace F = torch::nn::functional;
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .scale_factor(std::vector<double>{2.0, 2.0})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

}  // namespace

MsfefImpl::MsfefImpl(const CvarmConfig& config) {
  extractor_ = register_module(
      "extractor", config.resnet18 ? ResNet18ToConv4(config.in_channels) : VggBlocks(config));
  omega_ = register_parameter("omega", torch::full({3}, 1.0 / 3.0));
}

torch::Tensor MsfefImpl::forward(const torch::Tensor& images) {
  // Eq. 2: F_sum = w1 Ds(E(Us(I))) + w2 E(I) + w3 Us(E(Ds(I))).
  const torch::Tensor hr = Resize2x(extractor_->forward(Resize2x(images, true)), false);
  const torch::Tensor orig = extractor_->forward(images);
  const torch::Tensor lr = Resize2x(extractor_->forward(Resize2x(images, false)), true);
  const torch::Tensor sum = omega_[0] * hr + omega_[1] * orig + omega_[2] * lr;
  // Eq. 3: F = L2Norm(F_sum) over the channels.
  return sum / (sum.pow(2).sum(1, true) + 1e-6).sqrt();
}

torch::Tensor CvarmCorrelation(const torch::Tensor& f1, const torch::Tensor& f2) {
  const int64_t n = f1.size(0), h = f1.size(2), w = f1.size(3);
  TORCH_CHECK(f2.sizes() == f1.sizes(), "CVARM needs feature maps of one size, got ", f1.sizes(),
              " and ", f2.sizes());
  const torch::Tensor a = f1.flatten(2).transpose(1, 2);  // [N, hw1, c]
  const torch::Tensor b = f2.flatten(2);                  // [N, c, hw2], k = y * w + x
  return torch::bmm(a, b).transpose(1, 2).reshape({n, h * w, h, w});
}

CvarmImpl::CvarmImpl() {
  auto conv5 = [] {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 1, 5).padding(2).bias(false));
  };
  cab1_ = register_module("cab1", conv5());
  cab2_ = register_module("cab2", conv5());
}

CvarmMaps CvarmImpl::forward(const torch::Tensor& f1, const torch::Tensor& f2) {
  CvarmMaps maps;
  maps.correlation = CvarmCorrelation(f1, f2);  // eq. 4
  const int64_t n = f1.size(0), h = f1.size(2), w = f1.size(3);
  // Eq. 5, CAB1: the HSVP of each I1 patch (max over the channels), refined.
  maps.m1 = torch::sigmoid(cab1_->forward(std::get<0>(maps.correlation.max(1, true))));
  // Eqs. 6-8, CAB2: the HSVP of each I2 patch (max over the grid), reshaped to I2's grid (Rsp1),
  // refined, and reshaped back to one weight per channel (Rsp2).
  const torch::Tensor s2 = maps.correlation.flatten(2).amax(2).reshape({n, 1, h, w});
  maps.m2 = torch::sigmoid(cab2_->forward(s2));
  const torch::Tensor m2_vec = maps.m2.reshape({n, h * w, 1, 1});
  // Eq. 9: C12,CR = M2vec (x) (M1 (x) C12), M1 broadcast over channels, M2vec over the grid.
  maps.reinforced = m2_vec * (maps.m1 * maps.correlation);
  return maps;
}

CvarmNetImpl::CvarmNetImpl(const CvarmConfig& config) : config_(config) {
  TORCH_CHECK(config.input_size % (2 * config.Stride()) == 0, "CVARM input size ",
              config.input_size, " must be a multiple of twice the stride ", config.Stride());
  TORCH_CHECK(config.RegressedSize() >= 1, "CVARM regressor shrinks the grid below 1");
  msfef_ = register_module("msfef", Msfef(config));
  cvarm_ = register_module("cvarm", Cvarm());
  regressor_ = register_module("regressor", torch::nn::Sequential());
  const int h = config.FeatureSize();
  int c = h * h;
  for (int out : config.regressor_channels) {
    regressor_->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(c, out, 3)));
    regressor_->push_back(torch::nn::BatchNorm2d(out));
    regressor_->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.1)));
    c = out;
  }
  int grid = config.RegressedSize();
  if (grid > 8) {
    regressor_->push_back(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(8)));
    grid = 8;
  }
  regressor_->push_back(torch::nn::Flatten());
  c *= grid * grid;
  for (int out : config.fc_channels) {
    regressor_->push_back(torch::nn::Linear(c, out));
    regressor_->push_back(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.1)));
    regressor_->push_back(torch::nn::Dropout(config.dropout));
    c = out;
  }
  regressor_->push_back(torch::nn::Linear(c, 1));  // log2 s_hat
}

torch::Tensor CvarmNetImpl::ExtractFeatures(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == config_.in_channels &&
                  images.size(2) == config_.input_size && images.size(3) == config_.input_size,
              "CVARM expects [N, ", config_.in_channels, ", ", config_.input_size, ", ",
              config_.input_size, "] input, got ", images.sizes());
  return msfef_->forward(images);
}

torch::Tensor CvarmNetImpl::PairLog2Scale(const torch::Tensor& f1, const torch::Tensor& f2,
                                          CvarmMaps* maps) {
  CvarmMaps m = cvarm_->forward(f1, f2);
  const torch::Tensor out = regressor_->forward(m.reinforced).flatten();
  if (maps) *maps = std::move(m);
  return out;
}

DualConsistentLoss CvarmLoss(const torch::Tensor& log2_ab, const torch::Tensor& log2_ba,
                             const torch::Tensor& log2_gt, double lambda_d, double lambda_c) {
  DualConsistentLoss loss;
  // Eq. 10: l_d = 1/(2N) sum [(log2 s_hat / s)^2 + (log2 s_hat' s)^2].
  loss.dual = 0.5 * ((log2_ab - log2_gt).pow(2) + (log2_ba + log2_gt).pow(2)).mean();
  // Eq. 11: l_c = 1/N sum (log2 s_hat + log2 s_hat')^2.
  loss.consistent = (log2_ab + log2_ba).pow(2).mean();
  // Eq. 12.
  loss.total = lambda_d * loss.dual + lambda_c * loss.consistent;
  return loss;
}

torch::Tensor SymmetricLog2Scale(const torch::Tensor& log2_ab, const torch::Tensor& log2_ba) {
  return 0.5 * (log2_ab - log2_ba);
}

}  // namespace scalesfm
