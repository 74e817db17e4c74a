// --Matching.type nn: mutual nearest neighbours of descriptors (SIFT, SCFeat). A rescaled pair is
// matched at the stored levels SDAIM selects (D-ScaleNet's way), or, with
// --ScaleMatching.reextract, on both images resized by exactly s^0.5 / s^-0.5 and extracted again
// (ScaleNet's way; the new keypoints join the images' lists). With --ScaleMatching.keep_native
// the native-level matches are kept as well.
#pragma once

#include <memory>

#include "matching/pair_matcher.h"

namespace scalesfm {

std::unique_ptr<PairMatcher> CreateNnMatcher(const MatcherContext& context);

}  // namespace scalesfm
