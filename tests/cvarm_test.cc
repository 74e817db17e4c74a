// Scale-Net with CVARM: shapes of both configs, the correlation layout (eq. 4), the covisibility
// attention (eqs. 5-9), the dual consistent loss (eqs. 10-12), inverse-pair consistency, one
// training step, weights round trip, and the posed training pairs.
#include "scale/cvarm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "scale/cvarm_estimator.h"
#include "tests/test_util.h"
#include "training/cvarm_trainer.h"
#include "training/posed_scale_pairs.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {
namespace {

using torch::indexing::Slice;

CvarmConfig TinyConfig() {
  CvarmConfig c = CvarmConfig::Compact();
  c.input_size = 96;  // 12x12 features, 4x4 after the regressor's convolutions
  return c;
}

std::string SaveRandomWeights(const CvarmConfig& config, const std::string& tag) {
  torch::manual_seed(1);
  CvarmNet model(config);
  const std::string path = test::MakeTempDir(tag) + "/cvarm.pt";
  SaveWeights(*model, path, {{"architecture", "cvarm"}, {"config", config.name}});
  return path;
}

TEST(Cvarm, OutputShapes) {
  CvarmNet model(TinyConfig());
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor f1 = model->ExtractFeatures(torch::randn({3, 1, 96, 96}));
  const torch::Tensor f2 = model->ExtractFeatures(torch::randn({3, 1, 96, 96}));
  EXPECT_EQ(f1.sizes(), (std::vector<int64_t>{3, 64, 12, 12}));
  // Eq. 3: F is L2-normalised over the channels.
  EXPECT_TRUE(torch::allclose(f1.norm(2, 1), torch::ones({3, 12, 12}), 1e-4, 1e-4));
  CvarmMaps maps;
  EXPECT_EQ(model->PairLog2Scale(f1, f2, &maps).sizes(), (std::vector<int64_t>{3}));
  EXPECT_EQ(maps.correlation.sizes(), (std::vector<int64_t>{3, 144, 12, 12}));
  EXPECT_EQ(maps.m1.sizes(), (std::vector<int64_t>{3, 1, 12, 12}));
  EXPECT_EQ(maps.m2.sizes(), (std::vector<int64_t>{3, 1, 12, 12}));
  EXPECT_EQ(maps.reinforced.sizes(), maps.correlation.sizes());
  EXPECT_THROW(model->ExtractFeatures(torch::randn({1, 1, 64, 64})), c10::Error);
  // CVARM itself has 50 parameters, as the paper says: two 5x5 filters without bias.
  int64_t cvarm_params = 0;
  for (const auto& p : model->named_parameters()) {
    if (p.key().rfind("cvarm.", 0) == 0) cvarm_params += p.value().numel();
  }
  EXPECT_EQ(cvarm_params, 50);
  EXPECT_EQ(model->named_parameters()["msfef.omega"].numel(), 3);  // w1..w3 of eq. 2
  // The paper config: ResNet-18 to conv4_2 under torchvision's names, 640 px -> 40 x 40, so the
  // regressor's first convolution takes 1600 channels.
  CvarmNet paper(CvarmConfig::Paper());
  const auto params = paper->named_parameters();
  EXPECT_EQ(params["msfef.extractor.conv1.weight"].sizes(), (std::vector<int64_t>{64, 3, 7, 7}));
  EXPECT_EQ(params["msfef.extractor.layer3.1.conv2.weight"].sizes(),
            (std::vector<int64_t>{256, 256, 3, 3}));
  EXPECT_EQ(params["msfef.extractor.layer2.0.downsample.0.weight"].sizes(),
            (std::vector<int64_t>{128, 64, 1, 1}));
  EXPECT_EQ(params["regressor.0.weight"].sizes(), (std::vector<int64_t>{256, 1600, 3, 3}));
  EXPECT_EQ(params.find("msfef.extractor.layer4.0.conv1.weight"), nullptr);
  EXPECT_EQ(CvarmConfig::Paper().FeatureSize(), 40);
  EXPECT_THROW(CvarmConfig::FromName("huge"), Error);
}

TEST(Cvarm, CorrelationLayoutIsEquation4) {
  // C12(i, j, k) = F1(i, j)^T F2(i_k, j_k) with k = y * w + x over F2's grid.
  const torch::Tensor f1 = torch::randn({2, 5, 3, 4});
  const torch::Tensor f2 = torch::randn({2, 5, 3, 4});
  const torch::Tensor c = CvarmCorrelation(f1, f2);
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{2, 12, 3, 4}));
  for (int n = 0; n < 2; ++n) {
    for (int k = 0; k < 12; ++k) {
      const int yk = k / 4, xk = k % 4;
      const float expected =
          (f1.index({n, Slice(), 2, 1}) * f2.index({n, Slice(), yk, xk})).sum().item<float>();
      EXPECT_NEAR(c[n][k][2][1].item<float>(), expected, 1e-5) << n << " " << k;
    }
  }
}

