// `--Extraction.type scfeat`: SCFeat keypoints and descriptors (Fig. 6c) as a scalesfm feature
// extractor. The image runs through the description and detection networks on --device; the
// keypoints are the top max_num_features of the score map after NMS and the score threshold,
// with sub-pixel offsets, in COLMAP's convention; descriptors are L2-normalised samples of
// D_desc (eqs. 22-23), returned as float descriptors. Memory stays bounded because the pipeline
// downscales images above --Extraction.max_image_size first.
#pragma once

#include <torch/torch.h>

#include "feature/extractor.h"
#include "feature/scfeat_keypoints.h"
#include "feature/scfeat_model.h"

namespace scalesfm {

// Loads weights (with their sidecar) into a model of the sidecar's config; throws Error for a
// missing file, a sidecar of another architecture, or missing / mis-shaped tensors.
Scfeat LoadScfeat(const std::string& weights_path);

class ScfeatExtractor : public FeatureExtractor {
 public:
  explicit ScfeatExtractor(const ExtractionOptions& options);
  // The config's in_channels: 3 (RGB) for the paper config, 1 (grey) for compact.
  int InputChannels() const override;
  FeatureSet Extract(const cv::Mat& image) override;
  // SCFeat descriptors (eqs. 22-23) of `image` at given keypoints (COLMAP convention, pixels of
  // `image`), skipping the detector: an ablation that separates the detector from the
  // descriptor (eval_features' scfeat-at-sift). Extract's own keypoints give Extract's rows.
  DescriptorsF32 DescribeAt(const cv::Mat& image, const Keypoints& keypoints);

 private:
  Scfeat model_{nullptr};
  torch::Device device_;
  ScfeatKeypointOptions keypoint_options_;
};

}  // namespace scalesfm
