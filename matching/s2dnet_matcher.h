// `scalesfm exhaustive_matcher --Matching.type s2dnet`: sparse-to-dense matching of every pair
// with S2DNet, in both directions with the cyclic check, written into COLMAP's database so
// that tracks stay whole: a point found in the target image snaps to an existing keypoint
// within --Matching.s2dnet_snap_radius or is appended to that image's keypoint list (shared by
// all its partners). With --ScaleMatching.estimator, both images are taken at their SDAIM
// levels. COLMAP then verifies the raw matches.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "matching/matching_pipeline.h"
#include "matching/s2d_correspondence.h"
#include "matching/s2dnet_model.h"
#include "matching/scale_aware_matching.h"

namespace scalesfm {

// --Matching.s2dnet_* flags.
struct S2DNetMatchOptions {
  std::string weights;  // empty: models/s2dnet_compact.pt
  // search.confidence_threshold < 0 (the default): tau from the weights' sidecar
  // ("confidence_threshold", calibrated for that model), else the paper's 0.2.
  SparseToDenseOptions search = [] {
    SparseToDenseOptions o;
    o.confidence_threshold = -1;
    return o;
  }();
  double cyclic_radius = 4.0;  // pixels at the matching resolution; <= 0 turns the check off
  double snap_radius = 2.0;    // pixels in the original image
  int max_image_size = 1024;   // dense maps are computed at most at this size
  int cache_images = 6;        // dense maps held at once (per image and level)
  std::string image_path;      // where the images are read from

  void Check() const;
};

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

// Raw S2DNet matches for each pair that has none yet (resume), in transactions of
// `pairs_per_commit` pairs; new keypoints are committed with the matches that made them.
MatchingSummary RunS2DNetRawMatching(const std::string& database_path, const ImagePairs& pairs,
                                     const MatchingOptions& options,
                                     const S2DNetMatchOptions& s2d_options,
                                     const ScaleMatchingOptions& scale_options);

// Pairs (exhaustive or list) -> S2DNet raw matches -> COLMAP verification.
MatchingSummary RunS2DNetMatching(const std::string& database_path, const MatchingOptions& options,
                                  const S2DNetMatchOptions& s2d_options,
                                  const ScaleMatchingOptions& scale_options,
                                  const VerificationOptions& verification,
                                  const ColmapRunner& colmap);

}  // namespace scalesfm
