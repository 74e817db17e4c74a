#include "feature/network_input.h"

#include <opencv2/imgproc.hpp>

#include "util/logging.h"

namespace scalesfm {

torch::Tensor ImageToNetworkInput(const cv::Mat& image, int multiple, int in_channels,
                                  NetworkInputFit fit, const std::string& network) {
  if (image.empty() || (image.type() != CV_8UC1 && image.type() != CV_8UC3)) {
    throw Error(network + " input must be an 8-bit grey or RGB image");
  }
  if (in_channels != 1 && in_channels != 3) {
    throw Error(network + " input channels must be 1 or 3");
  }
  cv::Mat pixels = image;
  if (in_channels == 1 && image.channels() == 3) cv::cvtColor(image, pixels, cv::COLOR_RGB2GRAY);
  if (in_channels == 3 && image.channels() == 1) cv::cvtColor(image, pixels, cv::COLOR_GRAY2RGB);
  const int k = multiple;
  cv::Mat fitted;
  if (fit == NetworkInputFit::kCrop) {
    const int h = pixels.rows / k * k, w = pixels.cols / k * k;
    if (h == 0 || w == 0) {
      throw Error(network + " input must be at least " + std::to_string(k) + " pixels wide and " +
                  "high");
    }
    fitted = pixels(cv::Rect(0, 0, w, h));
  } else {
    const int h = (pixels.rows + k - 1) / k * k, w = (pixels.cols + k - 1) / k * k;
    cv::copyMakeBorder(pixels, fitted, 0, h - pixels.rows, 0, w - pixels.cols, cv::BORDER_CONSTANT,
                       cv::Scalar::all(0));
  }
  if (in_channels == 1) {
    // The compact configs' input (as trained): OpenCV's scaled conversion.
    cv::Mat f;
    fitted.convertTo(f, CV_32F, 1.0 / 255.0);  // a copy: continuous even when `fitted` is a crop
    return torch::from_blob(f.data, {1, 1, f.rows, f.cols}, torch::kFloat32).clone();
  }
  // torchvision's ToTensor (uint8 -> float, divided by 255) and Normalize, operation for
  // operation, so that the official input is reproduced bit for bit. HWC -> CHW; the conversion
  // to float copies out of `u8`.
  const cv::Mat u8 = fitted.isContinuous() ? fitted : fitted.clone();  // a crop is not
  torch::Tensor t = torch::from_blob(u8.data, {1, u8.rows, u8.cols, 3}, torch::kUInt8)
                        .permute({0, 3, 1, 2})
                        .to(torch::kFloat32)
                        .div(255)
                        .contiguous();
  const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
  const torch::Tensor std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
  return t.sub(mean).div(std);
}

}  // namespace scalesfm
