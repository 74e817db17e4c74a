// Image loading with clear failures: unreadable, unsupported and truncated files are reported,
// not half-decoded.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace scalesfm {

// Reads `path` as 8-bit grayscale in its stored pixel grid (EXIF orientation is not applied, as
// in COLMAP). Returns an empty Mat and sets `error` when the file cannot be read, is not a
// supported image, or is a truncated JPEG.
cv::Mat ReadImageGray(const std::string& path, std::string* error);

// The same checks; `channels` 1 gives 8-bit grey, 3 gives 8-bit RGB (channel order R, G, B, as
// the official PyTorch models read images; a grey file has its value in all three channels).
// Methods state which they need (FeatureExtractor::InputChannels, ScaleEstimator::InputChannels).
cv::Mat ReadImage(const std::string& path, int channels, std::string* error);
// ReadImage, throwing Error("<path>: <reason>") instead of returning an empty Mat.
cv::Mat ReadImageOrThrow(const std::string& path, int channels);

// Resizes so that max(width, height) <= max_size (area interpolation). Returns the factors that
// map COLMAP-convention coordinates of the result back to the original: x_orig = x * scale_x.
cv::Mat DownscaleToMaxSize(const cv::Mat& image, int max_size, double* scale_x, double* scale_y);

// Lists the image files (jpg, jpeg, png, bmp) below `root`, recursively, sorted. Throws Error
// when the folder is missing or holds no image.
std::vector<std::string> ListTrainingImages(const std::string& root);

// ListTrainingImages(root), with every 10th image (sorted) held out for validation.
void SplitTrainingImages(const std::string& root, std::vector<std::string>* train,
                         std::vector<std::string>* validation);

}  // namespace scalesfm
