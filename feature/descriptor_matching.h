// Mutual-nearest-neighbour matching with Lowe's ratio test, computed block-wise with LibTorch
// matmul so memory stays bounded. The test mirrors COLMAP's CPU SIFT matcher: distances are the
// angles acos(d1 . d2) between unit descriptors, a match needs angle <= max_distance and
// angle < max_ratio * second-best angle, and cross-check keeps mutual best matches only.
#pragma once

#include <torch/torch.h>

#include "colmap_ext/types.h"

namespace scalesfm {

struct NnMatchOptions {
  double max_ratio = 0.8;
  double max_distance = 0.7;
  bool cross_check = true;
  // Rows of the first descriptor set per similarity block (rows x cols floats at a time).
  int64_t block_rows = 2048;

  void Check() const;
};

// uint8 COLMAP descriptors -> float rows of (approximately) unit norm, d / 512, on `device`.
torch::Tensor DescriptorsToTensor(const DescriptorsU8& descriptors, const torch::Device& device);
// Learned float descriptors (unit rows already), copied to `device` as they are.
torch::Tensor DescriptorsToTensor(const DescriptorsF32& descriptors, const torch::Device& device);

// COLMAP's distance and ratio tests for one keypoint: `best`/`second` are its two largest
// similarities (cosines; second = -2 when it has a single candidate). The dense matcher applies
// the same tests to whole rows of similarities.
bool PassesRatioTest(double best, double second, const NnMatchOptions& options);

// Appends each match of `extra` whose two keypoints `matches` does not use yet, so every keypoint
// keeps at most one match (COLMAP's tracks assume that).
void AppendUnmatched(const Matches& extra, Matches* matches);

// `d1` [N, D] and `d2` [M, D] float tensors of unit rows on the same device. With cross_check,
// both directions come from one similarity product (COLMAP's CPU matcher also computes one
// distance matrix per pair).
Matches MatchNearestNeighbors(const torch::Tensor& d1, const torch::Tensor& d2,
                              const NnMatchOptions& options);
// The same matches from two products, d1 d2^T for 1 -> 2 and d2 d1^T for 2 -> 1 (the matcher
// until the one-product version; kept as its reference in tests and benchmarks).
Matches MatchNearestNeighborsTwoProducts(const torch::Tensor& d1, const torch::Tensor& d2,
                                         const NnMatchOptions& options);

}  // namespace scalesfm
