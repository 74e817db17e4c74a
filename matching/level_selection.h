// SDAIM level selection (Scale-Net paper, sec. III-B) over precomputed levels (D-ScaleNet).
//
// With s = s(A->B) (A's content appears s times larger in B), resizing A by f_A and B by f_B
// leaves a scale change of s * f_B / f_A. SDAIM resizes both images halfway, f_A = s^0.5 and
// f_B = s^-0.5. With discrete levels we pick the pair whose ratio f_A / f_B is nearest s and,
// among equally near pairs, the one nearest the halfway split (log2 f_A + log2 f_B = 0).
#pragma once

#include <utility>
#include <vector>

namespace scalesfm {

struct LevelChoice {
  int level_a = 0;  // index into levels_a
  int level_b = 0;
  double residual_log2 = 0;  // log2(s * f_B / f_A) left after resizing
};

// `levels_a`, `levels_b`: the factors of each image's levels. Both must be non-empty.
LevelChoice SelectLevelPair(double scale, const std::vector<double>& levels_a,
                            const std::vector<double>& levels_b);

// The level nearest the original resolution (|log f| smallest): the one stock matching uses.
int NativeLevel(const std::vector<double>& levels);

}  // namespace scalesfm
