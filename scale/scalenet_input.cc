#include "scale/scalenet_input.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

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

}  // namespace scalesfm
