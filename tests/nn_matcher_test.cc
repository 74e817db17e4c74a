#include <gtest/gtest.h>

#include <cmath>
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

// The one-product matcher gives the two-product matcher's matches exactly: for SIFT-like
// quantised descriptors (d / 512 of uint8 rows, where equal cosines are common), with and
// without the ratio test, for blocks that split the rows anywhere.
TEST(NnMatcher, OneProductEqualsTwoProducts) {
  torch::manual_seed(11);
  const auto quantised = [](const torch::Tensor& x) {
    const torch::Tensor u = (x / x.norm(2, 1, true) * 512).round().clamp(0, 255);
    return u / 512.0;
  };
  const torch::Tensor base = torch::randn({900, 128}).abs();
  const torch::Tensor d1 = quantised(base);
  // Half of d2 are noisy copies of d1 rows (true matches), half are unrelated; some rows twice.
  torch::Tensor d2 = torch::cat({base.slice(0, 0, 450) + 0.15 * torch::randn({450, 128}).abs(),
                                 torch::randn({430, 128}).abs(), base.slice(0, 0, 20)});
  d2 = quantised(d2);
  NnMatchOptions ratio, mutual;
  mutual.max_ratio = 1.0;
  mutual.max_distance = M_PI;
  size_t compared = 0;
  for (NnMatchOptions options : {ratio, mutual}) {
    for (const int64_t block_rows : {int64_t{2048}, int64_t{128}, int64_t{7}, int64_t{1}}) {
      options.block_rows = block_rows;
      for (const bool swap : {false, true}) {
        const torch::Tensor& a = swap ? d2 : d1;
        const torch::Tensor& b = swap ? d1 : d2;
        const Matches one = MatchNearestNeighbors(a, b, options);
        const Matches two = MatchNearestNeighborsTwoProducts(a, b, options);
        ASSERT_EQ(one.size(), two.size()) << block_rows << " " << swap;
        ASSERT_GT(one.size(), 100u);
        for (size_t i = 0; i < one.size(); ++i) {
          EXPECT_EQ(one[i].idx1, two[i].idx1);
          EXPECT_EQ(one[i].idx2, two[i].idx2);
        }
        compared += one.size();
      }
    }
  }
  EXPECT_GT(compared, 1000u);
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
