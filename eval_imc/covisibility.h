// GT co-visibility of image pairs, as the IMC 2020 benchmark defines it from its GT SfM model,
// and the co-visible multiview bags built from it.
//  - Visibility of a pair: the number of GT 3D points both images observe (IMC's
//    visibility/vis_*.txt; a pair is usable with more than vis_th = 100, compute_image_pairs).
//  - Co-visibility ratio of a pair: per image, the area of the bounding box of those shared
//    points (here: their projections with the GT poses that fall inside the image) over the image
//    area; the pair's ratio is the smaller of the two (IMC's new-vis-pairs/keys-th-*.npy keep a
//    pair when both ratios reach the threshold; its stereo headline uses 0.1).
//  - Co-visible bags: IMC's README says only that co-visibility made its bags. Ours: triplets of
//    images whose three pairs are each co-visible (visibility > vis_th); a bag starts from a random
//    triplet and grows by random triplets sharing at least one of its images that fit the room
//    left, so every bag image is co-visible with two others of the bag and the bag's co-visibility
//    graph is connected (docs/DESIGN_NOTES.md, "IMC protocol").
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "colmap_ext/reconstruction.h"

namespace scalesfm {

struct PairCovisibility {
  size_t shared_points = 0;  // IMC's visibility
  double ratio = 0;          // IMC's co-visibility: min over the two images of bbox area / area
};

class CovisibilityTable {
 public:
  // From `points` (a model posed as `gt`, with tracks; images matched to `gt` by name): every
  // pair of GT images with at least one shared point.
  static CovisibilityTable Compute(const Reconstruction& gt, const Reconstruction& points);

  // Zero for a pair without shared points (or an unknown name). Order of names does not matter.
  PairCovisibility Get(const std::string& name1, const std::string& name2) const;
  void Set(const std::string& name1, const std::string& name2, const PairCovisibility& value);

  // Pairs with more than vis_th shared points (IMC's compute_image_pairs test).
  bool Covisible(const std::string& name1, const std::string& name2, double vis_th) const;

 private:
  std::map<std::pair<std::string, std::string>, PairCovisibility> pairs_;
};

// covisible[i][j]: whether images i and j of a scene are co-visible (symmetric, false on the
// diagonal).
using CovisibilityMatrix = std::vector<std::vector<bool>>;

// covisible[i][j] for the named images: more than vis_th shared GT points (IMC's
// compute_image_pairs); every pair when vis_th < 0.
CovisibilityMatrix MakeCovisibilityMatrix(const std::vector<std::string>& names,
                                          const CovisibilityTable& table, double vis_th);

// The pairs of a bag (as positions i < j in `bag`) whose matches go into its database: the
// co-visible ones (IMC's run_colmap_for_bag imports only pairs above vis_th).
std::vector<std::pair<int, int>> ImportedBagPairs(const std::vector<int>& bag,
                                                  const CovisibilityMatrix& covisible);

// Up to `count` distinct sorted bags of `size` images of [0, n) built from co-visible triplets
// (see the file comment; a bag of 2 is a co-visible pair), fixed seed. Fewer when the scene has
// fewer such bags.
std::vector<std::vector<int>> SampleCovisibleBags(const CovisibilityMatrix& covisible, int size,
                                                  int count, unsigned seed);

}  // namespace scalesfm
