// Database -> raw matches for every pair -> COLMAP geometric verification.
#pragma once

#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "colmap_ext/colmap_runner.h"
#include "matching/nn_matcher.h"
#include "matching/pairs.h"

namespace scalesfm {

// --Matching.* flags.
struct MatchingOptions {
  // "nn": descriptor nearest neighbours (SIFT, SCFeat); "s2dnet": sparse-to-dense S2DNet.
  std::string type = "nn";
  NnMatchOptions nn;
  // Images whose descriptors are held in memory at once: 2 * block_size.
  int block_size = 50;
  // Pairs written per database transaction (and per progress line).
  int pairs_per_commit = 32;
  int num_threads = -1;  // LibTorch intra-op threads; -1: all cores
  std::string device = "auto";
  // Optional "name1 name2" list instead of all pairs.
  std::string pair_list;
  // "i/n" (1 <= i <= n): match only the i-th of n contiguous slices of the pairs, so a large
  // collection can be matched by n processes; merge the databases with `scalesfm
  // database_merger`. Empty: all pairs.
  std::string shard;

  void Check() const;
  void ApplyThreads() const;  // sets LibTorch's intra-op threads from num_threads
};

// --SiftMatching.* flags forwarded to `colmap matches_importer`, which verifies our raw matches.
struct VerificationOptions {
  // 8 px, not COLMAP's 4, and a 5 px guided band: the best-measured pair on the Strecha scenes
  // (docs/DESIGN_NOTES.md, "Verification and guided error bounds").
  double max_error = 8.0;
  double confidence = 0.999;
  int max_num_trials = 10000;
  double min_inlier_ratio = 0.25;
  int min_num_inliers = 15;
  bool multiple_models = false;
  // Done by scalesfm after COLMAP's verification (matching/guided_matching.h), not by COLMAP.
  // On by default, unlike COLMAP: it is the best-measured configuration (docs/DESIGN_NOTES.md).
  bool guided_matching = true;
  // scalesfm's: the Sampson/transfer band (pixels) of guided matching. <= 0: max_error.
  double guided_max_error = 5.0;
  bool planar_scene = false;
  // One thread by default, unlike COLMAP (-1): COLMAP seeds each worker thread's RANSAC
  // generator with the same seed and hands out pairs in a run-dependent order, so multi-threaded
  // verification gives a different database on every run (docs/DESIGN_NOTES.md).
  int num_threads = 1;
  // scalesfm's, not COLMAP's: the pairs are split into this many contiguous slices, each verified
  // by its own `colmap matches_importer` (with num_threads threads) on a copy of the database,
  // in parallel; the geometries are then copied back, one transaction per slice. With one thread
  // per process, a run is reproducible for a given number of processes. -1: one per CPU core.
  int num_processes = -1;

  void Check() const;
  double GuidedMaxError() const { return guided_max_error > 0 ? guided_max_error : max_error; }
  // Number of processes for `num_pairs` pairs (at least 1, at most one per pair).
  int ResolvedNumProcesses(size_t num_pairs) const;
  std::vector<std::string> ToColmapArgs() const;
};

struct MatchingSummary {
  size_t num_pairs = 0;
  size_t num_matched = 0;       // newly matched in this run
  size_t num_already_done = 0;  // raw matches already present
  size_t num_verified = 0;      // pairs with a two-view geometry after verification
  size_t num_guided = 0;        // verified pairs extended by guided matching in this run
  double matching_seconds = 0;
  double verification_seconds = 0;
  double guided_seconds = 0;
};

// The pairs these options select: the pair list or all pairs (block order), then the shard.
ImagePairs SelectPairs(const Database& db, const MatchingOptions& options);

// The pairs still to match (resume): those without raw matches whose images both have
// features. Counts the done ones in summary->num_already_done and logs what is left out.
ImagePairs PairsToMatch(const Database& db, const ImagePairs& pairs,
                        const std::unordered_set<image_t>& with_features, MatchingSummary* summary);

// Writes raw matches for each pair that has none yet (resume), in transactions of
// `pairs_per_commit` pairs. Images without features are left out with a warning.
MatchingSummary RunRawMatching(const std::string& database_path, const ImagePairs& pairs,
                               const MatchingOptions& options);

// Runs `colmap matches_importer --match_type pairs` on the pairs that have raw matches but no
// two-view geometry. COLMAP verifies the raw matches already in the database and does not
// re-match them (pinned by tests/colmap_behaviour_test.cc).
void RunGeometricVerification(const std::string& database_path, const ImagePairs& pairs,
                              const VerificationOptions& options, const ColmapRunner& colmap,
                              const std::string& work_dir, MatchingSummary* summary);

// What every matcher does around its raw matching: print `heading`, select the pairs (list,
// shard), run `raw_matching` on them, then COLMAP verification, then guided matching when
// verification.guided_matching is set (nn matching only). Fails before any work when the
// colmap binary is missing.
MatchingSummary RunMatcher(const std::string& database_path, const MatchingOptions& options,
                           const VerificationOptions& verification, const ColmapRunner& colmap,
                           const std::string& heading,
                           const std::function<MatchingSummary(const ImagePairs&)>& raw_matching);

// The whole exhaustive (or pair-list) matcher: raw matching + verification, leaving the database
// as `colmap exhaustive_matcher` would.
MatchingSummary RunExhaustiveMatching(const std::string& database_path,
                                      const MatchingOptions& options,
                                      const VerificationOptions& verification,
                                      const ColmapRunner& colmap);

}  // namespace scalesfm
