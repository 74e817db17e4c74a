#include "scale/scalenet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "scale/scale_distribution.h"
#include "scale/scalenet_estimator.h"
#include "tests/test_util.h"
#include "training/scale_pairs.h"
#include "training/scalenet_trainer.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {
namespace {

ScaleNetConfig TinyConfig() {
  ScaleNetConfig c = ScaleNetConfig::Compact();
  c.input_size = 96;  // 12x12 features, 4x4 after the reduction blocks
  return c;
}

std::string SaveRandomWeights(const ScaleNetConfig& config, const std::string& tag) {
  torch::manual_seed(1);
  ScaleNet model(config);
  const std::string path = test::MakeTempDir(tag) + "/scalenet.pt";
  SaveWeights(*model, path, {{"architecture", "scalenet"}, {"config", config.name}});
  return path;
}

TEST(ScaleNet, OutputShapes) {
  ScaleNet model(TinyConfig());
  model->eval();
  const torch::Tensor a = torch::randn({3, 1, 96, 96});
  const torch::Tensor b = torch::randn({3, 1, 96, 96});
  const ScaleNetImageFeatures fa = model->ExtractFeatures(a);
  EXPECT_EQ(fa.features.sizes(), (std::vector<int64_t>{3, 64, 12, 12}));
  EXPECT_TRUE(torch::allclose(fa.features.norm(2, 1), torch::ones({3, 12, 12}), 1e-4, 1e-4));
  EXPECT_EQ(model->forward(a, b).sizes(), (std::vector<int64_t>{3, 13}));
  const torch::Tensor corr = CorrelationVolume(fa.features, fa.features);
  EXPECT_EQ(corr.sizes(), (std::vector<int64_t>{3, 144, 12, 12}));
  EXPECT_THROW(model->ExtractFeatures(torch::randn({1, 1, 32, 32})), c10::Error);
  // The paper config builds with the official model's shapes (240 px -> 15x15 -> 7x7 -> 4704).
  ScaleNet paper(ScaleNetConfig::Paper());
  const auto params = paper->named_parameters();
  EXPECT_EQ(params["reduce_ab.0.weight"].sizes(), (std::vector<int64_t>{256, 225, 3, 3}));
  EXPECT_EQ(params["head.0.weight"].sizes(), (std::vector<int64_t>{2056, 4704, 1, 1}));
  EXPECT_EQ(params["aspp.mix_comb.0.weight"].sizes(), (std::vector<int64_t>{1024, 2048, 1, 1}));
}

TEST(ScaleNet, CachedSelfCorrelationGivesTheSameLogits) {
  torch::manual_seed(3);
  ScaleNet model(TinyConfig());
  model->eval();
  torch::NoGradGuard no_grad;
  ScaleNetImageFeatures fa = model->ExtractFeatures(torch::randn({2, 1, 96, 96}));
  ScaleNetImageFeatures fb = model->ExtractFeatures(torch::randn({2, 1, 96, 96}));
  const torch::Tensor uncached = model->PairLogits(fa, fb);
  model->CacheSelfCorrelation(&fa);
  model->CacheSelfCorrelation(&fb);
  ASSERT_TRUE(fa.self_as_a.defined() && fb.self_as_b.defined());
  EXPECT_TRUE(torch::allclose(model->PairLogits(fa, fb), uncached, 1e-5, 1e-5));
  // The cache is per side: B -> A uses b's A-side block and a's B-side block.
  const torch::Tensor reverse = model->PairLogits(fb, fa);
  fa.self_as_a = fa.self_as_b = fb.self_as_a = fb.self_as_b = torch::Tensor();
  EXPECT_TRUE(torch::allclose(model->PairLogits(fb, fa), reverse, 1e-5, 1e-5));
}

TEST(ScaleNet, CorrelationVolumeLayout) {
  // Channel j indexes b's locations column-major (j = x * h + y); the grid is a's.
  const torch::Tensor a = torch::randn({1, 4, 2, 3});
  const torch::Tensor b = torch::randn({1, 4, 2, 3});
  const torch::Tensor corr = CorrelationVolume(a, b);
  // Unnormalised value for a(y=1, x=2) and b(y=0, x=1): channel j = 1 * 2 + 0 = 2.
  const torch::Tensor raw = torch::relu(
      (a.index({0, torch::indexing::Slice(), 1, 2}) * b.index({0, torch::indexing::Slice(), 0, 1}))
          .sum());
  const torch::Tensor column =
      torch::relu(torch::einsum("c,cj->j", {a.index({0, torch::indexing::Slice(), 1, 2}),
                                            b[0].transpose(1, 2).reshape({4, 6})}));
  EXPECT_NEAR(corr[0][2][1][2].item<float>(),
              (raw / (column.pow(2).sum() + 1e-6).sqrt()).item<float>(), 1e-5);
}

TEST(ScaleDistribution, GroundTruthSatisfiesEquation6) {
  const torch::Tensor s = torch::tensor({0.2f, 0.5f, 1.0f, 1.3f, 2.0f, 5.5f, 7.9f});
  const torch::Tensor p = GroundTruthDistribution(s.log());
  EXPECT_TRUE(torch::allclose(p.sum(1), torch::ones({7}), 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(SoftLogScale(p), s.log(), 1e-5, 1e-5));
  EXPECT_LE((p > 0).sum(1).max().item<int64_t>(), 2);
  // Exactly on a bin: all mass there. Beyond the range: clamped to the end bin.
  const torch::Tensor q = GroundTruthDistribution(torch::tensor({std::log(2.0f), std::log(100.f)}));
  EXPECT_FLOAT_EQ(q[0][8].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(q[1][12].item<float>(), 1.0f);
}

TEST(ScaleDistribution, ConsistencyCheckIsAntisymmetric) {
  const torch::Tensor p_ab = torch::softmax(torch::randn({4, 13}), 1);
  const torch::Tensor p_ba = torch::softmax(torch::randn({4, 13}), 1);
  EXPECT_TRUE(torch::allclose(ConsistentLogScale(p_ab, p_ba), -ConsistentLogScale(p_ba, p_ab)));
}

TEST(ScaleNet, TrainingStepsReduceTheLossOnAFixedBatch) {
  torch::manual_seed(0);
  ScaleNet model(TinyConfig());
  const torch::Tensor a = torch::randn({8, 1, 96, 96});
  const torch::Tensor b = torch::randn({8, 1, 96, 96});
  const torch::Tensor gt = GroundTruthDistribution(torch::linspace(-2, 2, 8));
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  const double before = ScaleKlLoss(model->forward(a, b), gt).item<double>();
  for (int i = 0; i < 5; ++i) {
    optimizer.zero_grad();
    const torch::Tensor loss = ScaleKlLoss(model->forward(a, b), gt);
    loss.backward();
    optimizer.step();
  }
  model->eval();
  const double after = ScaleKlLoss(model->forward(a, b), gt).item<double>();
  EXPECT_LT(after, before);
}

TEST(ScaleNet, WeightsRoundTripAndEstimatorIsConsistent) {
  const std::string path = SaveRandomWeights(TinyConfig(), "weights");
  ScaleNet a(TinyConfig()), b(TinyConfig());
  LoadWeights(b.get(), path);
  torch::manual_seed(1);
  ScaleNet reference(TinyConfig());
  for (const auto& p : b->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), reference->named_parameters()[p.key()])) << p.key();
  }
  // The compact config's input size is 128, so give the estimator a sidecar saying "compact"
  // only with compact weights: here build the estimator on real compact-shaped weights.
  const std::string compact = SaveRandomWeights(ScaleNetConfig::Compact(), "compact");
  ScaleEstimatorOptions options;
  options.weights = compact;
  options.device = "cpu";
  ScaleNetEstimator estimator(options, /*discrete=*/false);
  const cv::Mat img =
      cv::imread(test::SyntheticSceneDir() + "/images/0000.png", cv::IMREAD_GRAYSCALE);
  cv::Mat other;
  cv::resize(img(cv::Rect(0, 0, 300, 200)), other, cv::Size(), 1.7, 1.7);
  const ScaleEstimate ab = estimator.EstimateImages(img, other);
  const ScaleEstimate ba = estimator.EstimateImages(other, img);
  EXPECT_NEAR(ab.scale * ba.scale, 1.0, 1e-5);
  EXPECT_EQ(ab.probs.size(), 13u);
}

