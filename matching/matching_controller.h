// The one matching controller. Every command that matches (exhaustive_matcher,
// automatic_reconstructor, eval_eth, eval_imc, the benchmarks) calls RunMatching. It owns what
// every matcher shares:
//   pairs (exhaustive order, retrieval, sequential or --Matching.pair_list; then --Matching.shard)
//   -> resume (pairs with raw matches are skipped)
//   -> per pair: s(A->B) from the scalesfm_pair_scales cache or the scale source, and the SDAIM
//      decision (|log2 s| >= --ScaleMatching.min_log2_scale)
//   -> the registered matcher named by --Matching.type (matching/pair_matcher.h)
//   -> transactions of --Matching.pairs_per_commit pairs, with progress
//   -> COLMAP's verification (matching/verification.h)
//   -> guided matching (matching/guided_matching.h) where the matcher allows it.
#pragma once

#include <string>
#include <unordered_set>

#include "colmap_ext/colmap_runner.h"
#include "colmap_ext/database.h"
#include "matching/matching_options.h"
#include "matching/matching_summary.h"
#include "matching/pairs.h"

namespace scalesfm {

// The pairs of the options' source before sharding: the pair list, or all pairs (block order),
// retrieval pairs or sequential pairs.
ImagePairs SourcePairs(const Database& db, const PairingOptions& options);

// SourcePairs, then the shard.
ImagePairs SelectPairs(const Database& db, const PairingOptions& options);

// The log heading of a matching run with these options.
std::string PairingHeading(const PairingOptions& options);

// The pairs still to match (resume): those without raw matches whose images both have
// features. Counts the done ones in summary->num_already_done and logs what is left out.
ImagePairs PairsToMatch(const Database& db, const ImagePairs& pairs,
                        const std::unordered_set<image_t>& with_features, MatchingSummary* summary);

// Raw matches for each pair of `pairs` that has none yet, in transactions of
// --Matching.pairs_per_commit pairs, with the scale estimates they used cached in
// scalesfm_pair_scales. No verification.
MatchingSummary RunRawMatching(const std::string& database_path, const ImagePairs& pairs,
                               const MatchingConfig& config);

// Why guided matching does not run for this configuration ("" when it does): the matcher leaves
// keypoints without descriptors, or the descriptor matching has no ratio test.
std::string GuidedMatchingSkipReason(const MatchingConfig& config);

// The whole matcher command: pairs -> raw matches -> COLMAP verification -> guided matching,
// leaving the database as `colmap exhaustive_matcher` would. Checks every option, the colmap
// binary and the image folder before any work.
MatchingSummary RunMatching(const std::string& database_path, const MatchingConfig& config,
                            const ColmapRunner& colmap);

}  // namespace scalesfm
