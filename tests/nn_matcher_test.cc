#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "feature/descriptor_matching.h"

namespace scalesfm {
namespace {

torch::Tensor RandomUnitRows(int64_t n, int64_t d, uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor x = torch::randn({n, d}).abs();
  return x / x.norm(2, 1, true);
}

TEST(NnMatcher, RecoversAPermutation) {
  const torch::Tensor d1 = RandomUnitRows(300, 128, 1);
  std::vector<int64_t> perm(300);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(3));
  const torch::Tensor idx = torch::tensor(perm);
  // d2[j] = d1[perm[j]] + small noise
  torch::Tensor d2 = d1.index_select(0, idx) + 0.01 * torch::randn({300, 128});
  d2 = d2 / d2.norm(2, 1, true);
  const Matches matches = MatchNearestNeighbors(d1, d2, {});
  ASSERT_GT(matches.size(), 290u);
  for (const Match& m : matches) EXPECT_EQ(perm[m.idx2], m.idx1);
}

TEST(NnMatcher, RatioTestRejectsAmbiguousMatches) {
  torch::Tensor d1 = RandomUnitRows(50, 128, 4);
  // d2 holds two equally noisy copies of each d1 row: every best match has a near-equal second.
  torch::Tensor d2 =
      torch::cat({d1 + 0.02 * torch::randn({50, 128}), d1 + 0.02 * torch::randn({50, 128})});
  d2 = d2 / d2.norm(2, 1, true);
  EXPECT_TRUE(MatchNearestNeighbors(d1, d2, {}).empty());
  NnMatchOptions no_ratio;
  no_ratio.max_ratio = 1.0;
  no_ratio.cross_check = false;
  EXPECT_EQ(MatchNearestNeighbors(d1, d2, no_ratio).size(), 50u);
}

TEST(NnMatcher, BlockwiseEqualsSingleBlock) {
  const torch::Tensor d1 = RandomUnitRows(517, 64, 5);
  torch::Tensor d2 = d1.slice(0, 0, 400) + 0.2 * RandomUnitRows(400, 64, 6);
  d2 = d2 / d2.norm(2, 1, true);
  NnMatchOptions one_block, small_blocks;
  one_block.block_rows = 100000;
  small_blocks.block_rows = 37;
  const Matches a = MatchNearestNeighbors(d1, d2, one_block);
  const Matches b = MatchNearestNeighbors(d1, d2, small_blocks);
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GT(a.size(), 100u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].idx1, b[i].idx1);
    EXPECT_EQ(a[i].idx2, b[i].idx2);
  }
}

TEST(NnMatcher, MutualCheckKeepsOnlyMutualBest) {
  // Two rows of d1 both closest to the same row of d2: at most one survives the cross-check.
  torch::Tensor d2 = torch::eye(4, 8);
  torch::Tensor d1 = torch::zeros({2, 8});
  d1.index_put_({0, 0}, 1.0);
  d1.index_put_({1, 0}, 0.9);
  d1.index_put_({1, 5}, 0.43);
  d1 = d1 / d1.norm(2, 1, true);
  NnMatchOptions options;
  options.max_ratio = 1.0;
  options.max_distance = 3.2;
  const Matches m = MatchNearestNeighbors(d1, d2, options);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].idx1, 0u);
  EXPECT_EQ(m[0].idx2, 0u);
}

TEST(NnMatcher, DescriptorsToTensorScalesBy512) {
  DescriptorsU8 d(1, 4);
  d << 0, 128, 255, 64;
  const torch::Tensor t = DescriptorsToTensor(d, torch::kCPU);
  EXPECT_FLOAT_EQ(t[0][1].item<float>(), 0.25f);
  EXPECT_EQ(DescriptorsToTensor(DescriptorsU8(0, 128), torch::kCPU).size(0), 0);
}

}  // namespace
}  // namespace scalesfm
