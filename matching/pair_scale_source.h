// s(A->B) for database images, whatever extracted their features. MakeScaleSource picks how:
// - a trivial estimator ("none") gives s = 1 and reads nothing;
// - an estimator that votes with keypoint scales (sift_vote) on a database whose keypoints carry
//   them (SIFT) uses the stored keypoints and the pair's native-level matches;
// - otherwise the estimator's per-image stage runs on the image files, once per image, and its
//   per-pair stage on the cached codes. A learned extractor's keypoints carry no scale, so
//   sift_vote then gets SIFT scales from the images.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "colmap_ext/database.h"
#include "scale/scale_estimator.h"

namespace scalesfm {

class PairScaleSource {
 public:
  virtual ~PairScaleSource() = default;
  // `native` gives the pair's native-level descriptor matches (merged keypoint indices),
  // computed on first use and shared with the matcher.
  virtual ScaleEstimate Estimate(image_t a, image_t b,
                                 const std::function<const Matches&()>& native) = 0;
};

// `keypoints_carry_scale`: the database's keypoints have detector scales (its feature type's
// traits); `cache_images`: keypoint lists held at once. Throws Error when the estimate needs the
// images and `image_path` is empty.
std::unique_ptr<PairScaleSource> MakeScaleSource(const ScaleEstimatorOptions& options,
                                                 const Database* db,
                                                 const std::vector<Image>& images,
                                                 const std::string& image_path,
                                                 bool keypoints_carry_scale, size_t cache_images);

}  // namespace scalesfm
