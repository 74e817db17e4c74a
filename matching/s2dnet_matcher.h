// `scalesfm exhaustive_matcher --Matching.type s2dnet`: sparse-to-dense matching of every pair
// with S2DNet, in both directions with the cyclic check, written into COLMAP's database so
// that tracks stay whole: a point found in the target image snaps to an existing keypoint
// within --Matching.s2dnet_snap_radius or is appended to that image's keypoint list (shared by
// all its partners). With --ScaleMatching.estimator, both images are taken at their SDAIM
// levels. COLMAP then verifies the raw matches.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "matching/pair_matcher.h"
#include "matching/s2d_correspondence.h"
#include "matching/s2dnet_model.h"

namespace scalesfm {

// Dense maps of an image resized by `factor` (fx, fy: resized / original size, per axis).
struct ScaledDenseMaps {
  DenseMaps maps;
  double fx = 1, fy = 1;
};
ScaledDenseMaps ComputeDenseMaps(S2DNet& model, const cv::Mat& gray, double factor,
                                 const torch::Device& device);

// A keypoint of the source image and the point S2DNet found for it in the target image.
struct SparseToDenseMatch {
  point2D_t source = 0;
  float x = 0, y = 0;  // in the target, COLMAP coordinates of the original image
  float confidence = 0;
};

// One direction of sparse-to-dense matching: the first `num_sources` keypoints (COLMAP
// coordinates of the original source image) against the target's dense maps; kept when the
// confidence exceeds tau (eq. 4) and, with cyclic_radius > 0, when they pass the cyclic check.
std::vector<SparseToDenseMatch> MatchSparseToDense(const Keypoints& keypoints, size_t num_sources,
                                                   const ScaledDenseMaps& source,
                                                   const ScaledDenseMaps& target,
                                                   const S2DNetMatchOptions& options);

// The weights file these options load, and the options with tau resolved for it.
std::string S2DNetWeightsPath(const S2DNetMatchOptions& options);
S2DNetMatchOptions ResolveConfidence(const S2DNetMatchOptions& options);

// The registered "s2dnet" matcher.
std::unique_ptr<PairMatcher> CreateS2DNetMatcher(const MatcherContext& context);

}  // namespace scalesfm
