// The base of matchers that find new points in the images (S2DNet, DualRC-Net): each image's
// keypoint list grows through a KeypointSnapper (so the same physical point found from several
// partners becomes one keypoint and COLMAP builds one track), and WriteStaged commits the grown
// lists with zero descriptor rows for the new keypoints, before the matches that use them.
#pragma once

#include <string>
#include <unordered_map>

#include "matching/keypoint_snapper.h"
#include "matching/pair_matcher.h"

namespace scalesfm {

class KeypointCreatingMatcher : public PairMatcher {
 public:
  KeypointCreatingMatcher(const MatcherContext& context, double snap_radius)
      : context_(context), snap_radius_(snap_radius) {}

  void WriteStaged(Database* db) override;
  std::string BatchNote() override;
  std::string FinalNote() override;

 protected:
  // The image's keypoint list as it grows (read from the database on first use). Call
  // BeginPair(a, b) before growing the lists of a pair.
  KeypointSnapper& Snapper(image_t id);
  void BeginPair(image_t a, image_t b);
  // Keypoints of the image that came from the detector (the rest were appended by a matcher).
  size_t NumDetected(image_t id) const { return num_detected_.at(id); }
  const MatcherContext& context() const { return context_; }

 private:
  MatcherContext context_;
  double snap_radius_;
  std::unordered_map<image_t, KeypointSnapper> snappers_;
  std::unordered_map<image_t, size_t> num_detected_;
  std::unordered_map<image_t, size_t> size_before_;  // keypoints at the batch start
  size_t total_appended_ = 0;
};

}  // namespace scalesfm
