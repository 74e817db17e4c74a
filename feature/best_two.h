// The best and second-best similarity of every row and of every column of a similarity block,
// and the best's index, in one sweep over the block (CPU). The NN matcher's mutual
// nearest-neighbour test needs exactly these; torch's max/scatter ops found them in four passes
// plus three scatters, which took longer than the matrix product itself.
//
// Semantics, for rows and columns alike: `best` is the largest value, `index` its first position
// (torch's max), `second` the largest of the others, so a tie gives second == best.
#pragma once

#include <cstdint>
#include <vector>

namespace scalesfm {

// One entry's running statistics, for values offered one at a time (the guided pass's sparse
// candidates). BestTwo and SweepBlock apply the same rule to whole rows and columns at once.
struct BestTwoEntry {
  float best = -3.0f, second = -3.0f;
  int64_t index = -1;  // -1: nothing offered yet

  void Offer(float value, int64_t i) {
    if (value > best) {  // strictly: an equal later value is a tie, i.e. a second best
      second = best;
      best = value;
      index = i;
    } else if (value > second) {
      second = value;
    }
  }
};

struct BestTwo {
  std::vector<float> best, second;
  std::vector<int64_t> index;

  // `n` entries, each with nothing offered yet (best = second = -3, below any cosine).
  explicit BestTwo(int64_t n = 0) : best(n, -3.0f), second(n, -3.0f), index(n, 0) {}

  // Column statistics: `later` was taken over rows that come after this one's (all of them
  // larger indices), so on a tie the earlier best keeps its index.
  void MergeLater(const BestTwo& later);
};

struct BlockBestTwo {
  BestTwo rows, columns;  // columns: over this block's rows, row indices offset by `first_row`
};

// The statistics of a row-major [rows, cols] block whose first row is row `first_row` of the
// whole product. Runs on LibTorch's intra-op threads; the result does not depend on their number.
BlockBestTwo SweepBlock(const float* block, int64_t rows, int64_t cols, int64_t first_row);

}  // namespace scalesfm
