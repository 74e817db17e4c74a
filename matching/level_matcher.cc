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

// The rows of `level` whose merged keypoint is in `mask`.
std::vector<int64_t> RowsInside(const LevelDescriptors& level, const std::vector<bool>& mask) {
  std::vector<int64_t> rows;
  const int64_t n = level.descriptors.size(0);
  for (int64_t r = 0; r < n; ++r) {
    const size_t merged = level.index.empty() ? size_t(r) : size_t(level.index.at(r));
    if (merged < mask.size() && mask[merged]) rows.push_back(r);
  }
  return rows;
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
  if (regions_ == nullptr) {
    return ToMergedIndices(MatchNearestNeighbors(da.descriptors, db.descriptors, nn_), da, db);
  }
  const auto [mask_a, mask_b] = regions_->Masks(a, b);
  const std::vector<int64_t> rows_a = RowsInside(da, mask_a), rows_b = RowsInside(db, mask_b);
  if (rows_a.empty() || rows_b.empty()) return {};
  const auto select = [](const torch::Tensor& d, const std::vector<int64_t>& rows) {
    return d.index_select(0, torch::tensor(rows, torch::kLong).to(d.device()));
  };
  const Matches inside =
      MatchNearestNeighbors(select(da.descriptors, rows_a), select(db.descriptors, rows_b), nn_);
  Matches level_matches;
  level_matches.reserve(inside.size());
  for (const scalesfm::Match& m : inside) {
    level_matches.push_back({point2D_t(rows_a[m.idx1]), point2D_t(rows_b[m.idx2])});
  }
  return ToMergedIndices(level_matches, da, db);
}

Matches LevelMatcher::MatchNative(image_t a, image_t b) {
  return Match(a, Levels(a).native, b, Levels(b).native);
}

}  // namespace scalesfm
