// SIFT matching accuracy on the homography pairs with and without SDAIM: the real extraction
// and scale-aware matcher run per pair in a scratch database, and the matches are scored
// against the GT homography (mean matching accuracy at a pixel threshold, as in the D2-Net /
// ScaleNet image-matching protocol, and RANSAC homography inliers).
#pragma once

#include <string>
#include <vector>

namespace scalesfm {

struct SdaimMatchingOptions {
  std::string homography_path;  // pairs.txt + <pair>/{A.jpg,B.jpg,H.txt}
  std::string output_path;
  int max_num_features = 8192;
  double threshold_px = 3.0;
  // native, sdaim (levels + sift_vote, the default matcher), sdaim-gt (levels, GT scale),
  // sdaim-reextract (sift_vote, exact resizing).
  std::vector<std::string> methods = {"native", "sdaim", "sdaim-gt", "sdaim-reextract"};
  void Check() const;
};

struct SdaimMatchingRow {
  std::string pair, method;
  double gt_scale = 1, used_scale = 1;  // s(A->B): GT, and the one the matcher used
  size_t num_matches = 0, num_correct = 0, num_ransac_inliers = 0;
  double Mma() const { return num_matches ? double(num_correct) / num_matches : 0.0; }
};

// Writes matching.csv and matching.md (per pair, and means grouped by |log2 s| < 1 or >= 1).
std::vector<SdaimMatchingRow> RunSdaimMatchingEvaluation(const SdaimMatchingOptions& options);

}  // namespace scalesfm
