// Which image pairs to match: all of them (exhaustive), or a list file of image-name pairs.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "colmap_ext/database.h"

namespace scalesfm {

using ImagePairs = std::vector<std::pair<image_t, image_t>>;

// All pairs (i < j) of the given images, grouped into blocks of `block_size` images, as COLMAP's
// exhaustive matcher does: pairs of one block of rows against one block of columns are adjacent,
// so only 2 * block_size images' descriptors are needed at a time.
ImagePairs ExhaustivePairs(const std::vector<Image>& images, size_t block_size);

// Reads "name1 name2" lines (COLMAP's match-list format). Throws Error naming the line when an
// image is not in the database.
ImagePairs ReadPairList(const std::string& path, const Database& db);

// "i/n" -> (i, n) with 1 <= i <= n; throws Error otherwise.
std::pair<int, int> ParseShard(const std::string& shard);

// The i-th (1-based) of n contiguous, near-equal slices of `pairs`. Contiguous slices keep
// COLMAP's block order, so each process still reads each image's descriptors few times.
ImagePairs ShardPairs(const ImagePairs& pairs, int index, int count);

// Writes "name1 name2" lines for `pairs`.
void WritePairList(const std::string& path, const ImagePairs& pairs,
                   const std::vector<Image>& images);

}  // namespace scalesfm
