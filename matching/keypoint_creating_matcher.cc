#include "matching/keypoint_creating_matcher.h"

#include "util/logging.h"

namespace scalesfm {

namespace {

template <typename Descriptors>
Descriptors ZeroGrown(const Descriptors& d, Eigen::Index rows) {
  Descriptors grown = Descriptors::Zero(rows, d.cols());
  grown.topRows(d.rows()) = d;
  return grown;
}

}  // namespace

KeypointSnapper& KeypointCreatingMatcher::Snapper(image_t id) {
  auto it = snappers_.find(id);
  if (it != snappers_.end()) return it->second;
  Keypoints k = context_.db->ReadKeypoints(id);
  num_detected_[id] = context_.db->ReadNumDetectedKeypoints(id).value_or(k.size());
  return snappers_.emplace(id, KeypointSnapper(std::move(k), snap_radius_)).first->second;
}

void KeypointCreatingMatcher::BeginPair(image_t a, image_t b) {
  size_before_.emplace(a, Snapper(a).keypoints().size());
  size_before_.emplace(b, Snapper(b).keypoints().size());
}

// New keypoints are committed with the matches that made them; descriptor rows stay aligned
// with keypoints (appended keypoints get zero rows).
void KeypointCreatingMatcher::WriteStaged(Database* db) {
  for (const auto& [id, before] : size_before_) {
    const KeypointSnapper& s = snappers_.at(id);
    if (s.keypoints().size() == before) continue;
    total_appended_ += s.keypoints().size() - before;
    if (!db->ReadNumDetectedKeypoints(id)) {
      db->WriteNumDetectedKeypoints(id, num_detected_.at(id));
    }
    db->WriteKeypoints(id, s.keypoints());
    const auto rows = static_cast<Eigen::Index>(s.keypoints().size());
    db->WriteDescriptors(id, ZeroGrown(db->ReadDescriptors(id), rows));
    if (db->ExistsFloatDescriptors(id)) {
      db->WriteFloatDescriptors(id, ZeroGrown(db->ReadFloatDescriptors(id), rows));
    }
  }
  size_before_.clear();
}

std::string KeypointCreatingMatcher::BatchNote() {
  return StringPrintf("%zu keypoints added", total_appended_);
}

std::string KeypointCreatingMatcher::FinalNote() {
  return StringPrintf("%zu keypoints added to the images' lists", total_appended_);
}

}  // namespace scalesfm
