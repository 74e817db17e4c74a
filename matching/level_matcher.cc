#include "matching/level_matcher.h"

#include "matching/level_selection.h"

namespace scalesfm {
namespace {

// Level-local matches -> merged keypoint indices.
Matches ToMergedIndices(const Matches& level_matches, const LevelDescriptors& a,
                        const LevelDescriptors& b) {
  Matches out;
  out.reserve(level_matches.size());
  for (const Match& m : level_matches) {
    out.push_back({a.index.empty() ? m.idx1 : a.index.at(m.idx1),
                   b.index.empty() ? m.idx2 : b.index.at(m.idx2)});
  }
  return out;
}

}  // namespace

LevelMatcher::LevelMatcher(const Database* db, const std::vector<Image>& images,
                           torch::Device device, const NnMatchOptions& nn, size_t capacity)
    : nn_(nn), cache_(db, device, capacity) {
  for (const Image& image : images) {
    if (!db->ExistsDescriptors(image.image_id)) continue;
    ImageLevels& l = levels_[image.image_id];
    for (const auto& [id, factor] : db->ReadLevelFactors(image.image_id)) {
      l.ids.push_back(id);
      l.factors.push_back(factor);
    }
    if (l.ids.empty()) {
      l.ids = {kDatabaseLevel};
      l.factors = {1.0};
    }
    l.native = NativeLevel(l.factors);
  }
}

const LevelDescriptors& LevelMatcher::Descriptors(image_t id, int index) {
  return cache_.Get(id, Levels(id).ids.at(index));
}

Matches LevelMatcher::Match(image_t a, int la, image_t b, int lb) {
  // Copies (tensor handles and the index): fetching b may evict a's cache entry.
  const LevelDescriptors da = Descriptors(a, la);
  const LevelDescriptors db = Descriptors(b, lb);
  return ToMergedIndices(MatchNearestNeighbors(da.descriptors, db.descriptors, nn_), da, db);
}

Matches LevelMatcher::MatchNative(image_t a, image_t b) {
  return Match(a, Levels(a).native, b, Levels(b).native);
}

}  // namespace scalesfm
