// Guided matching: after geometric verification, every verified pair is matched again with the
// search limited to keypoint pairs that agree with the pair's geometry (Sampson error under F,
// or transfer error under H, within --SiftMatching.max_error). COLMAP's
// --SiftMatching.guided_matching does the same inside `colmap matches_importer`; scalesfm does it
// itself with the blocked LibTorch matcher, which is several times faster on CPU with multi-level
// keypoint lists, and it keeps the verified inliers (the scale-aware ones among them) where
// COLMAP would replace them. See docs/DESIGN_NOTES.md.
#pragma once

#include <torch/torch.h>

#include <string>

#include "colmap_ext/database.h"
#include "matching/matching_pipeline.h"
#include "matching/nn_matcher.h"

namespace scalesfm {

// Squared Sampson errors of x2_j^T F x1_i = 0 for every (i, j): x1 [N, 2], x2 [M, 2] float
// keypoint positions (COLMAP's convention, the one F was estimated in) -> [N, M].
torch::Tensor SquaredSampsonErrors(const torch::Tensor& x1, const torch::Tensor& x2,
                                   const Eigen::Matrix3d& F);
// Squared transfer errors |x2_j - H x1_i|^2 -> [N, M].
torch::Tensor SquaredTransferErrors(const torch::Tensor& x1, const torch::Tensor& x2,
                                    const Eigen::Matrix3d& H);

// Keypoint positions as a [N, 2] float tensor on `device`.
torch::Tensor KeypointPositions(const Keypoints& keypoints, const torch::Device& device);

// Mutual nearest neighbours with the ratio test of `options`, among the keypoint pairs within
// `max_error` pixels of `geometry` (F for calibrated and uncalibrated pairs, H for planar and
// panoramic ones). Empty for the other configurations and when the matrix is missing.
Matches MatchGuided(const torch::Tensor& d1, const torch::Tensor& d2, const torch::Tensor& x1,
                    const torch::Tensor& x2, const TwoViewGeometry& geometry, double max_error,
                    const NnMatchOptions& options);

// Runs MatchGuided on every verified pair of `pairs` not extended yet (resume through
// scalesfm_guided_pairs) and writes the verified inliers plus every guided match whose two
// keypoints they do not use yet (AppendUnmatched), in transactions of
// options.pairs_per_commit pairs. Adds the pair count and time to `summary`.
void RunGuidedMatching(const std::string& database_path, const ImagePairs& pairs,
                       const MatchingOptions& options, double max_error, MatchingSummary* summary);

}  // namespace scalesfm
