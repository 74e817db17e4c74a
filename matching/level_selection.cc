#include "matching/level_selection.h"

#include <cmath>

#include "util/logging.h"

namespace scalesfm {

LevelChoice SelectLevelPair(double scale, const std::vector<double>& levels_a,
                            const std::vector<double>& levels_b) {
  if (levels_a.empty() || levels_b.empty()) throw Error("SelectLevelPair: an image has no levels");
  if (!(scale > 0) || !std::isfinite(scale)) {
    throw Error(StringPrintf("SelectLevelPair: invalid scale %g", scale));
  }
  const double log2_s = std::log2(scale);
  // Residuals within this many octaves count as equally near: levels are 0.5 octave apart, so
  // a smaller tolerance would let floating-point noise decide between equivalent pairs.
  constexpr double kTie = 0.05;
  LevelChoice best;
  double best_residual = 1e30, best_balance = 1e30;
  for (size_t i = 0; i < levels_a.size(); ++i) {
    for (size_t j = 0; j < levels_b.size(); ++j) {
      const double la = std::log2(levels_a[i]), lb = std::log2(levels_b[j]);
      const double residual = log2_s + lb - la;
      const double balance = std::abs(la + lb);
      const bool nearer = std::abs(residual) < best_residual - kTie;
      const bool tie = std::abs(std::abs(residual) - best_residual) <= kTie;
      if (nearer || (tie && balance < best_balance - 1e-9)) {
        best_residual = std::abs(residual);
        best_balance = balance;
        best.level_a = static_cast<int>(i);
        best.level_b = static_cast<int>(j);
        best.residual_log2 = residual;
      }
    }
  }
  return best;
}

int NativeLevel(const std::vector<double>& levels) {
  if (levels.empty()) throw Error("NativeLevel: no levels");
  int best = 0;
  for (size_t i = 1; i < levels.size(); ++i) {
    if (std::abs(std::log(levels[i])) < std::abs(std::log(levels[best]))) best = int(i);
  }
  return best;
}

}  // namespace scalesfm
