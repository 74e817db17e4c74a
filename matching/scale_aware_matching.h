// The scale-aware matcher: per pair, estimate s(A->B), cache it, pick the SDAIM levels, match
// them and write the matches as indices into the merged keypoint lists. COLMAP then verifies.
#pragma once

#include <string>

#include "feature/extractor.h"
#include "matching/matching_pipeline.h"
#include "scale/scale_estimator.h"

namespace scalesfm {

// --ScaleMatching.* flags.
struct ScaleMatchingOptions {
  // estimator.estimator: none | sift_vote | dscalenet | scalenet | cvarm.
  ScaleEstimatorOptions estimator;
  // Pairs with |log2 s| below this match their native levels, as stock matching would.
  double min_log2_scale = 0.5;
  // Rescaled pairs also keep the native-level matches (union; a keypoint keeps its first match),
  // so a wrong scale estimate cannot lose matches that native matching finds.
  bool keep_native = true;
  // Resize both images by exactly s^0.5 / s^-0.5 and extract again (ScaleNet's way) instead of
  // picking precomputed levels (D-ScaleNet's way). New keypoints join the image's keypoint list.
  bool reextract = false;
  // Images, for network estimators and reextract.
  std::string image_path;
  // Extraction settings for reextract (type, max_num_features, max_image_size, merging).
  ExtractionOptions extraction;

  bool Enabled() const { return estimator.estimator != "none"; }
  bool NeedsImages() const;
  void Check() const;
};

// Like RunRawMatching, but each pair is matched at the levels its scale estimate selects. Scale
// estimates are cached in scalesfm_pair_scales and reused on a re-run.
MatchingSummary RunScaleAwareRawMatching(const std::string& database_path, const ImagePairs& pairs,
                                         const MatchingOptions& options,
                                         const ScaleMatchingOptions& scale_options);

// The whole matcher: pairs (exhaustive, list, shard) -> scale-aware raw matches -> COLMAP
// verification. With estimator "none" every pair matches its native levels (for single-level
// databases that is exactly RunExhaustiveMatching).
MatchingSummary RunScaleAwareMatching(const std::string& database_path,
                                      const MatchingOptions& options,
                                      const ScaleMatchingOptions& scale_options,
                                      const VerificationOptions& verification,
                                      const ColmapRunner& colmap);

}  // namespace scalesfm
