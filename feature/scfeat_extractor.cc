#include "feature/scfeat_extractor.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "util/device.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {

Scfeat LoadScfeat(const std::string& weights) {
  return LoadModelOfSidecarConfig<Scfeat, ScfeatConfig>(
      weights, "scfeat", "SCFeat",
      "train one with `scalesfm train_scfeat` or pass --Extraction.scfeat_weights");
}

ScfeatExtractor::ScfeatExtractor(const ExtractionOptions& options)
    : device_(ParseDevice(options.device)) {
  model_ = LoadScfeat(options.scfeat_weights.empty() ? DefaultWeights("scfeat_compact.pt")
                                                     : options.scfeat_weights);
  model_->to(device_);
  keypoint_options_.nms_size = options.scfeat_nms_size;
  keypoint_options_.score_threshold = options.scfeat_score_threshold;
  keypoint_options_.max_keypoints = options.max_num_features;
}

int ScfeatExtractor::InputChannels() const { return model_->config().in_channels; }

FeatureSet ScfeatExtractor::Extract(const cv::Mat& image) {
  torch::NoGradGuard no_grad;
  const torch::Tensor input = ScfeatInput(image, model_->config()).to(device_);
  const ScfeatDescription d = model_->Describe(input);
  const torch::Tensor score = model_->Detect(d, input);
  // The network's input covers image.cols x image.rows plus padding, or less when cropped.
  const int input_w = static_cast<int>(input.size(3)), input_h = static_cast<int>(input.size(2));
  const ScfeatKeypoints k = SelectKeypoints(score, std::min(image.cols, input_w),
                                            std::min(image.rows, input_h), keypoint_options_);
  const bool official_grid = model_->config().official_sampling_grid;
  const torch::Tensor desc =
      SampleDescriptors(d.desc, k.points, input_w, input_h, official_grid).contiguous();
  FeatureSet out;
  const int64_t n = k.points.size(0);
  out.keypoints.resize(n);
  const auto p = k.points.accessor<float, 2>();
  for (int64_t i = 0; i < n; ++i) {
    // OpenCV/LibTorch pixel centres -> COLMAP's; no scale or orientation (unit affine shape).
    out.keypoints[i] =
        Keypoint::FromScaleOrientation(OpenCvToColmap(p[i][0]), OpenCvToColmap(p[i][1]), 1.f, 0.f);
  }
  out.descriptors = DescriptorsU8(n, 0);
  out.float_descriptors = DescriptorsF32(n, desc.size(1));
  if (n > 0) {
    std::memcpy(out.float_descriptors.data(), desc.data_ptr<float>(),
                sizeof(float) * static_cast<size_t>(desc.numel()));
  }
  return out;
}

DescriptorsF32 ScfeatExtractor::DescribeAt(const cv::Mat& image, const Keypoints& keypoints) {
  torch::NoGradGuard no_grad;
  const torch::Tensor input = ScfeatInput(image, model_->config()).to(device_);
  const ScfeatDescription d = model_->Describe(input);
  std::vector<float> xy;
  xy.reserve(keypoints.size() * 2);
  for (const Keypoint& k : keypoints) {
    xy.push_back(static_cast<float>(ColmapToOpenCv(k.x)));
    xy.push_back(static_cast<float>(ColmapToOpenCv(k.y)));
  }
  const auto n = static_cast<int64_t>(keypoints.size());
  const torch::Tensor points = torch::from_blob(xy.data(), {n, 2}, torch::kFloat32).clone();
  const torch::Tensor desc =
      SampleDescriptors(d.desc, points, static_cast<int>(input.size(3)),
                        static_cast<int>(input.size(2)), model_->config().official_sampling_grid)
          .contiguous();
  DescriptorsF32 out(n, d.desc.size(1));
  if (n > 0) {
    std::memcpy(out.data(), desc.data_ptr<float>(),
                sizeof(float) * static_cast<size_t>(desc.numel()));
  }
  return out;
}

}  // namespace scalesfm
