// Nearest-neighbour descriptor matching between stored feature levels of two database images.
// A multi-level extraction (feature/multilevel_extraction.h) stores each image's levels in
// scalesfm_feature_levels; a single-level one has just COLMAP's descriptors table. Matches come
// back in the images' merged keypoint-list indices. Shared by the nn matcher, the scale estimate
// that votes on native-level matches, and S2DNet's scale estimate.
#pragma once

#include <torch/torch.h>

#include <unordered_map>
#include <vector>

#include "colmap_ext/database.h"
#include "feature/descriptor_matching.h"
#include "matching/covisible_region.h"
#include "matching/descriptor_cache.h"

namespace scalesfm {

// One image's levels as the matcher sees them.
struct ImageLevels {
  std::vector<double> factors;
  std::vector<int> ids;  // scalesfm_feature_levels.level, or kDatabaseLevel
  int native = 0;        // index of the level nearest the original resolution (NativeLevel)
};

class LevelMatcher {
 public:
  // Levels of every image of `images` that has descriptors; `capacity` descriptor sets are held.
  LevelMatcher(const Database* db, const std::vector<Image>& images, torch::Device device,
               const NnMatchOptions& nn, size_t capacity);

  bool HasDescriptors(image_t id) const { return levels_.count(id) > 0; }
  const ImageLevels& Levels(image_t id) const { return levels_.at(id); }
  // Level `index` (into Levels(id).ids) of image `id`, on the matching device.
  const LevelDescriptors& Descriptors(image_t id, int index);
  // Mutual nearest neighbours of level `la` of `a` and level `lb` of `b`, merged indices.
  Matches Match(image_t a, int la, image_t b, int lb);
  Matches MatchNative(image_t a, image_t b);
  const NnMatchOptions& nn() const { return nn_; }
  // The GT covisible-region oracle: from now on every Match sees only the keypoints inside the
  // pair's region (nullptr: all keypoints, the default). `regions` outlives the matcher.
  void RestrictTo(GtCovisibleRegions* regions) { regions_ = regions; }

 private:
  NnMatchOptions nn_;
  DescriptorCache cache_;
  GtCovisibleRegions* regions_ = nullptr;
  std::unordered_map<image_t, ImageLevels> levels_;
};

}  // namespace scalesfm
