// Scale estimates s(A->B) for database images from an image-based estimator (dscalenet,
// scalenet, cvarm, or sift_vote on fresh SIFT features): images are read from the image folder
// by their database names, and per-image features (a network's, or SIFT's) are computed once and
// reused across pairs.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "colmap_ext/database.h"
#include "scale/scale_estimator.h"
#include "scale/scalenet_estimator.h"
#include "scale/sift_vote.h"

namespace scalesfm {

class ImageScaleSource {
 public:
  ImageScaleSource(const ScaleEstimatorOptions& options, const std::string& image_path,
                   const std::vector<Image>& images);

  ScaleEstimate Estimate(image_t a, image_t b);

 private:
  cv::Mat ReadImage(image_t id);
  // `estimator`'s features of image `id` from `cache`, computed on first use.
  template <typename Estimator>
  const typename Estimator::ImageFeatures& Cached(
      Estimator* estimator, std::unordered_map<image_t, typename Estimator::ImageFeatures>* cache,
      image_t id);

  std::string image_path_;
  std::unique_ptr<ScaleEstimator> estimator_;
  ScaleNetEstimator* scalenet_ = nullptr;
  SiftVoteEstimator* sift_vote_ = nullptr;
  std::unordered_map<image_t, std::string> names_;
  std::unordered_map<image_t, ScaleNetEstimator::ImageFeatures> features_;
  std::unordered_map<image_t, SiftVoteEstimator::ImageFeatures> sift_features_;
};

}  // namespace scalesfm