TEST(ScaleNet, BadWeightsGiveClearErrors) {
  ScaleNet model(TinyConfig());
  const std::string dir = test::MakeTempDir("badweights");
  try {
    LoadWeights(model.get(), dir + "/missing.pt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not found"), std::string::npos) << e.what();
  }
  // Truncated file, sidecar copied with it: the sha256 check refuses it before the zip reader.
  const std::string good = SaveRandomWeights(TinyConfig(), "good");
  const auto size = std::filesystem::file_size(good);
  std::filesystem::copy_file(good, dir + "/half.pt");
  std::filesystem::copy_file(good + ".json", dir + "/half.pt.json");
  std::filesystem::resize_file(dir + "/half.pt", size / 2);
  try {
    LoadWeights(model.get(), dir + "/half.pt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match the sha256"), std::string::npos)
        << e.what();
  }
  // The same truncated file with its sidecar's sha256 updated: the archive reader's error.
  nlohmann::json sidecar = ReadSidecar(dir + "/half.pt");
  sidecar["sha256"] = Sha256OfFile(dir + "/half.pt");
  std::ofstream(dir + "/half.pt.json") << sidecar.dump();
  EXPECT_THROW(LoadWeights(model.get(), dir + "/half.pt"), Error);
  // One flipped byte, same size: found by the sha256, not loaded as slightly wrong weights.
  std::filesystem::copy_file(good, dir + "/flipped.pt");
  std::filesystem::copy_file(good + ".json", dir + "/flipped.pt.json");
  {
    std::fstream f(dir + "/flipped.pt", std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size - 4096));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(static_cast<std::streamoff>(size - 4096));
    f.write(&c, 1);
  }
  try {
    LoadWeights(model.get(), dir + "/flipped.pt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match the sha256"), std::string::npos)
        << e.what();
  }
  // A sidecar without a sha256: refused, and the message gives the hash to add.
  std::filesystem::copy_file(good, dir + "/nosum.pt");
  nlohmann::json no_sum = ReadSidecar(good);
  no_sum.erase("sha256");
  std::ofstream(dir + "/nosum.pt.json") << no_sum.dump();
  try {
    LoadWeights(model.get(), dir + "/nosum.pt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(Sha256OfFile(good)), std::string::npos) << e.what();
  }
  // NaN weights with a valid checksum (written by SaveWeights): the error names the tensor.
  {
    torch::manual_seed(1);
    ScaleNet nan_model(TinyConfig());
    torch::NoGradGuard no_grad;
    nan_model->named_parameters()["reduce_ab.0.weight"].fill_(NAN);
    SaveWeights(*nan_model, dir + "/nan.pt", {{"architecture", "scalenet"}, {"config", "tiny"}});
  }
  try {
    LoadWeights(model.get(), dir + "/nan.pt");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'reduce_ab.0.weight' holds NaN"), std::string::npos)
        << e.what();
  }
  // Wrong architecture: compact weights (input 128 -> 256 correlation channels) into the
  // 96-input model (144 correlation channels): the error names the mis-shaped tensor.
  const std::string compact = SaveRandomWeights(ScaleNetConfig::Compact(), "compact2");
  try {
    LoadWeights(model.get(), compact);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("reduce_ab.0.weight"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("shape"), std::string::npos) << e.what();
  }
  // Missing tensor: a module with an extra parameter.
  struct Extra : torch::nn::Module {
    Extra() { register_parameter("not_in_file", torch::zeros({2})); }
  } extra;
  try {
    LoadWeights(&extra, good);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not_in_file"), std::string::npos) << e.what();
  }
}

