#include "feature/best_two.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <random>

namespace scalesfm {
namespace {

// Brute force, by the definition: the first largest value, and the largest of the others.
void Expect(const std::vector<float>& v, float best, float second, int64_t index) {
  const int64_t i = std::max_element(v.begin(), v.end()) - v.begin();
  float s = -3.0f;
  for (size_t k = 0; k < v.size(); ++k) {
    if (int64_t(k) != i) s = std::max(s, v[k]);
  }
  EXPECT_EQ(index, i);
  EXPECT_EQ(best, v[i]);
  EXPECT_EQ(second, s);
}

TEST(BestTwo, OneSweepGivesEveryRowsAndColumnsBestTwoWithTies) {
  std::mt19937 rng(5);
  // Values on a coarse grid, so ties within rows and columns are common.
  std::uniform_int_distribution<int> level(0, 12);
  for (const int threads : {1, 2, 3}) {
    at::set_num_threads(threads);
    for (const auto& [rows, cols] :
         std::vector<std::pair<int64_t, int64_t>>{{1, 5}, {2, 2}, {7, 3}, {40, 33}, {129, 64}}) {
      std::vector<float> block(rows * cols);
      for (float& x : block) x = level(rng) / 12.0f;
      const BlockBestTwo s = SweepBlock(block.data(), rows, cols, /*first_row=*/100);
      for (int64_t r = 0; r < rows; ++r) {
        const std::vector<float> row(block.begin() + r * cols, block.begin() + (r + 1) * cols);
        Expect(row, s.rows.best[r], s.rows.second[r], s.rows.index[r]);
      }
      for (int64_t c = 0; c < cols; ++c) {
        std::vector<float> column(rows);
        for (int64_t r = 0; r < rows; ++r) column[r] = block[r * cols + c];
        Expect(column, s.columns.best[c], s.columns.second[c], s.columns.index[c] - 100);
      }
    }
  }
  at::set_num_threads(1);
}

TEST(BestTwo, MergingBlocksInRowOrderEqualsOneBlock) {
  std::mt19937 rng(9);
  std::uniform_int_distribution<int> level(0, 6);
  const int64_t rows = 50, cols = 20;
  std::vector<float> block(rows * cols);
  for (float& x : block) x = level(rng) / 6.0f;
  const BlockBestTwo whole = SweepBlock(block.data(), rows, cols, 0);
  BestTwo merged(cols);
  for (const int64_t start : {int64_t{0}, int64_t{17}, int64_t{18}, int64_t{41}}) {
    const int64_t end = start == 41 ? rows : (start == 0 ? 17 : (start == 17 ? 18 : 41));
    merged.MergeLater(SweepBlock(block.data() + start * cols, end - start, cols, start).columns);
  }
  EXPECT_EQ(merged.best, whole.columns.best);
  EXPECT_EQ(merged.second, whole.columns.second);
  EXPECT_EQ(merged.index, whole.columns.index);
}

}  // namespace
}  // namespace scalesfm
