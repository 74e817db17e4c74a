// Small random draws shared by the synthetic training-pair generators.
#pragma once

#include <random>

namespace scalesfm {

// A uniform real draw in [lo, hi).
inline double Uniform(std::mt19937* rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(*rng);
}

}  // namespace scalesfm
