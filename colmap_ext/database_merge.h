// Merging two databases, as `colmap database_merger` does, plus the case COLMAP refuses:
// shards of one matching run (--Matching.shard), which hold the same images and keypoints and
// disjoint sets of pairs.
#pragma once

#include <string>

#include "colmap_ext/colmap_runner.h"

namespace scalesfm {

enum class MergeKind {
  kDisjointImages,  // no image name in common: `colmap database_merger`
  kShards,          // same images, ids and keypoints: union of the pair tables
};

// Decides which merge applies; throws Error when neither does (some images shared, or shared
// images whose ids or keypoints differ), naming the first offending image.
MergeKind ClassifyMerge(const std::string& database_path1, const std::string& database_path2);

// Writes `merged_path` (which must not exist). Shards: a copy of the first database plus the
// matches, two-view geometries and cached pair scales of the second that the first lacks, in one
// transaction. Disjoint images: `colmap database_merger`.
MergeKind MergeDatabases(const std::string& database_path1, const std::string& database_path2,
                         const std::string& merged_path, const ColmapRunner& colmap);

}  // namespace scalesfm
