// COLMAP's geometric verification of the raw matches scalesfm wrote: `colmap matches_importer
// --match_type pairs` verifies the raw matches already in the database and does not re-match
// them (pinned by tests/colmap_behaviour_test.cc). Optionally in parallel processes, each on a
// slice of the pairs and its own copy of the database.
#pragma once

#include <string>

#include "colmap_ext/colmap_runner.h"
#include "matching/matching_options.h"
#include "matching/matching_summary.h"
#include "matching/pairs.h"

namespace scalesfm {

// Verifies the pairs of `pairs` that have raw matches but no two-view geometry. Temporary files
// (pair lists, the parallel processes' database copies) go to a folder private to this run next
// to the database (util/scratch_dir.h); COLMAP's log is appended to
// `work_dir`/scalesfm_colmap.log. Fills summary->num_verified and verification_seconds.
void RunGeometricVerification(const std::string& database_path, const ImagePairs& pairs,
                              const VerificationOptions& options, const ColmapRunner& colmap,
                              const std::string& work_dir, MatchingSummary* summary);

}  // namespace scalesfm
