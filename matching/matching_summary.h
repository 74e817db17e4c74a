// What a matcher command did, stage by stage.
#pragma once

#include <cstddef>

namespace scalesfm {

struct MatchingSummary {
  size_t num_pairs = 0;
  size_t num_matched = 0;       // newly matched in this run
  size_t num_already_done = 0;  // raw matches already present
  size_t num_verified = 0;      // pairs with a two-view geometry after verification
  size_t num_guided = 0;        // verified pairs extended by guided matching in this run
  double matching_seconds = 0;
  double verification_seconds = 0;
  double guided_seconds = 0;
};

}  // namespace scalesfm
