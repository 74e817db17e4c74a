// `scalesfm exhaustive_matcher --Matching.type dualrc`: DualRC-Net dense matching of every pair
// (§3.3): the filtered coarse 4D score guides the fine maps, mutual nearest neighbours on the
// fine grid, the best --Matching.max_num_matches by score. With --ScaleMatching.estimator, both
// images are taken at their SDAIM levels first (the 4D correlation assumes similar scales). The
// matched points of both images snap to existing keypoints within
// --Matching.dualrc_snap_radius or are appended to the image's keypoint list (shared by all its
// partners, as S2DNet's are), so COLMAP builds long tracks. COLMAP then verifies the raw
// matches.
#pragma once

#include <memory>
#include <opencv2/core.hpp>

#include "matching/dualrc_model.h"
#include "matching/pair_matcher.h"

namespace scalesfm {

// The fine and coarse maps of an image resized by `factor` (fx, fy: resized / original size).
struct DualRcMaps {
  torch::Tensor fine, coarse;  // [1, D, H/4, W/4], [1, C, H/16, W/16], L2-normalised
  int width = 0, height = 0;   // of the resized image
  double fx = 1, fy = 1;
};
DualRcMaps ComputeDualRcMaps(DualRcNet& model, const cv::Mat& image, double factor,
                             const torch::Device& device);

// A pair's matches in COLMAP coordinates of the original images, best first.
struct DualRcPointMatch {
  float xa, ya, xb, yb, score;
};
std::vector<DualRcPointMatch> MatchDualRc(DualRcNet& model, const DualRcMaps& a,
                                          const DualRcMaps& b, const DualRcMatchOptions& options,
                                          int max_num_matches);

// The registered "dualrc" matcher.
std::unique_ptr<PairMatcher> CreateDualRcMatcher(const MatcherContext& context);

}  // namespace scalesfm