TEST(ScalePairs, GroundTruthScaleMatchesTheZoom) {
  // No perspective, no rotation: the GT (mean sqrt|det J|) must be the drawn zoom exactly.
  std::vector<std::string> paths;
  for (int i = 0; i < 2; ++i) {
    paths.push_back(test::SyntheticSceneDir() + "/images/000" + std::to_string(i) + ".png");
  }
  ScalePairOptions options;
  options.max_corner_jitter = 0;
  options.max_rotation_deg = 0;
  ScalePairGenerator generator(paths, options);
  std::mt19937 rng(3);
  for (int i = 0; i < 20; ++i) {
    const ScalePair p = generator.Sample(&rng);
    EXPECT_EQ(p.a.rows, 128);
    EXPECT_EQ(p.b.cols, 128);
    EXPECT_NEAR(std::log2(p.scale), std::log2(p.nominal_scale), 1e-6);
    EXPECT_LE(std::abs(std::log2(p.scale)), 3.0 + 1e-6);
  }
}

TEST(ScaleNetTrainOptions, PairGeometryOptionsOutOfRangeAreClearErrors) {
  ScaleNetTrainOptions o;
  o.data_path = test::SyntheticSceneDir() + "/images";
  o.output_path = test::MakeTempDir("scalenet_train_options") + "/model.pt";
  EXPECT_NO_THROW(o.Check());
  o.max_corner_jitter = 0.5;
  try {
    o.Check();
    FAIL() << "a corner jitter of half the canvas was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--max_corner_jitter"), std::string::npos) << e.what();
  }
  o.max_corner_jitter = 0.15;
  o.max_rotation_deg = -1;
  EXPECT_THROW(o.Check(), Error);
  // The paper config takes official RGB crops, not the trainer's grey letterboxed pairs.
  o.max_rotation_deg = 10;
  o.config = "paper";
  try {
    o.Check();
    FAIL() << "--config paper was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("convert_official_weights.py"), std::string::npos)
        << e.what();
  }
}

