#include "scale/scalenet_input.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "feature/network_input.h"
#include "util/logging.h"

namespace scalesfm {

cv::Mat NormaliseForScaleNet(const cv::Mat& image_0_255) {
  cv::Mat out;
  image_0_255.convertTo(out, CV_32F, 1.0 / 127.5, -1.0);
  return out;
}

cv::Mat LetterboxForScaleNet(const cv::Mat& gray, int size, double* factor) {
  *factor = static_cast<double>(size) / std::max(gray.cols, gray.rows);
  const int w = std::max(1, int(std::lround(gray.cols * *factor)));
  const int h = std::max(1, int(std::lround(gray.rows * *factor)));
  cv::Mat resized;
  cv::resize(gray, resized, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  cv::Mat f;
  resized.convertTo(f, CV_32F);
  cv::Mat canvas(size, size, CV_32F, cv::Scalar(127.5));
  f.copyTo(canvas(cv::Rect((size - w) / 2, (size - h) / 2, w, h)));
  return NormaliseForScaleNet(canvas);
}

cv::Mat CentreCrop(const cv::Mat& image, int crop) {
  if (crop < 1 || crop > image.cols || crop > image.rows) {
    throw Error("ScaleNet centre crop " + std::to_string(crop) + " does not fit a " +
                std::to_string(image.cols) + "x" + std::to_string(image.rows) + " image");
  }
  return image(cv::Rect(image.cols / 2 - crop / 2, image.rows / 2 - crop / 2, crop, crop));
}

torch::Tensor OfficialScaleNetInput(const cv::Mat& rgb, int crop, int size) {
  cv::Mat resized;
  cv::resize(CentreCrop(rgb, crop), resized, cv::Size(size, size), 0, 0, cv::INTER_LINEAR);
  return ImageToNetworkInput(resized, 1, 3, NetworkInputFit::kPad, "ScaleNet");
}

}  // namespace scalesfm
