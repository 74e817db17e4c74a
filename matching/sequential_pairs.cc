#include "matching/sequential_pairs.h"

#include <algorithm>
#include <set>

#include "util/logging.h"

namespace scalesfm {

void SequentialMatchingOptions::Check() const {
  if (overlap < 1) throw Error("--SequentialMatching.overlap must be positive");
  if (loop_detection_period < 1) {
    throw Error("--SequentialMatching.loop_detection_period must be positive");
  }
  if (loop_detection_num_images < 1) {
    throw Error("--SequentialMatching.loop_detection_num_images must be positive");
  }
  if (loop_detection_max_num_features == 0 || loop_detection_max_num_features < -1) {
    throw Error("--SequentialMatching.loop_detection_max_num_features must be positive or -1");
  }
}

VocabTreeMatchingOptions SequentialMatchingOptions::LoopRetrieval(
    const VocabTreeMatchingOptions& base) const {
  VocabTreeMatchingOptions o = base;
  o.num_images = loop_detection_num_images;
  o.max_num_features = loop_detection_max_num_features;
  o.vocab_tree_path = vocab_tree_path;
  o.match_list_path.clear();
  return o;
}

std::vector<Image> ImagesInNameOrder(std::vector<Image> images) {
  std::sort(images.begin(), images.end(),
            [](const Image& a, const Image& b) { return a.name < b.name; });
  return images;
}

std::vector<std::pair<image_t, image_t>> SequentialOverlapPairs(
    const std::vector<Image>& ordered, const SequentialMatchingOptions& o) {
  std::vector<std::pair<image_t, image_t>> pairs;
  std::set<std::pair<size_t, size_t>> seen;
  const auto add = [&](size_t i, size_t j) {
    if (j < ordered.size() && j != i && seen.emplace(i, j).second) {
      pairs.emplace_back(ordered[i].image_id, ordered[j].image_id);
    }
  };
  for (size_t i = 0; i < ordered.size(); ++i) {
    for (int k = 0; k < o.overlap && i + size_t(k) < ordered.size(); ++k) {
      add(i, i + size_t(k));
      // 2^k for k < overlap; beyond 2^62 no collection reaches.
      if (o.quadratic_overlap && k < 62) add(i, i + (size_t(1) << k));
    }
  }
  return pairs;
}

std::vector<std::pair<image_t, image_t>> SequentialPairs(
    const Database& db, const SequentialMatchingOptions& options,
    const VocabTreeMatchingOptions& retrieval) {
  options.Check();
  const std::vector<Image> ordered = ImagesInNameOrder(db.ReadAllImages());
  std::vector<std::pair<image_t, image_t>> pairs = SequentialOverlapPairs(ordered, options);
  LogInfo(StringPrintf("Sequential pairs: %zu (overlap %d%s)", pairs.size(), options.overlap,
                       options.quadratic_overlap ? ", quadratic" : ""));
  if (!options.loop_detection) return pairs;

  std::vector<image_t> queries;
  for (size_t i = 0; i < ordered.size(); i += size_t(options.loop_detection_period)) {
    queries.push_back(ordered[i].image_id);
  }
  const VocabTreeMatchingOptions loop = options.LoopRetrieval(retrieval);
  const VisualVocabulary vocabulary = LoadOrBuildVocabulary(db, loop);
  std::set<std::pair<image_t, image_t>> have;
  for (const auto& [a, b] : pairs) have.emplace(std::min(a, b), std::max(a, b));
  size_t added = 0;
  for (const auto& [a, b] : RetrievalPairs(RetrieveImages(db, vocabulary, loop, queries))) {
    if (have.emplace(a, b).second) {
      pairs.emplace_back(a, b);
      ++added;
    }
  }
  LogInfo(StringPrintf("Loop detection: %zu queries, %zu new pairs", queries.size(), added));
  return pairs;
}

}  // namespace scalesfm
