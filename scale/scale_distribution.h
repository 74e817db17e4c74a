// The scale distribution over L = 13 bins s_i = sigma^t (sigma = sqrt(2), t = -6..6) and the
// read-outs of the ScaleNet paper: soft scale (eq. 2), consistency check (eq. 3), the
// ground-truth distribution satisfying eq. 6, and D-ScaleNet's hard assignment (argmax).
#pragma once

#include <torch/torch.h>

namespace scalesfm {

// ln(s_i) for the 13 bins, as a [13] tensor.
torch::Tensor LogBinScales(const torch::TensorOptions& options = torch::kFloat32);

// Eq. 6: for ln(s) inside [ln s_0, ln s_12] the mass goes to the two bins around ln(s), linearly,
// so that sum_i p_i ln(s_i) = ln(s) exactly. Outside the range it is clamped to the end bin.
// `log_scale`: [N] natural logarithms -> [N, 13].
torch::Tensor GroundTruthDistribution(const torch::Tensor& log_scale);

// Eq. 2: soft scale in log space, sum_i p_i ln(s_i). probs [N, 13] -> [N].
torch::Tensor SoftLogScale(const torch::Tensor& probs);

// Eq. 3: (S_AB - S_BA) / 2 in log space, from the two directions' distributions.
torch::Tensor ConsistentLogScale(const torch::Tensor& probs_ab, const torch::Tensor& probs_ba);

// Eq. 1: KL(P_gt || P) from logits, averaged over the batch.
torch::Tensor ScaleKlLoss(const torch::Tensor& logits, const torch::Tensor& gt_probs);

}  // namespace scalesfm
