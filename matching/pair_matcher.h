// The matcher interface. A PairMatcher turns one image pair (with its scale estimate) into raw
// matches between the two images' keypoint lists; the matching controller
// (matching/matching_controller.h) does everything around it. Matchers register by name in one
// table (pair_matcher.cc) that maps 1:1 to --Matching.type, each with traits that tell the
// controller what it needs and does, as COLMAP's FeatureMatcher caches per-image work by image id
// and hloc tells sparse matchers from keypoint-creating (dense) ones.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "colmap_ext/database.h"
#include "matching/level_matcher.h"
#include "matching/matching_options.h"

namespace scalesfm {

struct MatcherTraits {
  // Reads the image files (dense maps): the command needs --image_path.
  bool needs_images = false;
  // Needs descriptors for every image it matches (else keypoints are enough).
  bool needs_descriptors = true;
  // Appends keypoints to the images' lists while it matches.
  bool creates_keypoints = false;
  // Every keypoint it leaves has a descriptor, so guided matching can run after verification.
  bool allows_guided = true;
  // Shards of the pairs can be matched apart and merged with database_merger (a matcher that
  // appends keypoints cannot: two shards would number new keypoints differently).
  bool shardable = true;
};

// One pair as the controller hands it to the matcher.
struct PairTask {
  image_t a = 0, b = 0;
  // s(A->B) of the scale estimator (1 with "none").
  double scale = 1.0;
  // |log2 s| >= --ScaleMatching.min_log2_scale: match where SDAIM puts the two images (A at
  // s^0.5, B at s^-0.5) instead of at their native resolution.
  bool rescale = false;
  // The pair's native-level descriptor matches in keypoint-list indices, computed on the first
  // call and shared with the scale estimate that may have needed them already.
  std::function<const Matches&()> native;
};

// What a matcher is created with; all pointers outlive the matcher.
struct MatcherContext {
  Database* db = nullptr;
  const std::vector<Image>* images = nullptr;
  const MatchingConfig* config = nullptr;
  LevelMatcher* levels = nullptr;  // descriptor matching at any stored level
  torch::Device device = torch::kCPU;
};

class PairMatcher {
 public:
  virtual ~PairMatcher() = default;
  // Raw matches of one pair, in the images' keypoint-list indices. Reads the database but does
  // not write it; keypoints it creates are staged until WriteStaged.
  virtual Matches Match(const PairTask& task) = 0;
  // Writes what Match staged since the last call (new keypoints and their descriptor rows),
  // inside the controller's transaction and before that batch's matches.
  virtual void WriteStaged(Database* /*db*/) {}
  // A few words for the progress line and the end of the log, e.g. "3 rescaled".
  virtual std::string BatchNote() { return ""; }
  virtual std::string FinalNote() { return ""; }
};

using PairMatcherFactory = std::function<std::unique_ptr<PairMatcher>(const MatcherContext&)>;

struct PairMatcherEntry {
  MatcherTraits traits;
  PairMatcherFactory create;
  std::string description;  // for --help
};

// The entry registered as `name`; throws Error listing the known names.
const PairMatcherEntry& FindPairMatcher(const std::string& name);
std::vector<std::string> PairMatcherNames();

}  // namespace scalesfm
