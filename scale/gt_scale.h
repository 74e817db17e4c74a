// Ground-truth scale between two posed images (ScaleNet's recipe, eqs. 4-5), for eval_scale's GT
// and for the `gt` oracle estimator, which feeds the matcher the true scale of every pair.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "colmap_ext/reconstruction.h"

namespace scalesfm {

// Eqs. 4-5: exp(mean ln(|kB_i - kB_j| / |kA_i - kA_j|)) over `num_samples` random pairs of
// corresponding points (fixed seed). Pairs closer than 5 px in A are not drawn. 0 for fewer than
// two points.
double ScaleFromCorrespondences(const std::vector<Eigen::Vector2d>& points_a,
                                const std::vector<Eigen::Vector2d>& points_b, int num_samples,
                                unsigned seed);

// s(A->B) of two images of `gt` from the 3D points both tracks contain, projected with the GT
// cameras. Returns 0 and sets *support to the number of common points when there are fewer than
// `min_common`.
double GtPairScale(const Reconstruction& gt, const ModelImage& a, const ModelImage& b,
                   size_t min_common, size_t* support);

}  // namespace scalesfm