TEST(Cvarm, AttentionFollowsEquations5To9) {
  // With identity filters (a 1 at the centre of each 5x5), M1 is the sigmoid of each I1 patch's
  // highest similarity over I2 (eq. 5) and M2 that of each I2 patch over I1 (eqs. 6-8). The
  // paper's masks are per-patch probabilities (sigmoids), not normalised over the image: each
  // lies in (0, 1), and eq. 9 weights C12 by M1 over the grid and M2vec over the channels.
  Cvarm cvarm;
  {
    torch::NoGradGuard no_grad;
    for (auto& p : cvarm->named_parameters()) {
      p.value().zero_();
      p.value().index_put_({0, 0, 2, 2}, 1.0);
    }
  }
  torch::NoGradGuard no_grad;
  torch::manual_seed(93);
  // Unit features, as MSFEF gives them (eq. 3): raw randn features reach inner products above
  // 17, where the float sigmoid is exactly 1 and the mask bounds below failed now and then.
  torch::Tensor f1 = torch::randn({1, 8, 4, 5});
  f1 = f1 / f1.norm(2, 1, true);
  torch::Tensor f2 = torch::randn({1, 8, 4, 5});
  f2 = f2 / f2.norm(2, 1, true);
  const CvarmMaps maps = cvarm->forward(f1, f2);
  const torch::Tensor c = CvarmCorrelation(f1, f2);  // [1, 20, 4, 5]
  EXPECT_TRUE(torch::allclose(maps.m1, torch::sigmoid(std::get<0>(c.max(1, true))), 1e-6, 1e-6));
  const torch::Tensor s2 = std::get<0>(c.flatten(2).max(2)).reshape({1, 1, 4, 5});
  EXPECT_TRUE(torch::allclose(maps.m2, torch::sigmoid(s2), 1e-6, 1e-6));
  // I2's patch k = y * w + x is channel k of C12: M2 at (y, x) scales that channel.
  const int y = 2, x = 3, k = y * 5 + x;
  EXPECT_NEAR(maps.reinforced[0][k][1][4].item<float>(),
              (maps.m2[0][0][y][x] * maps.m1[0][0][1][4] * c[0][k][1][4]).item<float>(), 1e-6);
  EXPECT_GT(maps.m1.min().item<float>(), 0.0f);
  EXPECT_LT(maps.m1.max().item<float>(), 1.0f);
  // A patch of I1 that matches an I2 patch exactly (cosine 1 on unit features) scores higher
  // than one that matches nothing well.
  torch::Tensor g1 = torch::randn({1, 8, 4, 5});
  g1 = g1 / g1.norm(2, 1, true);
  torch::Tensor g2 = torch::randn({1, 8, 4, 5});
  g2 = g2 / g2.norm(2, 1, true);
  g2.index_put_({0, Slice(), 0, 0}, g1.index({0, Slice(), 3, 2}));
  const CvarmMaps m = cvarm->forward(g1, g2);
  EXPECT_NEAR(m.m1[0][0][3][2].item<float>(), 1.0 / (1.0 + std::exp(-1.0)), 1e-5);
  EXPECT_NEAR(m.m2[0][0][0][0].item<float>(), 1.0 / (1.0 + std::exp(-1.0)), 1e-5);
}

