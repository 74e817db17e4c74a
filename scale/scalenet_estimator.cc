#include "scale/scalenet_estimator.h"

#include <cmath>
#include <filesystem>

#include "scale/scale_distribution.h"
#include "scale/scalenet_input.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {

ScaleNetEstimator::ScaleNetEstimator(const ScaleEstimatorOptions& options, bool discrete)
    : discrete_(discrete), device_(ParseDevice(options.device)) {
  const std::string weights =
      options.weights.empty() ? DefaultWeights("scalenet_compact.pt") : options.weights;
  weights_ = weights;
  const nlohmann::json sidecar = ReadArchitectureSidecar(
      weights, "scalenet", "ScaleNet",
      "train one with `scalesfm train_scalenet` or pass --ScaleMatching.weights");
  model_ = ScaleNet(ScaleNetConfig::FromName(sidecar.value("config", "compact")));
  LoadWeights(model_.get(), weights);
  model_->to(device_);
  model_->eval();
}

std::shared_ptr<const ImageCode> ScaleNetEstimator::Encode(const cv::Mat& gray) {
  torch::NoGradGuard no_grad;
  const ScaleNetConfig& config = model_->config();
  const int size = config.input_size;
  auto code = std::make_shared<ImageFeatures>();
  ImageFeatures& f = *code;
  cv::Mat canvas;
  if (config.letterbox) {
    canvas = LetterboxForScaleNet(gray, size, &f.letterbox_factor);
  } else {
    // The official preprocessing: centre square crop, resized; a crop does not change scale.
    const int side = std::min(gray.cols, gray.rows);
    const cv::Mat crop = gray(cv::Rect((gray.cols - side) / 2, (gray.rows - side) / 2, side, side));
    canvas = LetterboxForScaleNet(crop, size, &f.letterbox_factor);
  }
  torch::Tensor input =
      torch::from_blob(const_cast<float*>(canvas.ptr<float>()), {1, 1, size, size}, torch::kFloat32)
          .clone();
  if (config.in_channels == 3) {
    // Grey to RGB with ImageNet normalisation (the official VGG input).
    const torch::Tensor unit = (input + 1.0) / 2.0;
    const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
    const torch::Tensor std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
    input = (unit.expand({1, 3, size, size}) - mean) / std;
  }
  f.net = model_->ExtractFeatures(input.to(device_));
  model_->CacheSelfCorrelation(&f.net);
  return code;
}

ScaleEstimate ScaleNetEstimator::Estimate(const ImageCode& code_a, const ImageCode& code_b) {
  const ImageFeatures& a = CodeAs<ImageFeatures>(code_a);
  const ImageFeatures& b = CodeAs<ImageFeatures>(code_b);
  torch::NoGradGuard no_grad;
  ScaleEstimate e;
  double log_scale;
  torch::Tensor p_ab;
  if (discrete_) {
    p_ab = torch::softmax(model_->PairLogits(a.net, b.net), 1).cpu();
    log_scale = std::log(ScaleBinCenter(p_ab.argmax(1).item<int>()));
  } else {
    // A -> B and B -> A (eq. 3) as one batch of two.
    ScaleNetImageFeatures first, second;
    first.features = torch::cat({a.net.features, b.net.features});
    first.self_as_a = torch::cat({a.net.self_as_a, b.net.self_as_a});
    second.features = torch::cat({b.net.features, a.net.features});
    second.self_as_b = torch::cat({b.net.self_as_b, a.net.self_as_b});
    const torch::Tensor p = torch::softmax(model_->PairLogits(first, second), 1).cpu();
    p_ab = p.slice(0, 0, 1);
    log_scale = ConsistentLogScale(p_ab, p.slice(0, 1, 2)).item<double>();
  }
  // Canvas scale -> original images: s = s_canvas * f_A / f_B.
  const double to_original = std::log(a.letterbox_factor / b.letterbox_factor);
  p_ab = p_ab.contiguous();
  e.probs.assign(p_ab.data_ptr<float>(), p_ab.data_ptr<float>() + kNumScaleBins);
  e.scale = std::exp(log_scale + to_original);
  // Finite weights can still overflow on a pathological input; never hand on a NaN scale.
  bool finite = std::isfinite(e.scale) && e.scale > 0;
  for (double p : e.probs) finite = finite && std::isfinite(p);
  if (!finite) {
    throw Error("ScaleNet gave a non-finite scale distribution (weights " + weights_ +
                "); the weights or the input are broken");
  }
  e.bin = NearestScaleBin(e.scale);
  e.support = 1;
  return e;
}

}  // namespace scalesfm
