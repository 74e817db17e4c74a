#include "scale/cvarm_estimator.h"

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "feature/network_input.h"
#include "scale/scalenet_input.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {

CvarmEstimator::CvarmEstimator(const ScaleEstimatorOptions& options)
    : device_(ParseDevice(options.device)) {
  weights_ = options.weights.empty() ? DefaultWeights("cvarm_compact.pt") : options.weights;
  model_ = LoadModelOfSidecarConfig<CvarmNet, CvarmConfig>(
      weights_, "cvarm", "CVARM",
      "train one with `scalesfm train_cvarm` or pass --ScaleMatching.weights");
  model_->to(device_);
}

std::shared_ptr<const ImageCode> CvarmEstimator::Encode(const cv::Mat& image) {
  torch::NoGradGuard no_grad;
  const CvarmConfig& config = model_->config();
  const int size = config.input_size;
  auto code = std::make_shared<ImageFeatures>();
  if (image.empty()) throw Error("CVARM: empty image");
  torch::Tensor input;
  if (config.in_channels == 1) {
    cv::Mat gray = image;
    if (image.channels() == 3) cv::cvtColor(image, gray, cv::COLOR_RGB2GRAY);
    const cv::Mat canvas = LetterboxForScaleNet(gray, size, &code->letterbox_factor);
    input = torch::from_blob(const_cast<float*>(canvas.ptr<float>()), {1, 1, size, size},
                             torch::kFloat32)
                .clone();
  } else {
    // Longest side to the canvas, zero padding at the bottom and right.
    code->letterbox_factor = static_cast<double>(size) / std::max(image.cols, image.rows);
    const int w = std::max(1, int(std::lround(image.cols * code->letterbox_factor)));
    const int h = std::max(1, int(std::lround(image.rows * code->letterbox_factor)));
    cv::Mat resized;
    cv::resize(image, resized, cv::Size(w, h), 0, 0, cv::INTER_AREA);
    input = ImageToNetworkInput(resized, size, 3, NetworkInputFit::kPad, "CVARM");
  }
  code->features = model_->ExtractFeatures(input.to(device_));
  return code;
}

ScaleEstimate CvarmEstimator::Estimate(const ImageCode& code_a, const ImageCode& code_b) {
  torch::NoGradGuard no_grad;
  const ImageFeatures& a = CodeAs<ImageFeatures>(code_a);
  const ImageFeatures& b = CodeAs<ImageFeatures>(code_b);
  // A -> B and B -> A as one batch of two.
  const torch::Tensor out = model_
                                ->PairLog2Scale(torch::cat({a.features, b.features}),
                                                torch::cat({b.features, a.features}))
                                .cpu();
  const double log2_canvas = SymmetricLog2Scale(out[0], out[1]).item<double>();
  // Canvas scale -> original images: s = s_canvas * f_A / f_B.
  ScaleEstimate e;
  e.scale = std::exp2(log2_canvas) * a.letterbox_factor / b.letterbox_factor;
  if (!std::isfinite(e.scale) || e.scale <= 0) {
    throw Error("CVARM gave a non-finite scale (weights " + weights_ +
                "); the weights or the input are broken");
  }
  // A regressor gives one value, not a distribution: all mass on the estimate's bin.
  e.bin = NearestScaleBin(e.scale);
  e.probs.assign(kNumScaleBins, 0.0);
  e.probs[e.bin] = 1.0;
  e.support = 1;
  return e;
}

}  // namespace scalesfm
