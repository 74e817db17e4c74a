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

ScaleEstimate ImageScaleSource::Estimate(image_t a, image_t b) {
  if (scalenet_) return scalenet_->EstimateFromFeatures(Features(a), Features(b));
  if (sift_vote_) return sift_vote_->EstimateFromFeatures(SiftFeatures(a), SiftFeatures(b));
  return estimator_->Estimate(ReadImage(a), ReadImage(b));
}

cv::Mat ImageScaleSource::ReadImage(image_t id) {
  const std::string path = (std::filesystem::path(image_path_) / names_.at(id)).string();
  std::string error;
  cv::Mat image = ReadImageGray(path, &error);
  if (image.empty()) throw Error("scale estimation: " + error);
  return image;
}

const ScaleNetEstimator::ImageFeatures& ImageScaleSource::Features(image_t id) {
  auto it = features_.find(id);
  if (it != features_.end()) return it->second;
  return features_[id] = scalenet_->ComputeImageFeatures(ReadImage(id));
}

const SiftVoteEstimator::ImageFeatures& ImageScaleSource::SiftFeatures(image_t id) {
  auto it = sift_features_.find(id);
  if (it != sift_features_.end()) return it->second;
  return sift_features_[id] = sift_vote_->ComputeImageFeatures(ReadImage(id));
}

}  // namespace scalesfm
