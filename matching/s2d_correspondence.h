// Sparse-to-dense correspondence maps of S2DNet (§3.1-3.4): sparse multi-level descriptors of
// keypoints in image A, correlated with image B's dense maps level by level (1x1 convolution,
// i.e. a matrix product), bilinearly upsampled to B's resolution and summed (eq. 2); the
// softmax over B's pixels is the categorical distribution of eq. 1, its argmax the match
// (eq. 3), kept when its probability exceeds tau (eq. 4).
//
// Coordinates are OpenCV's (first pixel centre at 0) in the image the maps were computed on.
// Level m has stride 1, 4, 16; a map cell i covers pixels [i*s, (i+1)*s), so sampling and
// upsampling use align_corners = false throughout.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace scalesfm {

// Dense maps of one image: H^1..H^3 as [1, D, h_m, w_m] (padded) plus the real image size.
struct DenseMaps {
  std::vector<torch::Tensor> levels;
  int height = 0, width = 0;  // unpadded image size at level 1 (full resolution)
  int padded_height() const { return static_cast<int>(levels.at(0).size(2)); }
  int padded_width() const { return static_cast<int>(levels.at(0).size(3)); }
};

// H_A^m[p_A^{n,m}] of eq. 2: descriptors of `points` [N, 2] (x, y) sampled bilinearly from every
// level, one [N, D] tensor per level.
std::vector<torch::Tensor> SampleSparseDescriptors(const DenseMaps& maps,
                                                   const torch::Tensor& points);

// C_n of eq. 2 at full resolution for every point: [N, H_pad, W_pad]. Differentiable; used by
// training and tests (inference uses the coarse-to-fine search below).
torch::Tensor CorrespondenceMaps(const std::vector<torch::Tensor>& descriptors,
                                 const DenseMaps& target);

// The training loss of §3.3: cross-entropy of softmax(C_n) over B's pixels (eq. 1) at the GT
// pixel `targets` [N, 2] (x, y; rounded to the nearest pixel), averaged over the points whose
// target lies inside B's real image; 0 when there is none.
torch::Tensor CorrespondenceLoss(const std::vector<torch::Tensor>& descriptors,
                                 const DenseMaps& target, const torch::Tensor& targets);

struct SparseToDenseOptions {
  double confidence_threshold = 0.2;  // tau of eq. 4
  int refine_radius = 5;              // full-resolution window half-size around the coarse peak
  int chunk_size = 512;               // points per batch, bounding memory
  // Refine the integer argmax of eq. 3 to sub-pixel precision with a parabola through the peak
  // and its two neighbours in x and in y (off: the paper's integer argmax).
  bool subpixel = true;
};

struct Correspondences {
  torch::Tensor points;      // [N, 2] float (x, y) in B, OpenCV coordinates
  torch::Tensor confidence;  // [N] probability of eq. 4 (see FindCorrespondences)
  torch::Tensor valid;       // [N] bool: confidence > tau
};

// Eq. 3 with a coarse-to-fine shortcut (DESIGN_NOTES "S2DNet"): the sum of levels 2 and 3 is
// evaluated everywhere at 1/4 resolution, its softmax gives the confidence (the probability of
// the 4x4-pixel cell), and eq. 2 with all three levels is evaluated at full resolution only in
// a (2r+1)^2 window around that cell, whose argmax is the match (refined to sub-pixel precision
// when options.subpixel).
Correspondences FindCorrespondences(const std::vector<torch::Tensor>& descriptors,
                                    const DenseMaps& target, const SparseToDenseOptions& options);

// The cyclic check of §4.2: match every found point in B back to A and keep it when it lands
// within `radius` pixels of its source. Returns [N] bool.
torch::Tensor CyclicCheck(const torch::Tensor& sources, const Correspondences& forward,
                          const DenseMaps& source_maps, const DenseMaps& target_maps,
                          const SparseToDenseOptions& options, double radius);

}  // namespace scalesfm
