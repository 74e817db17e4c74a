// Scale-aware image retrieval for vocab_tree_matcher and sequential_matcher's loop detection.
//
// Each image contributes one tf-idf bag of visual words per scale level of its multi-level
// features (scalesfm_feature_levels), and two images score the best cosine similarity over all
// pairs of their levels. A zoomed view's coarse levels then meet a wide shot's fine level: the
// pair of levels at which the two images see the scene at the same scale (D-ScaleNet sec. 5.4's
// levels, used for retrieval). Single-level indexing (multi_level = false, or a database extracted
// with --Extraction.levels 1) is the classic one-bag-per-image retrieval.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "colmap_ext/database.h"
#include "retrieval/visual_vocabulary.h"

namespace scalesfm {

// --VocabTreeMatching.*: COLMAP's names where COLMAP has the option.
struct VocabTreeMatchingOptions {
  // Partners retrieved per query image.
  int num_images = 100;
  // A vocabulary from `scalesfm vocab_tree_builder`. Empty: one is built on this collection and
  // kept in memory. A path that does not exist yet: built on this collection and written there.
  std::string vocab_tree_path;
  // Optional file of image names, one per line: only these images are queried (COLMAP's
  // match_list_path). Empty: every image.
  std::string match_list_path;
  // Descriptors per bag (evenly subsampled); -1: all.
  int max_num_features = -1;
  // scalesfm's: one bag per scale level (see above); false: one bag per image, from the native
  // level.
  bool multi_level = true;
  // scalesfm's: levels with fewer features make no bag of their own (tiny bags give unstable
  // cosine scores); an image always keeps its largest bag.
  int min_num_features = 100;
  // Used when a vocabulary is built (as vocab_tree_builder's options).
  VocabularyOptions vocabulary;

  void Check() const;
};

// One query's result: partners by decreasing score.
struct RetrievalResult {
  image_t query = kInvalidImageId;
  std::vector<std::pair<image_t, float>> partners;
};

// Builds the vocabulary on the features of `db` (sampled evenly over images and levels).
VisualVocabulary BuildVocabulary(const Database& db, bool multi_level,
                                 const VocabularyOptions& options);

// The vocabulary `options` asks for: read, or built (and written when the path is new).
VisualVocabulary LoadOrBuildVocabulary(const Database& db, const VocabTreeMatchingOptions& options);

// The top `options.num_images` partners of each query image (all images, or those of
// match_list_path; `queries` overrides both when not empty), by the score above. Deterministic.
std::vector<RetrievalResult> RetrieveImages(const Database& db, const VisualVocabulary& vocabulary,
                                            const VocabTreeMatchingOptions& options,
                                            const std::vector<image_t>& queries = {});

// Unordered pairs (smaller id first) of every query with its partners, each once, sorted.
std::vector<std::pair<image_t, image_t>> RetrievalPairs(
    const std::vector<RetrievalResult>& results);

}  // namespace scalesfm
