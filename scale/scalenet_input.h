// ScaleNet's input images: the letterboxed, normalised canvases that inference
// (scalenet_estimator.h) feeds the network, and the normalisation the training pairs
// (training/scale_pairs.h) share with it.
#pragma once

#include <opencv2/core.hpp>

namespace scalesfm {

// [0, 255] intensities (any depth) as CV_32F in about [-1, 1].
cv::Mat NormaliseForScaleNet(const cv::Mat& image_0_255);

// Letterboxes an 8-bit grey image into a size^2 float canvas: longest side resized to `size`,
// centred, padding 0, values normalised to roughly zero mean and unit range. Returns the resize
// factor (canvas pixels per image pixel).
cv::Mat LetterboxForScaleNet(const cv::Mat& gray, int size, double* factor);

}  // namespace scalesfm
