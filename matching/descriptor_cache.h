// Descriptors of at most `capacity` (image, level) sets on the matching device, oldest out
// first. Level kDatabaseLevel is COLMAP's descriptors table itself, or scalesfm_float_descriptors
// when the image has learned descriptors.
#pragma once

#include <torch/torch.h>

#include <deque>
#include <unordered_map>
#include <vector>

#include "colmap_ext/database.h"
#include "feature/descriptor_matching.h"

namespace scalesfm {

constexpr int kDatabaseLevel = -1;

struct LevelDescriptors {
  torch::Tensor descriptors;
  std::vector<point2D_t> index;  // level keypoint -> merged keypoint; empty: identity
};

class DescriptorCache {
 public:
  DescriptorCache(const Database* db, torch::Device device, size_t capacity)
      : db_(db), device_(device), capacity_(std::max<size_t>(2, capacity)) {}

  const LevelDescriptors& Get(image_t image_id, int level) {
    const uint64_t key = (uint64_t(image_id) << 8) | uint64_t(level + 1);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    if (order_.size() >= capacity_) {
      cache_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(key);
    LevelDescriptors& entry = cache_[key];
    if (level == kDatabaseLevel && db_->ExistsFloatDescriptors(image_id)) {
      // Learned extractors (SCFeat): unit float rows, used as they are.
      entry.descriptors = DescriptorsToTensor(db_->ReadFloatDescriptors(image_id), device_);
    } else if (level == kDatabaseLevel) {
      entry.descriptors = DescriptorsToTensor(db_->ReadDescriptors(image_id), device_);
    } else {
      FeatureLevel l = db_->ReadFeatureLevel(image_id, level);
      entry.descriptors = DescriptorsToTensor(l.descriptors, device_);
      entry.index = std::move(l.keypoint_index);
    }
    return entry;
  }

 private:
  const Database* db_;
  torch::Device device_;
  size_t capacity_;
  std::unordered_map<uint64_t, LevelDescriptors> cache_;
  std::deque<uint64_t> order_;
};

}  // namespace scalesfm
