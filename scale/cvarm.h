// Scale-Net with CVARM (Fu & Wu, "Scale-Net" / SDAIM paper, sec. III-C and Fig. 4), in LibTorch:
//   (b) MSFEF: a CNN E on a three-level pyramid of the image (Us(I), I, Ds(I)); the maps are
//       brought to E(I)'s resolution and summed with learned weights w1..w3, then L2-normalised
//       (eqs. 2-3);
//   (c) CVARM: the correlation map C12 of F1 and F2 (eq. 4), two covisibility-attention branches
//       (CAB1: max over C12's channels, eq. 5; CAB2: max over C12's spatial grid, eqs. 6-8), each
//       a 5x5 convolution without bias and a sigmoid (2 x 25 = 50 parameters, as the paper
//       says), and the reinforced map C12,CR = M2vec (x) (M1 (x) C12) (eq. 9);
//   (d) the scale-ratio regressor on C12,CR: convolutions over I1's grid (C12's channels are I2's
//       locations), then fully connected layers to one number, log2 s_hat.
// The paper gives the regressor only as a figure; the layer sizes here are ours (DESIGN_NOTES).
// Training uses the dual consistent loss (eqs. 10-12, training/cvarm_trainer.h).
// Per-image work (MSFEF) is cached by the estimator; a pair costs CVARM and the regressor.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace scalesfm {

struct CvarmConfig {
  std::string name = "compact";
  int input_size = 128;   // square canvas, letterboxed (both images must have the same size)
  int in_channels = 1;    // 1: grey (compact); 3: RGB with ImageNet normalisation (paper)
  bool resnet18 = false;  // E: ResNet-18 to conv4_2 (paper) or the VGG-style blocks below
  // VGG-style E: per block, the conv widths (3x3, BN, ReLU); a 2x2 max-pool ends every block.
  std::vector<std::vector<int>> backbone = {{16}, {32}, {64}};
  int feature_channels = 64;  // c of F
  // Regressor (d): 3x3 convolutions without padding over the h x w grid, then FC widths.
  std::vector<int> regressor_channels = {64, 32, 32, 16};
  std::vector<int> fc_channels = {256, 64};
  double dropout = 0.2;

  int Stride() const;
  int FeatureSize() const { return input_size / Stride(); }  // h = w of F
  int RegressedSize() const {
    return FeatureSize() - 2 * static_cast<int>(regressor_channels.size());
  }

  static CvarmConfig Compact();
  // The paper's sizes (sec. IV-B): ResNet-18 truncated after conv4_2 (stride 16, c = 256), RGB
  // 640 x 640 input, so h = w = 40 and C12 has 1600 channels.
  static CvarmConfig Paper();
  static CvarmConfig FromName(const std::string& name);
};

// ResNet-18's BasicBlock: two 3x3 conv-BN, identity or 1x1-conv-BN shortcut, ReLU.
class BasicBlockImpl : public torch::nn::Module {
 public:
  BasicBlockImpl(int in, int out, int stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Sequential downsample_{nullptr};
};
TORCH_MODULE(BasicBlock);

// (b) Multi-scale feature extraction and fusion, eqs. 2-3.
class MsfefImpl : public torch::nn::Module {
 public:
  explicit MsfefImpl(const CvarmConfig& config);
  // images [N, in_channels, S, S] -> F [N, c, S/stride, S/stride], L2-normalised over c.
  torch::Tensor forward(const torch::Tensor& images);

 private:
  torch::nn::Sequential extractor_{nullptr};  // E(.)
  torch::Tensor omega_;                       // w1 (Us level), w2 (I), w3 (Ds level)
};
TORCH_MODULE(Msfef);

// (c) CVARM: C12 (eq. 4) reinforced by the covisibility attention (eqs. 5-9).
struct CvarmMaps {
  torch::Tensor correlation;  // C12 [N, h*w, h, w]: channel k = I2 location k (row-major)
  torch::Tensor m1;           // [N, 1, h, w], I1's covisibility score map (eq. 5)
  torch::Tensor m2;           // [N, 1, h, w], I2's (eq. 8 before Rsp2)
  torch::Tensor reinforced;   // C12,CR (eq. 9)
};

class CvarmImpl : public torch::nn::Module {
 public:
  CvarmImpl();
  CvarmMaps forward(const torch::Tensor& f1, const torch::Tensor& f2);

 private:
  torch::nn::Conv2d cab1_{nullptr}, cab2_{nullptr};  // f^{5x5} of CAB1 and CAB2
};
TORCH_MODULE(Cvarm);

// Eq. 4: C12(i, j, k) = F1(i, j)^T F2(i_k, j_k), k indexing F2's grid row-major (k = y * w + x).
torch::Tensor CvarmCorrelation(const torch::Tensor& f1, const torch::Tensor& f2);

class CvarmNetImpl : public torch::nn::Module {
 public:
  explicit CvarmNetImpl(const CvarmConfig& config);
  const CvarmConfig& config() const { return config_; }

  // The per-image stage: F of MSFEF. images: [N, in_channels, S, S], normalised.
  torch::Tensor ExtractFeatures(const torch::Tensor& images);
  // The per-pair stage: log2 s_hat(I1 -> I2), [N].
  torch::Tensor PairLog2Scale(const torch::Tensor& f1, const torch::Tensor& f2,
                              CvarmMaps* maps = nullptr);
  torch::Tensor forward(const torch::Tensor& images_1, const torch::Tensor& images_2) {
    return PairLog2Scale(ExtractFeatures(images_1), ExtractFeatures(images_2));
  }

 private:
  CvarmConfig config_;
  Msfef msfef_{nullptr};
  Cvarm cvarm_{nullptr};
  torch::nn::Sequential regressor_{nullptr};
};
TORCH_MODULE(CvarmNet);

// The dual consistent loss, eqs. 10-12, on log2 estimates: log2_ab = log2 SN(I1, I2), log2_ba =
// log2 SN(I2, I1), log2_gt = log2 s. L = lambda_d l_d + lambda_c l_c.
struct DualConsistentLoss {
  torch::Tensor total, dual, consistent;
};
DualConsistentLoss CvarmLoss(const torch::Tensor& log2_ab, const torch::Tensor& log2_ba,
                             const torch::Tensor& log2_gt, double lambda_d = 1.0,
                             double lambda_c = 1.0);

// Inference: the estimate of A -> B from both directions, (log2 SN(A, B) - log2 SN(B, A)) / 2,
// which eq. 1 (phi(I2, I1) = 1 / phi(I1, I2)) makes exact for a consistent network.
torch::Tensor SymmetricLog2Scale(const torch::Tensor& log2_ab, const torch::Tensor& log2_ba);

}  // namespace scalesfm
