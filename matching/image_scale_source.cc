#include "matching/image_scale_source.h"

#include <filesystem>

#include "feature/image_io.h"
#include "util/logging.h"

namespace scalesfm {

ImageScaleSource::ImageScaleSource(const ScaleEstimatorOptions& options,
                                   const std::string& image_path, const std::vector<Image>& images)
    : image_path_(image_path), estimator_(ScaleEstimator::Create(options)) {
  for (const Image& image : images) names_[image.image_id] = image.name;
  scalenet_ = dynamic_cast<ScaleNetEstimator*>(estimator_.get());
  sift_vote_ = dynamic_cast<SiftVoteEstimator*>(estimator_.get());
}

template <typename Estimator>
const typename Estimator::ImageFeatures& ImageScaleSource::Cached(
    Estimator* estimator, std::unordered_map<image_t, typename Estimator::ImageFeatures>* cache,
    image_t id) {
  auto it = cache->find(id);
  if (it != cache->end()) return it->second;
  return (*cache)[id] = estimator->ComputeImageFeatures(ReadImage(id));
}

ScaleEstimate ImageScaleSource::Estimate(image_t a, image_t b) {
  if (scalenet_) {
    return scalenet_->EstimateFromFeatures(Cached(scalenet_, &features_, a),
                                           Cached(scalenet_, &features_, b));
  }
  if (sift_vote_) {
    return sift_vote_->EstimateFromFeatures(Cached(sift_vote_, &sift_features_, a),
                                            Cached(sift_vote_, &sift_features_, b));
  }
  return estimator_->Estimate(ReadImage(a), ReadImage(b));
}

cv::Mat ImageScaleSource::ReadImage(image_t id) {
  const std::string path = (std::filesystem::path(image_path_) / names_.at(id)).string();
  std::string error;
  cv::Mat image = ReadImageGray(path, &error);
  if (image.empty()) throw Error("scale estimation: " + path + ": " + error);
  return image;
}

}  // namespace scalesfm
