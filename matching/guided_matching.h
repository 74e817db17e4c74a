// Guided matching: after geometric verification, every verified pair is matched again with the
// search limited to keypoint pairs that agree with the pair's geometry (Sampson error under F,
// or transfer error under H, within --SiftMatching.max_error). COLMAP's
// --SiftMatching.guided_matching does the same inside `colmap matches_importer`; scalesfm does it
// itself: it lists the geometric candidates through a grid of keypoints (no dense products), and
// it keeps the verified inliers (the scale-aware ones among them) where COLMAP would replace
// them. See docs/DESIGN_NOTES.md.
#pragma once

#include <torch/torch.h>

#include <Eigen/Core>
#include <string>
#include <vector>

#include "colmap_ext/database.h"
#include "feature/descriptor_matching.h"
#include "matching/matching_options.h"
#include "matching/matching_summary.h"
#include "matching/pairs.h"

namespace scalesfm {

// Squared Sampson error of x2^T F x1 = 0, in pixels^2 (positions in COLMAP's convention, the one
// F was estimated in): (x2^T F x1)^2 / (|(F x1)_12|^2 + |(F^T x2)_12|^2).
double SquaredSampsonError(const Eigen::Matrix3d& F, const Eigen::Vector2d& x1,
                           const Eigen::Vector2d& x2);

// Keypoint positions of one image.
std::vector<Eigen::Vector2d> KeypointPositions(const Keypoints& keypoints);

// Why the guided pass cannot run with these descriptor-matching options, or "" when it can. It
// needs the ratio test (--Matching.max_ratio < 1): within the band, plain mutual nearest neighbours
// accept every locally best pair, and on SCFeat's castle-P19 that added ~1400 wrong inliers per
// pair and broke the model (DESIGN_NOTES, "Guided matching"). It also needs descriptors for every
// keypoint, which the matching controller checks with the matcher's traits (allows_guided).
std::string GuidedMatchingSkipReason(const NnMatchOptions& options);

// Every keypoint pair (idx1[k], idx2[k]) within `max_error` pixels of `geometry`: Sampson error
// under F for calibrated and uncalibrated pairs; under H for planar and panoramic ones, both
// transfer errors |x2 - H x1| and |x1 - H^-1 x2|. The test is symmetric, so swapping the images
// (with F^T or H^-1) gives the same pairs. Empty for the other configurations and when the
// matrix is missing or singular. Found through a KeypointGrid of x2, without dense products.
struct CandidatePairs {
  std::vector<int32_t> idx1, idx2;
};
CandidatePairs GuidedCandidatePairs(const std::vector<Eigen::Vector2d>& x1,
                                    const std::vector<Eigen::Vector2d>& x2,
                                    const TwoViewGeometry& geometry, double max_error);

// Mutual nearest neighbours with the ratio test of `options` (block_rows unused), among the
// candidate pairs of GuidedCandidatePairs: each keypoint's best and second-best similarity are
// taken over its own candidates only. d1 [N, D], d2 [M, D] unit float rows (any device; the
// search runs on the CPU), x1 and x2 their keypoints' positions.
Matches MatchGuided(const torch::Tensor& d1, const torch::Tensor& d2,
                    const std::vector<Eigen::Vector2d>& x1, const std::vector<Eigen::Vector2d>& x2,
                    const TwoViewGeometry& geometry, double max_error,
                    const NnMatchOptions& options);

// Runs MatchGuided on every verified pair of `pairs` not extended yet (resume through
// scalesfm_guided_pairs) and writes the verified inliers plus every guided match whose two
// keypoints they do not use yet (AppendUnmatched), in transactions of
// options.pairs_per_commit pairs. Adds the pair count and time to `summary`.
// Pairs with more than `max_num_inliers` verified inliers are left as verified (<= 0: none is).
void RunGuidedMatching(const std::string& database_path, const ImagePairs& pairs,
                       const MatchingOptions& options, size_t cache_images, double max_error,
                       int max_num_inliers, MatchingSummary* summary);

}  // namespace scalesfm
