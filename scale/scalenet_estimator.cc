#include "scale/scalenet_estimator.h"

#include <cmath>
#include <filesystem>
#include <opencv2/imgproc.hpp>

#include "feature/image_io.h"
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
  model_ = LoadModelOfSidecarConfig<ScaleNet, ScaleNetConfig>(
      weights, "scalenet", "ScaleNet",
      "train one with `scalesfm train_scalenet` or pass --ScaleMatching.weights");
  model_->to(device_);
}

ScaleNetImageFeatures ScaleNetEstimator::Features(const torch::Tensor& input) {
  ScaleNetImageFeatures f = model_->ExtractFeatures(input.to(device_));
  model_->CacheSelfCorrelation(&f);
  return f;
}

std::shared_ptr<ScaleNetEstimator::ImageFeatures> ScaleNetEstimator::EncodeImage(
    const cv::Mat& image) {
  torch::NoGradGuard no_grad;
  const ScaleNetConfig& config = model_->config();
  auto code = std::make_shared<ImageFeatures>();
  ImageFeatures& f = *code;
  if (!config.letterbox) {
    // The official preprocessing, at this image's own shortest side (Estimate crops further when
    // the partner's is shorter).
    f.side = std::min(image.cols, image.rows);
    f.net = Features(OfficialScaleNetInput(image, f.side, config.input_size));
    return code;
  }
  const int size = config.input_size;
  cv::Mat gray = image;
  if (image.channels() == 3) cv::cvtColor(image, gray, cv::COLOR_RGB2GRAY);
  const cv::Mat canvas = LetterboxForScaleNet(gray, size, &f.letterbox_factor);
  const torch::Tensor input =
      torch::from_blob(const_cast<float*>(canvas.ptr<float>()), {1, 1, size, size}, torch::kFloat32)
          .clone();
  f.net = Features(input);
  return code;
}

std::shared_ptr<const ImageCode> ScaleNetEstimator::Encode(const cv::Mat& image) {
  std::shared_ptr<ImageFeatures> code = EncodeImage(image);
  if (!model_->config().letterbox) code->square = CentreCrop(image, code->side).clone();
  return code;
}

std::shared_ptr<const ImageCode> ScaleNetEstimator::EncodeFile(const std::string& path) {
  std::shared_ptr<ImageFeatures> code = EncodeImage(ReadImageOrThrow(path, InputChannels()));
  code->path = path;  // no pixels kept: a re-crop reads the file again
  return code;
}

ScaleNetImageFeatures ScaleNetEstimator::Recropped(const ImageFeatures& code, int crop) {
  // The centre crop of the centre square is the image's own centre crop (CentreCrop places both
  // by integer halves), so the file is cropped directly.
  cv::Mat pixels = code.square;
  if (pixels.empty()) {
    std::string error;
    pixels = ReadImage(code.path, InputChannels(), &error);
    if (pixels.empty()) throw Error("ScaleNet: cannot read " + code.path + " again: " + error);
    if (std::min(pixels.cols, pixels.rows) != code.side) {
      throw Error("ScaleNet: " + code.path + " changed size since it was encoded");
    }
  }
  return Features(OfficialScaleNetInput(pixels, crop, model_->config().input_size));
}

ScaleEstimate ScaleNetEstimator::Estimate(const ImageCode& code_a, const ImageCode& code_b) {
  torch::NoGradGuard no_grad;
  const ImageFeatures* pa = &CodeAs<ImageFeatures>(code_a);
  const ImageFeatures* pb = &CodeAs<ImageFeatures>(code_b);
  ImageFeatures recropped;  // paper: the image with the longer shortest side, at the pair's crop
  if (!model_->config().letterbox && pa->side != pb->side) {
    const bool a_longer = pa->side > pb->side;
    recropped.net = Recropped(a_longer ? *pa : *pb, std::min(pa->side, pb->side));
    (a_longer ? pa : pb) = &recropped;
  }
  const ImageFeatures& a = *pa;
  const ImageFeatures& b = *pb;
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
