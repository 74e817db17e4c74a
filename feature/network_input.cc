#include "feature/network_input.h"

#include "util/logging.h"

namespace scalesfm {

torch::Tensor GrayToNetworkInput(const cv::Mat& gray, int multiple, int in_channels,
                                 const std::string& network) {
  if (gray.empty() || gray.type() != CV_8UC1) throw Error(network + " input must be 8-bit grey");
  const int k = multiple;
  const int h = (gray.rows + k - 1) / k * k, w = (gray.cols + k - 1) / k * k;
  cv::Mat padded;
  cv::copyMakeBorder(gray, padded, 0, h - gray.rows, 0, w - gray.cols, cv::BORDER_CONSTANT, 0);
  cv::Mat f;
  padded.convertTo(f, CV_32F, 1.0 / 255.0);
  torch::Tensor t = torch::from_blob(f.data, {1, 1, h, w}, torch::kFloat32).clone();
  if (in_channels == 3) {
    const torch::Tensor mean = torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1});
    const torch::Tensor std = torch::tensor({0.229f, 0.224f, 0.225f}).view({1, 3, 1, 1});
    t = (t.expand({1, 3, h, w}) - mean) / std;
  }
  return t;
}

}  // namespace scalesfm
