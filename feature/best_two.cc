#include "feature/best_two.h"

#include <ATen/Parallel.h>

#include <algorithm>

namespace scalesfm {
namespace {

// Offers row `r` (values[c] for every column c) to the column statistics.
void OfferRow(const float* values, int64_t cols, int64_t r, float* best, float* second,
              int64_t* index) {
  for (int64_t c = 0; c < cols; ++c) {
    const float v = values[c];
    const bool better = v > best[c];  // strictly: an equal later row is a tie, not a new best
    second[c] = better ? best[c] : std::max(second[c], v);
    index[c] = better ? r : index[c];
    best[c] = better ? v : best[c];
  }
}

// The row's best, its first column and the largest of the other columns.
void RowBestTwo(const float* values, int64_t cols, float* best, float* second, int64_t* index) {
  const float* top = std::max_element(values, values + cols);  // the first largest
  const int64_t i = top - values;
  float s = -3.0f;
  for (int64_t c = 0; c < i; ++c) s = std::max(s, values[c]);
  for (int64_t c = i + 1; c < cols; ++c) s = std::max(s, values[c]);
  *best = *top;
  *second = s;
  *index = i;
}

}  // namespace

void BestTwo::MergeLater(const BestTwo& later) {
  for (size_t c = 0; c < best.size(); ++c) {
    if (later.best[c] > best[c]) {
      second[c] = std::max(best[c], later.second[c]);
      best[c] = later.best[c];
      index[c] = later.index[c];
    } else {
      second[c] = std::max(second[c], later.best[c]);
    }
  }
}

BlockBestTwo SweepBlock(const float* block, int64_t rows, int64_t cols, int64_t first_row) {
  BlockBestTwo out{BestTwo(rows), BestTwo(cols)};
  // Contiguous runs of rows, one per thread, each with its own column statistics, merged in row
  // order afterwards: the same result for any number of threads.
  const int64_t num_runs = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), rows));
  std::vector<BestTwo> runs(num_runs);
  at::parallel_for(0, num_runs, 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const int64_t r0 = rows * k / num_runs, r1 = rows * (k + 1) / num_runs;
      BestTwo columns(cols);
      for (int64_t r = r0; r < r1; ++r) {
        const float* values = block + r * cols;
        RowBestTwo(values, cols, &out.rows.best[r], &out.rows.second[r], &out.rows.index[r]);
        OfferRow(values, cols, first_row + r, columns.best.data(), columns.second.data(),
                 columns.index.data());
      }
      runs[k] = std::move(columns);
    }
  });
  out.columns = std::move(runs[0]);
  for (int64_t k = 1; k < num_runs; ++k) out.columns.MergeLater(runs[k]);
  return out;
}

}  // namespace scalesfm
