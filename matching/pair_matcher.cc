#include "matching/pair_matcher.h"

#include <map>

#include "matching/dualrc_matcher.h"
#include "matching/nn_matcher.h"
#include "matching/s2dnet_matcher.h"
#include "util/registry.h"

namespace scalesfm {
namespace {

// The one table of matchers. Adding a matcher adds one file and one entry here.
const std::map<std::string, PairMatcherEntry>& Registry() {
  static const std::map<std::string, PairMatcherEntry> registry = {
      {"nn",
       {MatcherTraits{/*needs_images=*/false, /*needs_descriptors=*/true,
                      /*creates_keypoints=*/false, /*allows_guided=*/true, /*shardable=*/true},
        CreateNnMatcher, "descriptor nearest neighbours (SIFT, SCFeat)"}},
      {"s2dnet",
       {MatcherTraits{/*needs_images=*/true, /*needs_descriptors=*/false,
                      /*creates_keypoints=*/true, /*allows_guided=*/false, /*shardable=*/false},
        CreateS2DNetMatcher, "S2DNet sparse-to-dense matching"}},
      {"dualrc",
       {MatcherTraits{/*needs_images=*/true, /*needs_descriptors=*/false,
                      /*creates_keypoints=*/true, /*allows_guided=*/false, /*shardable=*/false},
        CreateDualRcMatcher, "DualRC-Net dense matching (coarse 4D NC, fine-map matches)"}},
  };
  return registry;
}

}  // namespace

const PairMatcherEntry& FindPairMatcher(const std::string& name) {
  return FindRegistered(Registry(), name, "Matching.type");
}

std::vector<std::string> PairMatcherNames() { return RegisteredNames(Registry()); }

}  // namespace scalesfm
