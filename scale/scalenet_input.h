// ScaleNet's input images: the letterboxed, normalised canvases that inference
// (scalenet_estimator.h) feeds the network, and the normalisation the training pairs
// (training/scale_pairs.h) share with it.
#pragma once

#include <torch/torch.h>

#include <opencv2/core.hpp>

namespace scalesfm {

// [0, 255] intensities (any depth) as CV_32F in about [-1, 1].
cv::Mat NormaliseForScaleNet(const cv::Mat& image_0_255);

// Letterboxes an 8-bit grey image into a size^2 float canvas: longest side resized to `size`,
// centred, padding 0, values normalised to roughly zero mean and unit range. Returns the resize
// factor (canvas pixels per image pixel).
cv::Mat LetterboxForScaleNet(const cv::Mat& gray, int size, double* factor);

// The centre crop x crop window of `image` (a view), placed as the official center_crop places
// it: top-left corner at (w / 2 - crop / 2, h / 2 - crop / 2), integer division. crop must not
// exceed either side.
cv::Mat CentreCrop(const cv::Mat& image, int crop);

// The official get_scale() input of one image of a pair: CentreCrop(rgb, crop), resized to
// size x size with cv2.resize's default (bilinear), then torchvision's ToTensor and ImageNet
// Normalize: [1, 3, size, size]. `crop` is the pair's shortest side; rgb is 8-bit RGB (grey is
// replicated).
torch::Tensor OfficialScaleNetInput(const cv::Mat& rgb, int crop, int size);

}  // namespace scalesfm
