// Ground-truth scale between two posed images (ScaleNet's recipe, eqs. 4-5), for eval_scale's GT
// and for the `gt` oracle estimator, which feeds the matcher the true scale of every pair.
#pragma once

#include <Eigen/Core>
#include <string>
#include <unordered_map>
#include <vector>

#include "colmap_ext/database.h"
#include "colmap_ext/reconstruction.h"

namespace scalesfm {

// Eqs. 4-5: exp(mean ln(|kB_i - kB_j| / |kA_i - kA_j|)) over `num_samples` random pairs of
// corresponding points (fixed seed). Pairs closer than 5 px in A are not drawn. 0 for fewer than
// two points.
double ScaleFromCorrespondences(const std::vector<Eigen::Vector2d>& points_a,
                                const std::vector<Eigen::Vector2d>& points_b, int num_samples,
                                unsigned seed);

// The projections into `a` and into `b` (GT cameras) of the 3D points of `gt` whose tracks hold
// both images and that lie in front of both cameras, in the same order.
void CommonProjections(const Reconstruction& gt, const ModelImage& a, const ModelImage& b,
                       std::vector<Eigen::Vector2d>* in_a, std::vector<Eigen::Vector2d>* in_b);

// `images` (database images) mapped to the images of the same name in `gt`, for an oracle that
// reads the GT model (`what` names it in errors). Throws Error when an image is missing from
// `gt` or `gt` has no 3D points.
std::unordered_map<image_t, const ModelImage*> GtImagesByDatabaseId(
    const Reconstruction& gt, const std::vector<Image>& images, const std::string& what);

// s(A->B) of two images of `gt` from the 3D points both tracks contain, projected with the GT
// cameras. Returns 0 and sets *support to the number of common points when there are fewer than
// `min_common`.
double GtPairScale(const Reconstruction& gt, const ModelImage& a, const ModelImage& b,
                   size_t min_common, size_t* support);

}  // namespace scalesfm