TEST(Cvarm, DualConsistentLossIsEquations10To12) {
  const torch::Tensor ab = torch::tensor({1.0f, -0.5f});
  const torch::Tensor ba = torch::tensor({-0.5f, 1.0f});
  const torch::Tensor gt = torch::tensor({2.0f, 0.0f});
  const DualConsistentLoss l = CvarmLoss(ab, ba, gt, 1.0, 0.5);
  // l_d = 1/(2N) sum [(ab - gt)^2 + (ba + gt)^2] = (1 + 2.25 + 0.25 + 1) / 4.
  EXPECT_NEAR(l.dual.item<double>(), 4.5 / 4, 1e-6);
  // l_c = 1/N sum (ab + ba)^2 = (0.25 + 0.25) / 2.
  EXPECT_NEAR(l.consistent.item<double>(), 0.25, 1e-6);
  EXPECT_NEAR(l.total.item<double>(), 4.5 / 4 + 0.5 * 0.25, 1e-6);
  // A perfect, consistent estimate has zero loss.
  EXPECT_NEAR(CvarmLoss(gt, -gt, gt).total.item<double>(), 0.0, 1e-9);
  EXPECT_TRUE(torch::allclose(SymmetricLog2Scale(ab, ba), -SymmetricLog2Scale(ba, ab)));
}

TEST(Cvarm, TrainingStepsReduceTheLossOnAFixedBatch) {
  torch::manual_seed(0);
  CvarmNet model(TinyConfig());
  const torch::Tensor a = torch::randn({8, 1, 96, 96});
  const torch::Tensor b = torch::randn({8, 1, 96, 96});
  const torch::Tensor gt = torch::linspace(-2, 2, 8);
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  auto loss = [&] {
    const torch::Tensor fa = model->ExtractFeatures(a), fb = model->ExtractFeatures(b);
    return CvarmLoss(model->PairLog2Scale(fa, fb), model->PairLog2Scale(fb, fa), gt).total;
  };
  model->eval();
  const double before = loss().item<double>();
  model->train();
  for (int i = 0; i < 5; ++i) {
    optimizer.zero_grad();
    loss().backward();
    optimizer.step();
  }
  model->eval();
  EXPECT_LT(loss().item<double>(), before);
}

TEST(Cvarm, WeightsRoundTripAndEstimatorIsInverseConsistent) {
  const std::string path = SaveRandomWeights(TinyConfig(), "cvarm_weights");
  CvarmNet loaded(TinyConfig());
  LoadWeights(loaded.get(), path);
  torch::manual_seed(1);
  CvarmNet reference(TinyConfig());
  for (const auto& p : loaded->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), reference->named_parameters()[p.key()])) << p.key();
  }
  ScaleEstimatorOptions options;
  options.estimator = "cvarm";
  options.weights = SaveRandomWeights(CvarmConfig::Compact(), "cvarm_compact");
  options.device = "cpu";
  std::unique_ptr<ScaleEstimator> estimator = ScaleEstimator::Create(options);
  const cv::Mat img =
      cv::imread(test::SyntheticSceneDir() + "/images/0000.png", cv::IMREAD_GRAYSCALE);
  cv::Mat other;
  cv::resize(img(cv::Rect(0, 0, 300, 200)), other, cv::Size(), 1.7, 1.7);
  const ScaleEstimate ab = estimator->EstimateImages(img, other);
  const ScaleEstimate ba = estimator->EstimateImages(other, img);
  // Eq. 1, phi(I2, I1) = 1 / phi(I1, I2), holds exactly for the two-direction estimate.
  EXPECT_NEAR(ab.scale * ba.scale, 1.0, 1e-5);
  ASSERT_EQ(ab.probs.size(), 13u);
  EXPECT_DOUBLE_EQ(ab.probs[ab.bin], 1.0);
  // Cached codes give what the images give.
  const auto code_a = estimator->Encode(img), code_b = estimator->Encode(other);
  EXPECT_NEAR(estimator->Estimate(*code_a, *code_b).scale, ab.scale, 1e-6);
}