TEST(ScalePairs, LargeZoomsDrawSourcesBigEnoughToStaySharp) {
  // A 200 px and a 1200 px image: a zoom of 8 on the 128 px canvas needs a wide view of at least
  // 128 * 8 / 1.6 = 640 source pixels, which only the big image has.
  const std::string dir = test::MakeTempDir("scale_pairs");
  std::vector<std::string> paths;
  for (const int side : {200, 1200}) {
    cv::Mat noise(side, side, CV_8U);
    cv::randu(noise, 0, 255);
    paths.push_back(dir + "/noise" + std::to_string(side) + ".png");
    cv::imwrite(paths.back(), noise);
  }
  ScalePairOptions options;
  std::mt19937 rng(5);
  double largest = 0;
  int large_zooms = 0;
  const ScalePairGenerator limited(paths, options);
  for (int i = 0; i < 200; ++i) {
    const ScalePair p = limited.Sample(&rng);
    EXPECT_LE(p.zoom_magnification, options.max_zoom_magnification + 1e-9);
    largest = std::max(largest, std::abs(std::log2(p.nominal_scale)));
    if (std::abs(std::log2(p.nominal_scale)) > 2.5) ++large_zooms;
  }
  EXPECT_GT(largest, 2.8);  // the limit does not cut the scale range
  EXPECT_GT(large_zooms, 10);

  // Without the limit the same draws upsample the zoomed view well beyond it.
  options.max_zoom_magnification = 0;
  const ScalePairGenerator unlimited(paths, options);
  double most = 0;
  for (int i = 0; i < 200; ++i) most = std::max(most, unlimited.Sample(&rng).zoom_magnification);
  EXPECT_GT(most, 3.0);
}

}  // namespace
}  // namespace scalesfm
