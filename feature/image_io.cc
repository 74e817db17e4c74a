#include "feature/image_io.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "feature/jpeg_check.h"
#include "util/logging.h"

namespace scalesfm {

cv::Mat ReadImage(const std::string& path, int channels, std::string* error) {
  if (channels != 1 && channels != 3) throw Error("ReadImage: channels must be 1 or 3");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open file";
    return {};
  }
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  if (bytes.empty()) {
    *error = "file is empty";
    return {};
  }
  // libjpeg decodes a truncated JPEG into a grey-padded image with only a warning; a JPEG must
  // end with its EOI marker (FF D9), possibly followed by a little padding.
  if (bytes.size() >= 2 && bytes[0] == 0xFF && bytes[1] == 0xD8) {
    bool has_eoi = false;
    const size_t start = bytes.size() > 4096 ? bytes.size() - 4096 : 0;
    for (size_t i = bytes.size() - 1; i > start; --i) {
      if (bytes[i - 1] == 0xFF && bytes[i] == 0xD9) {
        has_eoi = true;
        break;
      }
    }
    if (!has_eoi) {
      *error = "truncated or corrupt JPEG (no end-of-image marker)";
      return {};
    }
  }
  if (LooksLikeJpeg(bytes)) {
    if (auto corruption = JpegCorruption(bytes)) {
      *error = "corrupt JPEG (libjpeg: " + *corruption + ")";
      return {};
    }
  }
  cv::Mat image;
  try {
    image = cv::imdecode(bytes, (channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR) |
                                    cv::IMREAD_IGNORE_ORIENTATION);
  } catch (const cv::Exception& e) {
    *error = std::string("decoder error: ") + e.what();
    return {};
  }
  if (image.empty()) {
    *error = "not a readable image in a supported format";
    return {};
  }
  if (image.depth() != CV_8U) image.convertTo(image, CV_8U);
  if (channels == 3) cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
  return image;
}

cv::Mat ReadImageOrThrow(const std::string& path, int channels) {
  std::string error;
  cv::Mat image = ReadImage(path, channels, &error);
  if (image.empty()) throw Error(path + ": " + error);
  return image;
}

cv::Mat ReadImageGray(const std::string& path, std::string* error) {
  return ReadImage(path, 1, error);
}

cv::Mat DownscaleToMaxSize(const cv::Mat& image, int max_size, double* scale_x, double* scale_y) {
  *scale_x = *scale_y = 1.0;
  const int max_dim = std::max(image.cols, image.rows);
  if (max_size <= 0 || max_dim <= max_size) return image;
  const double f = static_cast<double>(max_size) / max_dim;
  const int w = std::max(1, static_cast<int>(image.cols * f + 0.5));
  const int h = std::max(1, static_cast<int>(image.rows * f + 0.5));
  cv::Mat resized;
  cv::resize(image, resized, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  *scale_x = static_cast<double>(image.cols) / w;
  *scale_y = static_cast<double>(image.rows) / h;
  return resized;
}

std::vector<std::string> ListTrainingImages(const std::string& root) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(root)) throw Error("training data folder " + root + " does not exist");
  std::vector<std::string> paths;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    if (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp") {
      paths.push_back(e.path().string());
    }
  }
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) throw Error("no training images below " + root);
  return paths;
}

void SplitTrainingImages(const std::string& root, std::vector<std::string>* train,
                         std::vector<std::string>* validation) {
  const std::vector<std::string> all = ListTrainingImages(root);
  for (size_t i = 0; i < all.size(); ++i) (i % 10 == 9 ? validation : train)->push_back(all[i]);
}

}  // namespace scalesfm
