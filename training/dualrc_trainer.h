// `scalesfm train_dualrc`: DualRC-Net's keypoint-supervised loss (§3.4, eqs. 4-6) on synthetic
// plane pairs with GT homographies (training/scfeat_pairs.h; we have no MegaDepth). For N query
// cells of A (and of B), S^AB [N, T] is the guided score map of eq. 3 over B's fine map, clamped
// at 0 and normalised per row into a probability map; S_gt^AB splats each GT point bilinearly onto
// B's fine grid and blurs it with the official 3x3 Gaussian. L = L_k + lambda L_o with
// L_k = ||S^AB - S_gt^AB||_F + ||S^BA - S_gt^BA||_F (eq. 4) and the orthogonal term
// L_o = ||S S^T - S_gt S_gt^T||_F per direction (eq. 5), lambda = 0.05 (eq. 6).
// As the official model fixes its ImageNet backbone, the compact config starts its VGG backbone
// from our trained S2DNet encoder (--backbone_weights, default models/s2dnet_compact.pt) and
// fixes its first stage; the FPN, the later stages and the NC layers train. Adam at 1e-3,
// halved at 50% and 75% of the iterations (the official train.py halves it, gamma 0.5, after
// epochs 5, 10 and 15 of 15), a fixed seed,
// progress lines, validation on held-out images, checkpoints that resume.
#pragma once

#include <torch/torch.h>

#include <string>

#include "matching/dualrc_model.h"
#include "training/training.h"

namespace scalesfm {

struct DualRcTrainOptions : TrainingRunOptions {
  int iterations = 3000;
  int image_size = 256;                // pairs of this size (the official: 400)
  int correspondences_per_pair = 128;  // query cells per direction (the official numKey 128)
  // Scale changes up to 2^this: SDAIM gives the matcher pairs within a sqrt(2) bin, and the 4D
  // correlation assumes similar scales (§3.1).
  double max_log2_zoom = 1.0;
  double learning_rate = 1e-3;
  double orthogonal_weight = 0.05;  // lambda of eq. 6
  // Backbone start for the vgg backbone when there is no checkpoint and no --init_weights: an
  // S2DNet weights file of the same VGG sizes (empty: models/s2dnet_compact.pt).
  std::string backbone_weights;

  void Check() const;
};

// One pair's loss terms (eqs. 4-5), exposed for the tests.
struct DualRcLossTerms {
  torch::Tensor keypoint;    // L_k
  torch::Tensor orthogonal;  // L_o
};

// Eqs. 4-5 for one direction: query cells [N, 2] (integer fine cells of the source) and their GT
// positions [N, 2] in the target's fine cells; corr [ha, wa, hb, wb].
DualRcLossTerms DualRcDirectionLoss(const torch::Tensor& corr, const torch::Tensor& fine_source,
                                    const torch::Tensor& fine_target, const torch::Tensor& cells,
                                    const torch::Tensor& targets, bool source_is_a);

// The GT probability maps [N, H, W]: each target (x, y) in fine cells splatted bilinearly and
// blurred with [1 2 1]^T [1 2 1] / 16, normalised to sum 1.
torch::Tensor GroundTruthScoreMaps(const torch::Tensor& targets, int64_t height, int64_t width);

// Copies an S2DNet encoder (`encoder.N`, torchvision VGG indices) into the vgg backbone's three
// stages; throws Error naming the file when the sizes differ.
void LoadBackboneFromS2DNet(DualRcNet& model, const std::string& s2dnet_weights);

void TrainDualRc(const DualRcTrainOptions& options);

}  // namespace scalesfm
