// DualRC-Net: network shapes and the official names, the 4D convolution against a direct sum,
// the symmetry of the NC module, soft mutual nearest-neighbour filtering on a hand-made tensor,
// dense matching of shifted maps and of a shifted image pair, shared keypoint ids across
// partners (tracks), the GT score maps and one training step of eqs. 4-6, and clear errors for
// bad weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "colmap_ext/database.h"
#include "matching/dualrc_matcher.h"
#include "matching/dualrc_matching.h"
#include "matching/dualrc_model.h"
#include "matching/matching_controller.h"
#include "tests/test_util.h"
#include "training/dualrc_trainer.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace fs = std::filesystem;

namespace scalesfm {
namespace {
namespace F = torch::nn::functional;

torch::Tensor Transposed(const torch::Tensor& corr) { return corr.permute({0, 1, 4, 5, 2, 3}); }

TEST(DualRcModel, CompactShapesFollowFigure2) {
  torch::manual_seed(0);
  DualRcNet model(DualRcNetConfig::Compact());
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor a = torch::rand({1, 1, 128, 160}), b = torch::rand({1, 1, 96, 112});
  const std::vector<torch::Tensor> maps = model->Features(a);
  EXPECT_EQ(maps[0].sizes(), (std::vector<int64_t>{1, 64, 32, 40}));  // fine, 1/4
  EXPECT_EQ(maps[1].sizes(), (std::vector<int64_t>{1, 64, 8, 10}));   // coarse, 1/16
  // Unit length along the channels.
  EXPECT_NEAR(maps[0].pow(2).sum(1).mean().item<double>(), 1.0, 1e-3);
  const DualRcOutput out = model->forward(a, b);
  EXPECT_EQ(out.corr4d.sizes(), (std::vector<int64_t>{1, 1, 8, 10, 6, 7}));
  EXPECT_EQ(out.fine_b.sizes(), (std::vector<int64_t>{1, 64, 24, 28}));
  EXPECT_GE(out.corr4d.min().item<double>(), 0.0);  // ReLU after the NC layers
}

TEST(DualRcModel, PaperConfigHasTheOfficialNamesAndWidths) {
  DualRcNet model(DualRcNetConfig::Paper());
  const auto params = model->named_parameters(true);
  const auto buffers = model->named_buffers(true);
  auto shape = [&](const std::string& name) {
    const torch::Tensor* t = params.find(name);
    if (t == nullptr) t = buffers.find(name);
    return t == nullptr ? std::vector<int64_t>{} : t->sizes().vec();
  };
  EXPECT_EQ(shape("FeatureExtraction.extractor_list.0.0.weight"),
            (std::vector<int64_t>{64, 3, 7, 7}));
  EXPECT_EQ(shape("FeatureExtraction.extractor_list.0.4.0.downsample.0.weight"),
            (std::vector<int64_t>{256, 64, 1, 1}));
  EXPECT_EQ(shape("FeatureExtraction.extractor_list.2.0.22.conv3.weight"),
            (std::vector<int64_t>{1024, 256, 1, 1}));
  EXPECT_EQ(shape("FeatureExtraction.extractor_list.1.0.3.bn2.running_var"),
            (std::vector<int64_t>{128}));
  EXPECT_EQ(shape("FeatureExtraction.inner_block_list.0.weight"),
            (std::vector<int64_t>{1024, 512, 1, 1}));
  EXPECT_EQ(shape("FeatureExtraction.inner_block_list.1.weight"),
            (std::vector<int64_t>{1024, 256, 1, 1}));
  EXPECT_EQ(shape("FeatureExtraction.last_layer_block.weight"),
            (std::vector<int64_t>{1024, 1024, 3, 3}));
  EXPECT_EQ(shape("NeighConsensus.conv.0.weight"), (std::vector<int64_t>{3, 16, 1, 3, 3, 3}));
  EXPECT_EQ(shape("NeighConsensus.conv.2.weight"), (std::vector<int64_t>{3, 1, 16, 3, 3, 3}));
  EXPECT_EQ(shape("NeighConsensus.conv.2.bias"), (std::vector<int64_t>{1}));
  // The backbone is fixed, as in the official training.
  for (const auto& p : params) {
    const bool backbone = p.key().rfind("FeatureExtraction.extractor_list.", 0) == 0;
    EXPECT_EQ(p.value().requires_grad(), !backbone) << p.key();
  }
}

TEST(Conv4d, EqualsTheDirectSum) {
  torch::manual_seed(2);
  Conv4d conv(2, 3, 3);
  const torch::Tensor x = torch::randn({1, 2, 4, 3, 5, 4});
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = conv->forward(x);
  }
  ASSERT_EQ(y.sizes(), (std::vector<int64_t>{1, 3, 4, 3, 5, 4}));
  const auto w = conv->weight.accessor<float, 6>();  // [k, out, in, k, k, k]
  const auto in = x.accessor<float, 6>();
  const auto out = y.accessor<float, 6>();
  double worst = 0;
  for (int o = 0; o < 3; ++o) {
    for (int i = 0; i < 4; ++i) {
      for (int j = 0; j < 3; ++j) {
        for (int k = 0; k < 5; ++k) {
          for (int l = 0; l < 4; ++l) {
            double sum = conv->bias[o].item<double>();
            for (int c = 0; c < 2; ++c) {
              for (int p = 0; p < 3; ++p) {
                for (int q = 0; q < 3; ++q) {
                  for (int r = 0; r < 3; ++r) {
                    for (int s = 0; s < 3; ++s) {
                      const int ii = i + p - 1, jj = j + q - 1, kk = k + r - 1, ll = l + s - 1;
                      if (ii < 0 || ii >= 4 || jj < 0 || jj >= 3 || kk < 0 || kk >= 5 || ll < 0 ||
                          ll >= 4) {
                        continue;
                      }
                      sum += w[p][o][c][q][r][s] * in[0][c][ii][jj][kk][ll];
                    }
                  }
                }
              }
            }
            worst = std::max(worst, std::abs(sum - out[0][o][i][j][k][l]));
          }
        }
      }
    }
  }
  EXPECT_LT(worst, 1e-5);
}

TEST(NeighConsensus, IsSymmetricInAAndB) {
  torch::manual_seed(4);
  NeighConsensus nc(std::vector<int>{3, 3}, std::vector<int>{8, 1});
  torch::NoGradGuard no_grad;
  const torch::Tensor c = torch::rand({2, 1, 4, 5, 3, 6});
  const torch::Tensor y = nc->forward(c);
  EXPECT_EQ(y.sizes(), c.sizes());
  EXPECT_TRUE(torch::allclose(nc->forward(Transposed(c)), Transposed(y), 1e-5, 1e-6));
  // The correlation and M(.) commute with the A <-> B swap too.
  const torch::Tensor fa = FeatureL2Norm(torch::randn({1, 4, 3, 2}));
  const torch::Tensor fb = FeatureL2Norm(torch::randn({1, 4, 2, 5}));
  EXPECT_TRUE(torch::allclose(Correlation4d(fb, fa), Transposed(Correlation4d(fa, fb))));
  EXPECT_TRUE(
      torch::allclose(MutualMatching(Transposed(c)), Transposed(MutualMatching(c)), 1e-6, 1e-7));
  EXPECT_THROW(NeighConsensus(std::vector<int>{3}, std::vector<int>{4}), Error);
  EXPECT_THROW(Conv4d(1, 1, 2), Error);
}

TEST(MutualMatching, HandMadeTensor) {
  // A has cells a0, a1 and B has b0, b1 (1 x 2 grids); C(a, b):
  //        b0   b1
  //   a0  0.8  0.4
  //   a1  0.2  0.6
  // M(C)_ab = C_ab * (C_ab / max_b' C_ab') * (C_ab / max_a' C_a'b).
  const torch::Tensor c = torch::tensor({0.8f, 0.4f, 0.2f, 0.6f}).reshape({1, 1, 1, 2, 1, 2});
  const torch::Tensor m = MutualMatching(c).reshape({2, 2});
  EXPECT_NEAR(m[0][0].item<double>(), 0.8, 1e-4);  // mutual best
  EXPECT_NEAR(m[0][1].item<double>(), 0.4 * (0.4 / 0.8) * (0.4 / 0.6), 1e-4);
  EXPECT_NEAR(m[1][0].item<double>(), 0.2 * (0.2 / 0.6) * (0.2 / 0.8), 1e-4);
  EXPECT_NEAR(m[1][1].item<double>(), 0.6, 1e-4);  // mutual best
}

// Fine maps of a window of a smooth random field and the coarse maps as their 4x4 averages, so
// a shifted window gives shifted maps.
std::vector<torch::Tensor> FieldMaps(const torch::Tensor& field, int x0, int y0, int w, int h) {
  const torch::Tensor fine = field.slice(2, y0, y0 + h).slice(3, x0, x0 + w).contiguous();
  return {FeatureL2Norm(fine), FeatureL2Norm(F::avg_pool2d(fine, F::AvgPool2dFuncOptions(4)))};
}

TEST(DenseMatching, ShiftedMapsGiveTheShift) {
  torch::manual_seed(3);
  torch::Tensor field = torch::randn({1, 16, 64, 80});
  for (int i = 0; i < 2; ++i) {
    field = F::avg_pool2d(field, F::AvgPool2dFuncOptions(3).stride(1).padding(1));
  }
  // B's window starts 5 cells right and 3 down of A's: a cell (x, y) of A is (x - 5, y - 3).
  const std::vector<torch::Tensor> a = FieldMaps(field, 4, 8, 48, 32);
  const std::vector<torch::Tensor> b = FieldMaps(field, 9, 11, 48, 32);
  const torch::Tensor corr = MutualMatching(Correlation4d(a[1], b[1]))[0][0];
  DenseMatchOptions options;
  options.subpixel = false;
  const std::vector<DenseMatch> matches =
      ExtractDenseMatches(corr, a[0][0], b[0][0], 48, 32, 48, 32, options);
  ASSERT_GT(matches.size(), 300u);
  size_t exact = 0;
  for (const DenseMatch& m : matches) {
    exact += m.xb == m.xa - 5 && m.yb == m.ya - 3;
    EXPECT_LT(m.xb, 48);
    EXPECT_LT(m.yb, 32);
  }
  EXPECT_GT(exact, matches.size() * 9 / 10);
  for (size_t i = 1; i < matches.size(); ++i) EXPECT_GE(matches[i - 1].score, matches[i].score);
  // Cells outside the valid part (padding) are neither queried nor matched.
  for (const DenseMatch& m : ExtractDenseMatches(corr, a[0][0], b[0][0], 40, 32, 30, 20, options)) {
    EXPECT_LT(m.xa + 0.5, 40);
    EXPECT_LT(m.xb + 0.5, 30);
    EXPECT_LT(m.yb + 0.5, 20);
  }
  options.max_num_matches = 10;
  EXPECT_EQ(ExtractDenseMatches(corr, a[0][0], b[0][0], 48, 32, 48, 32, options).size(), 10u);
}

// The shipped model on a pair shifted by (11, 6) and (9, 7) px, not multiples of the 4 px fine
// cells: the median displacement of the matches recovers the shift to 1 px, and nearly every
// match lies within one fine cell of its true position.
TEST(DenseMatching, ShippedModelRecoversAShiftedImagePairToOnePixel) {
  const std::string weights = DefaultWeights("dualrc_compact.pt");
  ASSERT_TRUE(fs::exists(weights)) << weights << " is part of the repository";
  DualRcNet model = LoadDualRcNet(weights);
  const cv::Mat big = test::NoiseTexture(320, 256, 7);
  const cv::Mat a = big(cv::Rect(0, 0, 256, 192)).clone();
  const DualRcMaps ma = ComputeDualRcMaps(model, a, 1.0, torch::kCPU);
  for (const auto& [sx, sy] : std::vector<std::pair<int, int>>{{11, 6}, {9, 7}}) {
    // B shows the scene (sx, sy) px right and down of A: A's (x, y) is B's (x - sx, y - sy).
    const cv::Mat b = big(cv::Rect(sx, sy, 256, 192)).clone();
    const DualRcMaps mb = ComputeDualRcMaps(model, b, 1.0, torch::kCPU);
    const std::vector<DualRcPointMatch> matches =
        MatchDualRc(model, ma, mb, DualRcMatchOptions(), 4096);
    ASSERT_GT(matches.size(), 300u);
    std::vector<double> dx, dy;
    size_t within_cell = 0;
    for (const DualRcPointMatch& m : matches) {
      dx.push_back(m.xa - m.xb);
      dy.push_back(m.ya - m.yb);
      within_cell += std::hypot(dx.back() - sx, dy.back() - sy) <= 4;
    }
    std::nth_element(dx.begin(), dx.begin() + dx.size() / 2, dx.end());
    std::nth_element(dy.begin(), dy.begin() + dy.size() / 2, dy.end());
    EXPECT_NEAR(dx[dx.size() / 2], sx, 1.0);
    EXPECT_NEAR(dy[dy.size() / 2], sy, 1.0);
    EXPECT_GT(within_cell, matches.size() * 9 / 10) << matches.size() << " matches";
  }
}

TEST(DualRcMatcher, OneImageMatchedAgainstTwoPartnersSharesKeypointIds) {
  const std::string weights = DefaultWeights("dualrc_compact.pt");
  ASSERT_TRUE(fs::exists(weights)) << weights << " is part of the repository";
  const std::string dir = test::MakeTempDir("dualrc_tracks");
  fs::create_directories(dir + "/images");
  // Three overlapping crops of one texture, 16 px apart.
  const cv::Mat big = test::NoiseTexture(288, 160, 11);
  for (int i = 0; i < 3; ++i) {
    cv::imwrite(dir + "/images/" + std::to_string(i) + ".png", big(cv::Rect(16 * i, 0, 192, 160)));
  }
  const std::string db_path = dir + "/database.db";
  std::vector<image_t> ids;
  {
    Database db(db_path);
    const camera_t cam = db.WriteCamera(MakeDefaultCamera("PINHOLE", 192, 160, 200, false));
    for (int i = 0; i < 3; ++i) {
      ids.push_back(db.WriteImage({kInvalidImageId, std::to_string(i) + ".png", cam}));
      Keypoints k(5);  // a few detector keypoints, off the fine grid
      for (size_t j = 0; j < k.size(); ++j) {
        k[j].x = 20.3f + 31 * j;
        k[j].y = 40.7f + 17 * j;
      }
      db.WriteKeypoints(ids.back(), k);
      db.WriteDescriptors(ids.back(), DescriptorsU8::Zero(5, 128));
    }
  }
  MatchingConfig config;
  config.matching.type = "dualrc";
  config.matching.device = "cpu";
  config.image_path = dir + "/images";
  config.scale.estimator.estimator = "none";
  const ImagePairs pairs = {{ids[0], ids[1]}, {ids[0], ids[2]}, {ids[1], ids[2]}};
  const MatchingSummary summary = RunRawMatching(db_path, pairs, config);
  EXPECT_EQ(summary.num_matched, 3u);

  Database db(db_path);
  EXPECT_EQ(db.ReadNumDetectedKeypoints(ids[1]).value_or(0), 5u);
  const Keypoints k1 = db.ReadKeypoints(ids[1]);
  EXPECT_GT(k1.size(), 100u);  // matched cells were appended
  EXPECT_EQ(static_cast<size_t>(db.ReadDescriptors(ids[1]).rows()), k1.size());
  // Keypoints of image 1 matched from image 0 and from image 2: the same ids.
  std::set<point2D_t> from0, from2;
  for (const Match& m : db.ReadMatches(ids[0], ids[1])) from0.insert(m.idx2);
  for (const Match& m : db.ReadMatches(ids[2], ids[1])) from2.insert(m.idx2);
  size_t shared = 0;
  for (point2D_t p : from0) shared += from2.count(p);
  EXPECT_GT(shared, 50u) << from0.size() << " and " << from2.size() << " matched";
  // One match per keypoint in every pair.
  for (const auto& [a, b] : pairs) {
    std::set<point2D_t> s1, s2;
    for (const Match& x : db.ReadMatches(a, b)) {
      EXPECT_TRUE(s1.insert(x.idx1).second);
      EXPECT_TRUE(s2.insert(x.idx2).second);
    }
  }
  // A re-run resumes: nothing left to match, nothing appended.
  const MatchingSummary again = RunRawMatching(db_path, pairs, config);
  EXPECT_EQ(again.num_matched, 0u);
  EXPECT_EQ(Database(db_path).ReadKeypoints(ids[1]).size(), k1.size());
}

TEST(DualRcTraining, GroundTruthScoreMapsSplatAndBlur) {
  const torch::Tensor g = GroundTruthScoreMaps(torch::tensor({{3.f, 2.f}, {5.25f, 4.5f}}), 8, 10);
  EXPECT_NEAR(g[0].sum().item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(g[1].sum().item<double>(), 1.0, 1e-5);
  // An integer target: the 3x3 Gaussian around it.
  EXPECT_NEAR(g[0][2][3].item<double>(), 0.25, 1e-5);
  EXPECT_NEAR(g[0][2][4].item<double>(), 0.125, 1e-5);
  EXPECT_NEAR(g[0][3][4].item<double>(), 0.0625, 1e-5);
  // A fractional one: the mass centre is the target.
  const torch::Tensor xs = torch::arange(10, torch::kFloat32),
                      ys = torch::arange(8, torch::kFloat32);
  EXPECT_NEAR((g[1].sum(0) * xs).sum().item<double>(), 5.25, 1e-4);
  EXPECT_NEAR((g[1].sum(1) * ys).sum().item<double>(), 4.5, 1e-4);
}

TEST(DualRcTraining, OneStepLowersTheLoss) {
  torch::manual_seed(1);
  DualRcNet model(DualRcNetConfig::Compact());
  model->train();
  const cv::Mat big = test::NoiseTexture(160, 128, 5);
  const cv::Mat a = big(cv::Rect(0, 0, 128, 96)).clone();
  const cv::Mat b = big(cv::Rect(8, 4, 128, 96)).clone();
  // Fine cells of A and their GT cells in B (8 and 4 px = 2 and 1 cells).
  const torch::Tensor cells = torch::tensor({{10.f, 8.f}, {17.f, 12.f}, {25.f, 15.f}, {5.f, 20.f}});
  const torch::Tensor targets = cells - torch::tensor({2.f, 1.f});
  std::vector<torch::Tensor> trainable;
  for (auto& p : model->parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  torch::optim::Adam optimizer(trainable, torch::optim::AdamOptions(1e-3));
  auto loss_of = [&]() {
    const std::vector<torch::Tensor> fa = model->Features(DualRcNetInput(a, model->config()));
    const std::vector<torch::Tensor> fb = model->Features(DualRcNetInput(b, model->config()));
    const torch::Tensor corr = model->FilterCorrelation(fa[1], fb[1])[0][0];
    const DualRcLossTerms t = DualRcDirectionLoss(corr, fa[0][0], fb[0][0], cells, targets, true);
    return t.keypoint + 0.05 * t.orthogonal;
  };
  const torch::Tensor before = loss_of();
  optimizer.zero_grad();
  before.backward();
  optimizer.step();
  const torch::Tensor after = loss_of();
  EXPECT_LT(after.item<float>(), before.item<float>());
}

TEST(DualRcWeights, WrongWeightsAreClearErrors) {
  try {
    LoadDualRcNet("/nonexistent/dualrc.pt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dualrc.pt"), std::string::npos) << e.what();
  }
  try {
    LoadDualRcNet(DefaultWeights("s2dnet_compact.pt"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not DualRC-Net weights"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scalesfm
