// SCFeat: network shapes, the peakiness measurement on a hand-computed example, NMS / top-K,
// the posed plane pairs' geometry, one training step of each loss, and deterministic CPU
// extraction.
#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <Eigen/LU>
#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "colmap_ext/database.h"
#include "feature/image_io.h"
#include "feature/scfeat_extractor.h"
#include "feature/scfeat_keypoints.h"
#include "feature/scfeat_model.h"
#include "tests/test_util.h"
#include "training/scfeat_losses.h"
#include "training/scfeat_pairs.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace fs = std::filesystem;

namespace scalesfm {
namespace {

double Softplus(double x) { return std::log1p(std::exp(x)); }

TEST(ScfeatModel, CompactShapesFollowFigure3) {
  torch::manual_seed(0);
  Scfeat model(ScfeatConfig::Compact());
  const torch::Tensor x = torch::rand({2, 1, 64, 96});
  const ScfeatDescription d = model->Describe(x);
  EXPECT_EQ(d.desc.sizes(), torch::IntArrayRef({2, 64, 16, 24}));   // D_desc at H/4
  EXPECT_EQ(d.cn.sizes(), d.desc.sizes());                          // F_cn
  EXPECT_EQ(d.first.sizes(), torch::IntArrayRef({2, 16, 16, 24}));  // F_0
  const torch::Tensor s = model->Detect(d, x);
  EXPECT_EQ(s.sizes(), torch::IntArrayRef({2, 1, 64, 96}));  // S^ at full resolution
  EXPECT_GE(s.min().item<float>(), 0.f);
  EXPECT_THROW(model->Describe(torch::rand({1, 1, 60, 96})), Error);  // not a multiple of 16
}

TEST(ScfeatModel, PaperConfigHasTheOfficialWidths) {
  Scfeat model(ScfeatConfig::Paper());
  const torch::Tensor x = torch::rand({1, 3, 32, 32});
  const ScfeatDescription d = model->Describe(x);
  EXPECT_EQ(d.desc.size(1), 128);
  EXPECT_EQ(d.first.size(1), 64);
  // Official parameter names (as the converter maps them).
  const auto params = model->named_parameters();
  EXPECT_NE(params.find("layer3.5.conv3.weight"), nullptr);  // ResNet-50: 6 blocks in layer3
  EXPECT_EQ(params["detector.conv1.weight"].size(1), 192);   // F_cn (+) F_0
  EXPECT_EQ(params["detector.conv2.weight"].size(1), 192 + 64);
}

TEST(ScfeatModel, PeakinessMatchesAHandComputedExample) {
  // Channel 0: a single peak of 1 at the centre of a 3x3 map; channel 1: zeros.
  torch::Tensor y = torch::zeros({1, 2, 3, 3});
  y[0][0][1][1] = 1.0;
  const torch::Tensor s = PeakinessScore(y);
  // Centre, channel 0: eta = softplus(1 - 1/2) (eq. 4), zeta = softplus(1 - 1/9) (eq. 5).
  EXPECT_NEAR(s[0][0][1][1].item<double>(), Softplus(0.5) * Softplus(8.0 / 9), 1e-6);
  // Corner: reflect padding puts the peak 4 times in its 3x3 window, so channel 0 gives
  // ln2 * softplus(-4/9) and channel 1 gives ln2 * ln2, the maximum (eq. 6).
  EXPECT_NEAR(s[0][0][0][0].item<double>(), std::log(2.0) * std::log(2.0), 1e-6);
  // Edge (0,1): window holds the peak twice -> channel 0 ln2 * softplus(-2/9) < ln2^2.
  EXPECT_NEAR(s[0][0][0][1].item<double>(), std::log(2.0) * std::log(2.0), 1e-6);
  // Invariant to the feature scale (division by the per-sample maximum).
  EXPECT_TRUE(torch::allclose(PeakinessScore(y * 7), s));
}

TEST(ScfeatKeypoints, NmsThresholdAndTopK) {
  torch::Tensor score = torch::zeros({20, 20});
  score[5][5] = 3.0;
  score[5][6] = 2.5;  // suppressed by its neighbour (N = 3)
  score[12][4] = 2.0;
  score[15][15] = 1.0;
  score[2][17] = 0.4;  // below the threshold
  ScfeatKeypointOptions o;
  o.nms_size = 3;
  o.score_threshold = 0.5;
  o.max_keypoints = 2;
  o.subpixel = false;
  ScfeatKeypoints k = SelectKeypoints(score, 20, 20, o);
  ASSERT_EQ(k.points.size(0), 2);
  EXPECT_EQ(k.points[0][0].item<float>(), 5.f);
  EXPECT_EQ(k.points[0][1].item<float>(), 5.f);
  EXPECT_EQ(k.points[1][0].item<float>(), 4.f);
  EXPECT_EQ(k.points[1][1].item<float>(), 12.f);
  o.max_keypoints = 10;
  EXPECT_EQ(SelectKeypoints(score, 20, 20, o).points.size(0), 3);
  o.nms_size = 1;  // no suppression: the neighbour at (6, 5) comes back
  EXPECT_EQ(SelectKeypoints(score, 20, 20, o).points.size(0), 4);
  // Only the top-left width x height region counts (the rest is padding).
  EXPECT_EQ(SelectKeypoints(score, 10, 10, o).points.size(0), 2);
  // Sub-pixel: a peak with a stronger right neighbour moves right, by less than half a pixel.
  o.subpixel = true;
  o.nms_size = 3;
  torch::Tensor peak = torch::zeros({9, 9});
  peak[4][3] = 1.0;
  peak[4][4] = 2.0;
  peak[4][5] = 1.5;
  peak[3][4] = 1.0;
  peak[5][4] = 1.0;
  k = SelectKeypoints(peak, 9, 9, o);
  EXPECT_GT(k.points[0][0].item<float>(), 4.f);
  EXPECT_LT(k.points[0][0].item<float>(), 4.5f);
  EXPECT_FLOAT_EQ(k.points[0][1].item<float>(), 4.f);  // symmetric in y
  o.nms_size = 2;
  EXPECT_THROW(SelectKeypoints(peak, 9, 9, o), Error);
}

PosedPlanePairGenerator MakeGenerator(int size) {
  const std::string dir = test::MakeTempDir("scfeat_pairs");
  for (int i = 0; i < 3; ++i) {
    cv::imwrite(dir + "/t" + std::to_string(i) + ".png", test::NoiseTexture(320, 240, 7 + i));
  }
  PosedPlanePairOptions o;
  o.size = size;
  return PosedPlanePairGenerator(ListTrainingImages(dir), o);
}

TEST(ScfeatPairs, PointsMappedByHSatisfyTheEpipolarConstraint) {
  const PosedPlanePairGenerator gen = MakeGenerator(128);
  std::mt19937 rng(3);
  for (int k = 0; k < 20; ++k) {
    const PosedPlanePair pair = gen.Sample(&rng);
    EXPECT_GE(pair.overlap, 0.35);
    EXPECT_EQ(pair.a.size(), cv::Size(128, 128));
    for (double x : {10.0, 64.0, 120.0}) {
      for (double y : {5.0, 70.0, 127.0}) {
        const Eigen::Vector3d xa(x, y, 1);
        const Eigen::Vector3d xb = (pair.H * xa).eval() / (pair.H * xa).z();
        const Eigen::Vector3d line = pair.F * xa;
        // Distance of H x to the epipolar line F x, in pixels.
        EXPECT_LT(std::abs(line.dot(xb)) / line.head<2>().norm(), 1e-6);
      }
    }
  }
}

TEST(ScfeatPairs, ViewBShowsViewAThroughH) {
  // Without jitter noise the content at H x in B matches A at x (a textured plane).
  const PosedPlanePairGenerator gen = MakeGenerator(128);
  std::mt19937 rng(5);
  const PosedPlanePair pair = gen.Sample(&rng);
  cv::Mat H;
  cv::Mat(3, 3, CV_64F, const_cast<double*>(pair.H.data())).copyTo(H);  // column-major
  H = H.t();
  cv::Mat warped;
  cv::warpPerspective(pair.a, warped, H, pair.b.size());
  cv::Mat mask;
  cv::warpPerspective(cv::Mat(pair.a.size(), CV_8U, cv::Scalar(255)), mask, H, pair.b.size(),
                      cv::INTER_NEAREST);
  cv::erode(mask, mask, cv::Mat(), cv::Point(-1, -1), 3);
  cv::Mat fa, fb;
  warped.convertTo(fa, CV_32F);
  pair.b.convertTo(fb, CV_32F);
  cv::Scalar ma, sa, mb, sb;
  cv::meanStdDev(fa, ma, sa, mask);
  cv::meanStdDev(fb, mb, sb, mask);
  const cv::Mat da = fa - ma[0], db = fb - mb[0];
  cv::Mat prod;
  cv::multiply(da, db, prod);
  const double corr = cv::mean(prod, mask)[0] / (sa[0] * sb[0]);
  EXPECT_GT(corr, 0.8);  // photometric jitter keeps the correlation high, not perfect
}

TEST(ScfeatLosses, OneDescriptionStepLowersTheEpipolarLoss) {
  torch::manual_seed(0);
  const PosedPlanePairGenerator gen = MakeGenerator(96);
  std::mt19937 rng(11);
  const PosedPlanePair pair = gen.Sample(&rng);
  Scfeat model(ScfeatConfig::Compact());
  model->train();
  const torch::Tensor a = ScfeatInput(pair.a, model->config());
  const torch::Tensor b = ScfeatInput(pair.b, model->config());
  std::mt19937 qrng(1);
  std::uniform_real_distribution<float> u(4, 91);
  std::vector<float> q(2 * 64);
  for (float& v : q) v = u(qrng);
  const torch::Tensor queries = torch::from_blob(q.data(), {64, 2}).clone();
  auto loss = [&]() {
    std::mt19937 lrng(2);  // the same windows each time
    const ScfeatDescription da = model->Describe(a), db = model->Describe(b);
    return EpipolarDescriptorLoss(da.cn, db.cn, pair.F, queries, 96, 96, EpipolarLossOptions(),
                                  &lrng);
  };
  torch::optim::SGD sgd(model->DescriptionParameters(), torch::optim::SGDOptions(1e-4));
  const EpipolarLossResult before = loss();
  ASSERT_GT(before.valid_queries, 0);
  sgd.zero_grad();
  before.loss.backward();
  sgd.step();
  const EpipolarLossResult after = loss();
  EXPECT_LT(after.loss.item<double>(), before.loss.item<double>());
}

TEST(ScfeatLosses, OneDetectionStepLowersThePolicyLoss) {
  // The policy-gradient surrogate of eq. 21 on fixed samples and rewards.
  torch::manual_seed(0);
  Scfeat model(ScfeatConfig::Compact());
  const torch::Tensor x = ScfeatInput(test::NoiseTexture(64, 64, 3), model->config());
  ScfeatDescription d;
  {
    torch::NoGradGuard no_grad;
    model->eval();
    d = model->Describe(x);
  }
  std::mt19937 rng(4);
  const SampledKeypoints k = SampleKeypoints(model->Detect(d, x), 8, &rng);
  ASSERT_GT(k.points.size(0), 2);
  // Rewards: +1 for the first half of the samples, -0.5 for the rest.
  const int64_t n = k.points.size(0);
  const torch::Tensor reward =
      torch::where(torch::arange(n) < n / 2, torch::full({}, 1.0), torch::full({}, -0.5))
          .to(torch::kFloat32);
  auto policy_loss = [&]() {
    const torch::Tensor lp = KeypointLogProb(model->Detect(d, x), 8, k);
    return -(reward * lp).sum() / static_cast<double>(n);
  };
  torch::optim::SGD sgd(model->DetectionParameters(), torch::optim::SGDOptions(1e-2));
  const torch::Tensor before = policy_loss();
  sgd.zero_grad();
  before.backward();
  sgd.step();
  EXPECT_LT(policy_loss().item<double>(), before.item<double>());
}

TEST(ScfeatLosses, FundamentalMatrixErrorIsSmallForCorrectPairs) {
  // Two planes (non-degenerate for the 8-point algorithm), exact correspondences.
  Eigen::Matrix3d K;
  K << 200, 0, 100, 0, 200, 100, 0, 0, 1;
  const Eigen::Matrix3d R = Eigen::Matrix3d::Identity();
  const Eigen::Vector3d t(0.3, 0.05, 0.02);
  std::vector<Eigen::Vector2d> x1, x2;
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0, 200), depth(2, 6);
  for (int i = 0; i < 30; ++i) {
    const Eigen::Vector3d X = K.inverse() * Eigen::Vector3d(u(rng), u(rng), 1) * depth(rng);
    x1.push_back((K * X).hnormalized());
    x2.push_back((K * (R * X + t)).hnormalized());
  }
  const Eigen::Matrix3d F = FundamentalFromPose(K, K, R, t);
  EXPECT_LT(FundamentalMatrixError(x1, x2, F, 20, &rng), 1e-6);
  // Fewer than 9 pairs: the maximum penalty.
  x1.resize(8);
  x2.resize(8);
  EXPECT_EQ(FundamentalMatrixError(x1, x2, F, 20, &rng), 1.0);
}

// CPU extraction options for a randomly initialised compact model saved under a fresh folder
// (seed the generator first for reproducible weights).
ExtractionOptions RandomCompactExtraction(const std::string& dir_name, int max_num_features) {
  const std::string weights = test::MakeTempDir(dir_name) + "/scfeat.pt";
  Scfeat model(ScfeatConfig::Compact());
  SaveWeights(*model, weights, {{"architecture", "scfeat"}, {"config", "compact"}});
  ExtractionOptions o;
  o.type = "scfeat";
  o.device = "cpu";
  o.scfeat_weights = weights;
  o.max_num_features = max_num_features;
  return o;
}

TEST(ScfeatExtractor, CpuExtractionIsDeterministicAndInColmapConvention) {
  torch::manual_seed(0);
  // The extraction pipeline runs LibTorch on all cores: check determinism with two threads.
  const int previous_threads = torch::get_num_threads();
  torch::set_num_threads(2);
  const ExtractionOptions o = RandomCompactExtraction("scfeat_weights", 300);
  const cv::Mat image = test::NoiseTexture(320, 240, 9);
  ScfeatExtractor e1(o), e2(o);
  const FeatureSet f1 = e1.Extract(image), f2 = e2.Extract(image);
  ASSERT_GT(f1.keypoints.size(), 10u);
  ASSERT_LE(f1.keypoints.size(), 300u);
  ASSERT_EQ(f1.keypoints.size(), f2.keypoints.size());
  for (size_t i = 0; i < f1.keypoints.size(); ++i) {
    EXPECT_EQ(f1.keypoints[i].x, f2.keypoints[i].x);
    EXPECT_EQ(f1.keypoints[i].y, f2.keypoints[i].y);
    EXPECT_GE(f1.keypoints[i].x, 0.f);  // COLMAP: pixels span [0, width]
    EXPECT_LE(f1.keypoints[i].x, 320.f);
    EXPECT_LE(f1.keypoints[i].y, 240.f);
  }
  EXPECT_TRUE(f1.float_descriptors.isApprox(f2.float_descriptors, 0.f) ||
              f1.float_descriptors == f2.float_descriptors);
  EXPECT_EQ(f1.float_descriptors.cols(), 64);
  EXPECT_NEAR(f1.float_descriptors.row(0).norm(), 1.0, 1e-5);  // eq. 22
  EXPECT_EQ(f1.descriptors.cols(), 0);
  torch::set_num_threads(previous_threads);
}

TEST(ScfeatExtractor, DescribingAtItsOwnKeypointsGivesItsDescriptors) {
  torch::manual_seed(1);
  const ExtractionOptions o = RandomCompactExtraction("scfeat_describe_at", 200);
  const cv::Mat image =
      test::NoiseTexture(200, 150, 4);  // not a multiple of the stride: padded input
  ScfeatExtractor e(o);
  const FeatureSet f = e.Extract(image);
  ASSERT_GT(f.keypoints.size(), 10u);
  const DescriptorsF32 d = e.DescribeAt(image, f.keypoints);
  ASSERT_EQ(d.rows(), f.float_descriptors.rows());
  EXPECT_LT((d - f.float_descriptors).cwiseAbs().maxCoeff(), 1e-5f);
  // Keypoints moved by three pixels sample other descriptors.
  Keypoints moved = f.keypoints;
  for (Keypoint& k : moved) k.x += 3.f;
  EXPECT_GT((e.DescribeAt(image, moved) - f.float_descriptors).cwiseAbs().maxCoeff(), 1e-3f);
  EXPECT_EQ(e.DescribeAt(image, Keypoints{}).rows(), 0);
}

TEST(ScfeatExtractor, WrongWeightsAreClearErrors) {
  const std::string dir = test::MakeTempDir("scfeat_bad_weights");
  ExtractionOptions o;
  o.type = "scfeat";
  o.device = "cpu";
  o.scfeat_weights = dir + "/missing.pt";
  EXPECT_THROW(ScfeatExtractor{o}, Error);
  // A ScaleNet-style sidecar is refused by name.
  Scfeat model(ScfeatConfig::Compact());
  SaveWeights(*model, dir + "/other.pt", {{"architecture", "scalenet"}});
  o.scfeat_weights = dir + "/other.pt";
  try {
    ScfeatExtractor e(o);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not SCFeat weights"), std::string::npos);
  }
  // Levels: several levels are refused for learned features.
  o.levels = "1,0.5";
  EXPECT_THROW(o.Check(), Error);
}

}  // namespace
}  // namespace scalesfm
