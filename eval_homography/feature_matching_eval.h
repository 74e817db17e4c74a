// `scalesfm eval_features`: local-feature matching accuracy on the homography pairs, as in
// SCFeat's HPatches protocol (Sec. IV-B): per method, features are extracted on A and B (both
// downscaled to max_image_size), matched by mutual nearest neighbours, and a match is correct
// at threshold t when its B keypoint lies within t pixels of H applied to its A keypoint
// (original-resolution pixels). MMA@t (t = 1..10) is the mean over pairs of the per-pair
// fraction of correct matches; the MMA score is eq. 24's weighted mean.
// Method s2dnet is S2DNet's protocol (§4.2): RootSIFT keypoints in A only, their points found
// sparse-to-dense in B (dense maps at max_image_size), with the cyclic check. Methods dualrc
// and dualrc-gt-scale are DualRC-Net's dense matches (HPatches protocol of its §4.1: the best
// max_num_matches by score), both images at --Matching.dualrc_max_image_size, or at their SDAIM
// levels for the pair's GT scale.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "feature/extractor.h"
#include "matching/s2dnet_matcher.h"

namespace scalesfm {

struct FeatureMatchingOptions {
  std::string homography_path;  // pairs.txt + <pair>/{A.jpg,B.jpg,H.txt}
  std::string output_path;
  // Presets of eval_common/method_presets.h: scfeat (learned), sift (OpenCV SIFT,
  // L2-normalised), rootsift (scalesfm's default SIFT), s2dnet (RootSIFT keypoints in A,
  // sparse-to-dense into B), scfeat-at-sift (SCFeat descriptors at RootSIFT keypoints: the
  // descriptor without SCFeat's detector).
  std::vector<std::string> methods = {"scfeat", "sift", "rootsift"};
  ExtractionOptions extraction;  // max_num_features, max_image_size, scfeat_*, device
  S2DNetMatchOptions s2dnet;     // weights, confidence, cyclic radius (image_path unused)
  DualRcMatchOptions dualrc;     // weights, max_image_size, query fraction, subpixel
  int max_num_matches = 4096;    // dualrc: matches kept per pair
  void Check() const;
};

struct FeatureMatchingPairRow {
  std::string pair, method;
  size_t features_a = 0, features_b = 0, matches = 0;  // s2dnet: features_b = 0
  std::array<double, 10> correct_fraction{};           // at 1..10 px
  double extraction_seconds = 0;                       // both images
};

struct FeatureMatchingSummary {
  std::string method;
  double mean_features = 0, mean_matches = 0, mean_extraction_seconds_per_image = 0;
  std::array<double, 10> mma{};  // MMA@1..10
  double mma_score = 0;          // eq. 24
};

// Eq. 24: sum_t (2 - 0.1 t) MMA@t / sum_t (2 - 0.1 t), t = 1..10.
double MmaScore(const std::array<double, 10>& mma);

std::vector<FeatureMatchingSummary> Summarize(const std::vector<FeatureMatchingPairRow>& rows);

// Writes features.csv (per pair) and features.md (summary) to output_path.
std::vector<FeatureMatchingSummary> RunFeatureMatchingEvaluation(
    const FeatureMatchingOptions& options);

}  // namespace scalesfm
