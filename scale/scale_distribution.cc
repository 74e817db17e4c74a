#include "scale/scale_distribution.h"

#include <cmath>

#include "scale/scale_estimator.h"

namespace scalesfm {

torch::Tensor LogBinScales(const torch::TensorOptions& options) {
  const int half = kNumScaleBins / 2;
  return torch::arange(-half, half + 1, options) * std::log(std::sqrt(2.0));
}

torch::Tensor GroundTruthDistribution(const torch::Tensor& log_scale) {
  const int half = kNumScaleBins / 2;
  const torch::Tensor t =
      (log_scale.to(torch::kFloat64) / std::log(std::sqrt(2.0))).clamp(-half, half);
  const torch::Tensor lower = t.floor().clamp(-half, half - 1);
  const torch::Tensor w = t - lower;  // weight of the upper bin
  const torch::Tensor idx = (lower + half).to(torch::kLong).unsqueeze(1);
  torch::Tensor p = torch::zeros({log_scale.size(0), kNumScaleBins}, torch::kFloat64);
  p.scatter_add_(1, idx, (1 - w).unsqueeze(1));
  p.scatter_add_(1, idx + 1, w.unsqueeze(1));
  return p.to(log_scale.options().dtype(torch::kFloat32));
}

torch::Tensor SoftLogScale(const torch::Tensor& probs) {
  return (probs * LogBinScales(probs.options())).sum(1);
}

torch::Tensor ConsistentLogScale(const torch::Tensor& probs_ab, const torch::Tensor& probs_ba) {
  return 0.5 * (SoftLogScale(probs_ab) - SoftLogScale(probs_ba));
}

torch::Tensor ScaleKlLoss(const torch::Tensor& logits, const torch::Tensor& gt_probs) {
  return torch::kl_div(torch::log_softmax(logits, 1), gt_probs, at::Reduction::Sum) /
         logits.size(0);
}

}  // namespace scalesfm