TEST(Cvarm, BadWeightsGiveClearErrors) {
  ScaleEstimatorOptions options;
  options.estimator = "cvarm";
  options.device = "cpu";
  const std::string dir = test::MakeTempDir("cvarm_bad");
  options.weights = dir + "/missing.pt";
  try {
    ScaleEstimator::Create(options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.pt"), std::string::npos) << e.what();
  }
  // ScaleNet weights are not CVARM weights.
  torch::manual_seed(0);
  CvarmNet model(CvarmConfig::Compact());
  options.weights = dir + "/scalenet.pt";
  SaveWeights(*model, options.weights, {{"architecture", "scalenet"}, {"config", "compact"}});
  try {
    ScaleEstimator::Create(options);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scalenet"), std::string::npos) << e.what();
  }
}

// A 400 x 300 dark image with a bright 100 x 100 square: the square's size in each rendered
// canvas measures the rendered scale.
double SquareSide(const cv::Mat& normalised) {
  const cv::Mat bright = normalised > 0.15f;  // the letterbox grey is 0, the square >= 0.3
  return std::sqrt(static_cast<double>(cv::countNonZero(bright)));
}

TEST(PosedScalePairs, RenderedScaleIsTheGroundTruth) {
  const std::string dir = test::MakeTempDir("posed_pairs");
  cv::Mat image(300, 400, CV_8U, cv::Scalar(20));
  image(cv::Rect(150, 100, 100, 100)).setTo(235);
  cv::Mat half;
  cv::resize(image, half, cv::Size(200, 150), 0, 0, cv::INTER_AREA);
  cv::imwrite(dir + "/full.png", image);
  cv::imwrite(dir + "/half.png", half);
  {
    std::ofstream csv(dir + "/gt_pairs.csv");
    // s(full -> half) = 0.5: the content is half as large in half.png.
    csv << "dataset,image1,image2,gt_scale,support\n"
        << "toy," << dir << "/full.png," << dir << "/half.png,0.5,100\n";
  }
  const std::vector<PosedPairGt> pairs = ReadPosedPairs(dir + "/gt_pairs.csv");
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_DOUBLE_EQ(pairs[0].scale, 0.5);
  PosedScalePairOptions options;
  options.canvas_size = 128;
  options.background_probability = 0;  // letterbox grey only, so only the square is bright
  const PosedScalePairGenerator generator(pairs, options);
  std::mt19937 rng(3);
  double max_abs_log2 = 0;
  for (int i = 0; i < 40; ++i) {
    const ScalePair p = generator.Sample(&rng);
    ASSERT_EQ(p.a.rows, 128);
    const double side_a = SquareSide(p.a), side_b = SquareSide(p.b);
    // Sides are whole pixels after resizing: allow about one pixel on the smaller square.
    const double tolerance = 0.05 + 1.5 / std::min(side_a, side_b);
    EXPECT_NEAR(std::log2(side_b / side_a), std::log2(p.scale), tolerance) << i;
    EXPECT_LE(std::abs(std::log2(p.scale)), 3.0 + 1e-9);
    max_abs_log2 = std::max(max_abs_log2, std::abs(std::log2(p.scale)));
  }
  EXPECT_GT(max_abs_log2, 1.5);  // pairs are enlarged beyond the scene's own scale
}

TEST(PosedScalePairs, BadFilesAreClearErrors) {
  const std::string dir = test::MakeTempDir("posed_bad");
  EXPECT_THROW(ReadPosedPairs(dir + "/none.csv"), Error);
  std::ofstream(dir + "/header.csv") << "a,b,c\n";
  EXPECT_THROW(ReadPosedPairs(dir + "/header.csv"), Error);
  std::ofstream(dir + "/row.csv") << "dataset,image1,image2,gt_scale,support\nx,a.png,b.png,-1,3\n";
  try {
    ReadPosedPairs(dir + "/row.csv");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 2"), std::string::npos) << e.what();
  }
  std::ofstream(dir + "/img.csv") << "dataset,image1,image2,gt_scale,support\nx," << dir
                                  << "/a.png," << dir << "/b.png,2,3\n";
  try {
    PosedScalePairGenerator(ReadPosedPairs(dir + "/img.csv"), PosedScalePairOptions());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.png"), std::string::npos) << e.what();
  }
  CvarmTrainOptions o;
  o.data_path = dir;
  o.output_path = dir + "/m.pt";
  o.posed_fraction = 1.5;
  EXPECT_THROW(o.Check(), Error);
  o.posed_fraction = 0.25;
  o.config = "paper";
  EXPECT_THROW(o.Check(), Error);
}

}  // namespace
}  // namespace scalesfm
