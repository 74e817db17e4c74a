#include "feature/scale_levels.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "util/logging.h"

namespace scalesfm {

std::vector<double> ParseLevelSpec(const std::string& spec) {
  std::vector<double> factors;
  if (spec == "auto") {
    for (int k = kAutoMinLevelStep; k <= kAutoMaxLevelStep; ++k) {
      factors.push_back(std::pow(std::sqrt(2.0), k));
    }
  } else {
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ',')) {
      size_t used = 0;
      double f = 0;
      try {
        f = std::stod(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != item.size() || !(f > 0) || !std::isfinite(f)) {
        throw Error("--Extraction.levels: '" + item +
                    "' is not a positive factor (use 'auto', '1' or e.g. '1,0.5,0.25')");
      }
      factors.push_back(f);
    }
  }
  if (factors.empty()) throw Error("--Extraction.levels is empty (use 'auto' or '1')");
  std::sort(factors.begin(), factors.end(), std::greater<double>());
  factors.erase(std::unique(factors.begin(), factors.end(),
                            [](double a, double b) { return std::abs(a - b) < 1e-6 * a; }),
                factors.end());
  return factors;
}

std::vector<double> LevelsForImage(const std::vector<double>& factors, int width, int height,
                                   int max_image_size, int min_image_size) {
  const int longest = std::max(width, height), shortest = std::min(width, height);
  std::vector<double> out;
  for (double f : factors) {
    if (f * longest > max_image_size * (1 + 1e-9)) continue;
    if (f * shortest < min_image_size && f < 1) continue;
    out.push_back(f);
  }
  if (out.empty()) out.push_back(std::min(1.0, double(max_image_size) / longest));
  return out;
}

}  // namespace scalesfm
