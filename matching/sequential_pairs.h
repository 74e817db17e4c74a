// sequential_matcher's pairs for video and ordered captures, as COLMAP 3.8 chooses them: images
// in name order; image i with i+1 .. i+overlap-1 and, with quadratic_overlap, i+2^j for
// j < overlap; and, with loop_detection, every loop_detection_period-th image with its
// loop_detection_num_images best retrieval partners (retrieval/image_retrieval.h, scale-aware).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "colmap_ext/database.h"
#include "retrieval/image_retrieval.h"

namespace scalesfm {

// --SequentialMatching.*: COLMAP's names and defaults.
struct SequentialMatchingOptions {
  int overlap = 10;
  bool quadratic_overlap = true;
  bool loop_detection = false;
  int loop_detection_period = 10;
  int loop_detection_num_images = 50;
  int loop_detection_max_num_features = -1;
  // Empty: a vocabulary built on this collection (see VocabTreeMatchingOptions::vocab_tree_path).
  std::string vocab_tree_path;

  void Check() const;
  // The retrieval settings loop detection uses.
  VocabTreeMatchingOptions LoopRetrieval(const VocabTreeMatchingOptions& base) const;
};

// The images sorted by name (COLMAP's order for sequential matching).
std::vector<Image> ImagesInNameOrder(std::vector<Image> images);

// The overlap pairs of images already in capture order, (earlier, later), each pair once, in
// COLMAP's order.
std::vector<std::pair<image_t, image_t>> SequentialOverlapPairs(const std::vector<Image>& ordered,
                                                                const SequentialMatchingOptions& o);

// Every pair sequential_matcher matches in `db`: the overlap pairs, then the loop pairs that are
// not overlap pairs. `retrieval` carries the vocabulary settings for loop detection.
std::vector<std::pair<image_t, image_t>> SequentialPairs(const Database& db,
                                                         const SequentialMatchingOptions& options,
                                                         const VocabTreeMatchingOptions& retrieval);

}  // namespace scalesfm
