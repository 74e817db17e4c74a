// What the dense matchers (S2DNet, DualRC-Net) share around their networks: an image's SDAIM
// levels on the sqrt(2) grid, and a cache of per-(image, level) network outputs computed on
// demand from the image files and kept for the last few uses.
#pragma once

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "colmap_ext/types.h"
#include "feature/image_io.h"
#include "util/logging.h"

namespace scalesfm {

// The level of an image at min(1, max_image_size / longest side).
constexpr int kNativeLevel = 1000;

// Level k is the image resized by 2^(k/2) (the D-ScaleNet bin ratio sqrt(2)); kNativeLevel is
// the image at min(1, cap).
inline double LevelFactor(int k, double cap) {
  return k == kNativeLevel ? std::min(1.0, cap) : std::pow(2.0, 0.5 * k);
}

// SDAIM levels of a rescaled pair with s(A->B) = scale: A at ~s^0.5 and B at ~s^-0.5 (so they
// meet at the same scale), each within its image's cap (max size / longest side), rounded to
// the sqrt(2) level grid.
inline std::pair<int, int> SdaimPairLevels(double scale, double cap_a, double cap_b) {
  const double c = std::min({1.0, cap_a / std::sqrt(scale), cap_b * std::sqrt(scale)});
  auto level = [](double f, double cap) {
    int k = static_cast<int>(std::lround(2 * std::log2(f)));
    while (std::pow(2.0, 0.5 * k) > cap * 1.0001) --k;
    return k;
  };
  return {level(c * std::sqrt(scale), cap_a), level(c / std::sqrt(scale), cap_b)};
}

// `image` resized by `factor` to at least 16 px a side (area interpolation down, bilinear up);
// the image itself when the size does not change.
inline cv::Mat ResizeByFactor(const cv::Mat& image, double factor) {
  const int w = std::max(16, static_cast<int>(std::lround(image.cols * factor)));
  const int h = std::max(16, static_cast<int>(std::lround(image.rows * factor)));
  if (w == image.cols && h == image.rows) return image;
  cv::Mat resized;
  cv::resize(image, resized, cv::Size(w, h), 0, 0, factor < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  return resized;
}

// Entry = what `compute(image, factor)` makes of an image file resized by `factor`.
template <typename Entry>
class ImageLevelCache {
 public:
  using Compute = std::function<Entry(const cv::Mat& image, double factor)>;

  // `in_channels` 1 reads grey, 3 RGB; `network` names the model in read errors.
  ImageLevelCache(Compute compute, const std::string& image_path, const std::vector<Image>& images,
                  int max_image_size, size_t capacity, int in_channels, std::string network)
      : compute_(std::move(compute)),
        image_path_(image_path),
        max_image_size_(max_image_size),
        capacity_(capacity),
        in_channels_(in_channels),
        network_(std::move(network)) {
    for (const Image& image : images) names_[image.image_id] = image.name;
  }

  // Largest factor that keeps the image within max_image_size.
  double Cap(image_t id) {
    const cv::Size size = Size(id);
    return double(max_image_size_) / std::max(size.width, size.height);
  }

  const Entry& Get(image_t id, int level) {
    const auto key = std::make_pair(id, level);
    auto it = cache_.find(key);
    if (it != cache_.end()) {  // most recently used goes last
      order_.erase(std::find(order_.begin(), order_.end(), key));
      order_.push_back(key);
      return it->second;
    }
    if (order_.size() >= capacity_) {
      cache_.erase(order_.front());
      order_.pop_front();
    }
    Entry entry = compute_(Read(id), LevelFactor(level, Cap(id)));
    order_.push_back(key);
    return cache_[key] = std::move(entry);
  }

 private:
  cv::Size Size(image_t id) {
    auto it = sizes_.find(id);
    if (it != sizes_.end()) return it->second;
    const cv::Mat& image = Read(id);
    return sizes_[id] = image.size();
  }
  const cv::Mat& Read(image_t id) {
    if (last_id_ == id && !last_image_.empty()) return last_image_;
    const std::string path = (std::filesystem::path(image_path_) / names_.at(id)).string();
    std::string error;
    last_image_ = ReadImage(path, in_channels_, &error);
    if (last_image_.empty()) throw Error(network_ + " matching: " + error);
    last_id_ = id;
    return last_image_;
  }

  Compute compute_;
  std::string image_path_;
  int max_image_size_;
  size_t capacity_;
  int in_channels_;
  std::string network_;
  std::unordered_map<image_t, std::string> names_;
  std::unordered_map<image_t, cv::Size> sizes_;
  std::map<std::pair<image_t, int>, Entry> cache_;
  std::deque<std::pair<image_t, int>> order_;
  image_t last_id_ = 0;
  cv::Mat last_image_;
};

}  // namespace scalesfm
