// Official weights give the official outputs. tests/data/golden/ holds what the official model
// code (axelBarroso/ScaleNet, germain-hug/S2DNet-Minimal, sunjiayuanro/SCFeat,
// ActiveVisionLab/DualRC-Net; run outside the repository, see docs/BENCHMARKS.md "Golden
// fixtures" and each fixture JSON's "procedure") computed from small images with seeded
// weights. Each test rebuilds the same weights in the official release format
// (tests/make_official_checkpoint.py, which first checks the converter's layout against the
// official names and shapes), converts them with scripts/convert_official_weights.py, runs our
// `paper` config, and compares every output: from the official input tensors, and end to end
// from the image files through our preprocessing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <opencv2/imgproc.hpp>

#include "feature/image_io.h"
#include "feature/network_input.h"
#include "feature/scfeat_extractor.h"
#include "feature/scfeat_keypoints.h"
#include "feature/scfeat_model.h"
#include "matching/dualrc_model.h"
#include "matching/s2dnet_model.h"
#include "scale/scale_distribution.h"
#include "scale/scalenet.h"
#include "scale/scalenet_estimator.h"
#include "scale/scalenet_input.h"
#include "tests/test_util.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {
namespace {

namespace fs = std::filesystem;
using Tensors = std::map<std::string, torch::Tensor>;

// Relative tolerance: max |ours - official| over max |official|, per output.
constexpr double kTolerance = 1e-4;

std::string Golden(const std::string& file) {
  return std::string(SCALESFM_SOURCE_DIR) + "/tests/data/golden/" + file;
}

Tensors LoadTensorDict(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
  const c10::IValue value = torch::pickle_load(bytes);
  Tensors out;
  for (const auto& item : value.toGenericDict()) {
    out[item.key().toStringRef()] = item.value().toTensor();
  }
  return out;
}

// Expects `ours` to equal the official `name` within kTolerance and logs the differences.
void ExpectMatches(const std::string& model, const std::string& name, const torch::Tensor& ours,
                   const Tensors& golden) {
  ASSERT_TRUE(golden.count(name)) << model << " fixture lacks " << name;
  const torch::Tensor ref = golden.at(name).to(torch::kFloat64);
  ASSERT_EQ(ours.numel(), ref.numel()) << model << " " << name;
  if (ours.dim() == ref.dim()) {
    ASSERT_EQ(ours.sizes(), ref.sizes()) << model << " " << name;
  }
  const torch::Tensor got = ours.detach().cpu().to(torch::kFloat64).reshape(ref.sizes());
  const double max_abs = (got - ref).abs().max().item<double>();
  const double scale = ref.abs().max().item<double>();
  const double rel = max_abs / std::max(scale, 1e-30);
  std::printf("[golden] %-8s %-28s max_abs %.3g  max|official| %.3g  rel %.3g\n", model.c_str(),
              name.c_str(), max_abs, scale, rel);
  EXPECT_LE(rel, kTolerance) << model << " " << name << ": max abs difference " << max_abs
                             << " against max |official| " << scale;
}

torch::Tensor Every(const torch::Tensor& t, int step) {
  using torch::indexing::Slice;
  return t.index({"...", Slice(torch::indexing::None, torch::indexing::None, step),
                  Slice(torch::indexing::None, torch::indexing::None, step)});
}

// Every `channel_step`th channel at every `pixel_step`th pixel.
torch::Tensor EveryChannel(const torch::Tensor& t, int channel_step, int pixel_step) {
  using torch::indexing::None;
  using torch::indexing::Slice;
  return Every(t.index({Slice(), Slice(None, None, channel_step)}), pixel_step);
}

torch::Tensor ChannelStats(const torch::Tensor& t) {
  return torch::stack({t.mean({0, 2, 3}), t.std({0, 2, 3})});
}

cv::Mat ReadRgb(const std::string& path) { return ReadImageOrThrow(path, 3); }

// Official-format checkpoint with the fixture's seeded weights, converted to `paper` weights.
std::string ConvertedWeights(const std::string& model, const std::string& dir) {
  const std::string src = std::string(SCALESFM_SOURCE_DIR);
  const std::string official = dir + "/official_" + model;
  std::string log;
  EXPECT_EQ(test::RunCommand("/usr/bin/python3 " + src + "/tests/make_official_checkpoint.py " +
                                 "--model " + model + " --golden " + Golden(model + ".json") + " " +
                                 official,
                             &log),
            0)
      << log;
  std::string convert = "/usr/bin/python3 " + src + "/scripts/convert_official_weights.py " +
                        "--model " + model + " --input " + official;
  if (model == "scalenet") convert += " --vgg16 " + official + ".vgg16.pth";
  const std::string out = dir + "/" + model + "_paper.pt";
  EXPECT_EQ(test::RunCommand(convert + " --output " + out, &log), 0) << log;
  fs::remove_all(official);  // the full-size checkpoints are large
  fs::remove(official + ".vgg16.pth");
  return out;
}

TEST(GoldenParity, ScaleNetPaperConfigGivesTheOfficialOutputs) {
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  torch::NoGradGuard no_grad;
  const Tensors golden = LoadTensorDict(Golden("scalenet.pt"));
  const std::string weights = ConvertedWeights("scalenet", test::MakeTempDir("golden_scalenet"));
  ASSERT_TRUE(fs::exists(weights));
  ScaleNet model(ScaleNetConfig::Paper());
  LoadWeights(model.get(), weights);
  model->eval();

  // Preprocessing: our official-style crop + bilinear resize gives the official 240 px crops
  // pixel for pixel (both are OpenCV's INTER_LINEAR on the same 8-bit pixels).
  const cv::Mat a = ReadRgb(Golden("scalenet_a.png")), b = ReadRgb(Golden("scalenet_b.png"));
  const int crop = std::min({a.cols, a.rows, b.cols, b.rows});
  const torch::Tensor ia = OfficialScaleNetInput(a, crop, 240);
  const torch::Tensor ib = OfficialScaleNetInput(b, crop, 240);
  const torch::Tensor ta = ImageToNetworkInput(ReadRgb(Golden("scalenet_a_240.png")), 1, 3,
                                               NetworkInputFit::kPad, "ScaleNet");
  const torch::Tensor tb = ImageToNetworkInput(ReadRgb(Golden("scalenet_b_240.png")), 1, 3,
                                               NetworkInputFit::kPad, "ScaleNet");
  EXPECT_EQ((ia - ta).abs().max().item<float>(), 0.f) << "crop/resize differs from get_scale()";
  EXPECT_EQ((ib - tb).abs().max().item<float>(), 0.f) << "crop/resize differs from get_scale()";
  ExpectMatches("scalenet", "input_a_slice", Every(ia, 8), golden);
  ExpectMatches("scalenet", "input_b_slice", Every(ib, 8), golden);

  // From the official input tensors.
  using torch::indexing::Slice;
  const ScaleNetImageFeatures fa = model->ExtractFeatures(ta), fb = model->ExtractFeatures(tb);
  ExpectMatches("scalenet", "features_a_every8th_channel",
                fa.features.index({Slice(), Slice(0, torch::indexing::None, 8)}), golden);
  ExpectMatches("scalenet", "features_b_every8th_channel",
                fb.features.index({Slice(), Slice(0, torch::indexing::None, 8)}), golden);
  const torch::Tensor logits_ab = model->PairLogits(fa, fb);
  const torch::Tensor logits_ba = model->PairLogits(fb, fa);
  ExpectMatches("scalenet", "logits_ab", logits_ab, golden);
  ExpectMatches("scalenet", "logits_ba", logits_ba, golden);
  // With random weights most of each logit is a constant offset (A->B and B->A differ by 2% of
  // the largest logit), so the part that depends on which image is which is compared on its own.
  {
    const torch::Tensor ours_diff = (logits_ab - logits_ba).to(torch::kFloat64);
    const torch::Tensor ref_diff =
        (golden.at("logits_ab") - golden.at("logits_ba")).to(torch::kFloat64);
    const double rel =
        (ours_diff - ref_diff).abs().max().item<double>() / ref_diff.abs().max().item<double>();
    std::printf("[golden] %-8s %-28s rel %.3g (of max |official| %.3g)\n", "scalenet",
                "logits_ab - logits_ba", rel, ref_diff.abs().max().item<double>());
    EXPECT_LE(rel, 1e-3);
  }
  ExpectMatches("scalenet", "distribution_ab", torch::softmax(logits_ab, 1), golden);

  // End to end from the image files: the estimator with the converted weights.
  ScaleEstimatorOptions options;
  options.estimator = "scalenet";
  options.weights = weights;
  options.device = "cpu";
  const std::unique_ptr<ScaleEstimator> estimator = ScaleEstimator::Create(options);
  ASSERT_EQ(estimator->InputChannels(), 3);
  const ScaleEstimate e = estimator->EstimateImages(a, b);
  ExpectMatches("scalenet", "scale", torch::tensor({e.scale}), golden);
  // Random weights give scales near 1 (here 0.9994), so the relative test above is weak; the
  // log-scale must agree to float precision.
  EXPECT_NEAR(std::log(e.scale), std::log(golden.at("scale").item<double>()), 1e-6);
  ExpectMatches("scalenet", "distribution_ab", torch::tensor(e.probs).view({1, -1}), golden);
  // The pair crop is the shorter image's side; with the images swapped the crop is the same and
  // the estimate inverts.
  const ScaleEstimate inverse = estimator->EstimateImages(b, a);
  EXPECT_NEAR(std::log(inverse.scale), -std::log(e.scale), 1e-5);
  // From the files, as pipelines encode (EncodeFile keeps the path and reads image A again for
  // the pair's crop): the same estimate.
  const ScaleEstimate from_files =
      estimator->Estimate(*estimator->EncodeFile(Golden("scalenet_a.png")),
                          *estimator->EncodeFile(Golden("scalenet_b.png")));
  EXPECT_EQ(from_files.scale, e.scale);
  // D-ScaleNet with the same weights: the centre of the official distribution's argmax bin.
  options.estimator = "dscalenet";
  const ScaleEstimate hard = ScaleEstimator::Create(options)->EstimateImages(a, b);
  const int official_bin = golden.at("distribution_ab").argmax(1).item<int>();
  EXPECT_EQ(hard.bin, official_bin);
  EXPECT_NEAR(hard.scale, std::pow(std::sqrt(2.0), official_bin - 6), 1e-9);
}

TEST(GoldenParity, S2DNetPaperConfigGivesTheOfficialOutputs) {
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  torch::NoGradGuard no_grad;
  const Tensors golden = LoadTensorDict(Golden("s2dnet.pt"));
  const std::string weights = ConvertedWeights("s2dnet", test::MakeTempDir("golden_s2dnet"));
  ASSERT_TRUE(fs::exists(weights));
  S2DNet model = LoadS2DNet(weights);
  ASSERT_EQ(model->config().name, "paper");
  auto check = [&](const std::vector<torch::Tensor>& maps) {
    ASSERT_EQ(maps.size(), 3u);
    ExpectMatches("s2dnet", "level0_slice", Every(maps[0], 4), golden);
    ExpectMatches("s2dnet", "level0_stats", ChannelStats(maps[0]), golden);
    ExpectMatches("s2dnet", "level1_slice", Every(maps[1], 2), golden);
    ExpectMatches("s2dnet", "level1_stats", ChannelStats(maps[1]), golden);
    ExpectMatches("s2dnet", "level2", maps[2], golden);
  };
  check(model->forward(golden.at("input")));  // from the official input tensor
  // End to end: the RGB file through our preprocessing (its sides are multiples of 16).
  const torch::Tensor input = S2DNetInput(ReadRgb(Golden("s2dnet.png")), model->config());
  ExpectMatches("s2dnet", "input", input, golden);
  check(model->forward(input));
}

TEST(GoldenParity, ScfeatPaperConfigGivesTheOfficialOutputs) {
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  torch::NoGradGuard no_grad;
  const Tensors golden = LoadTensorDict(Golden("scfeat.pt"));
  const std::string weights = ConvertedWeights("scfeat", test::MakeTempDir("golden_scfeat"));
  ASSERT_TRUE(fs::exists(weights));
  Scfeat model = LoadScfeat(weights);
  ASSERT_EQ(model->config().name, "paper");
  auto check = [&](const torch::Tensor& input) {
    const ScfeatDescription d = model->Describe(input);
    ExpectMatches("scfeat", "first", d.first, golden);
    ExpectMatches("scfeat", "desc", d.desc, golden);
    ExpectMatches("scfeat", "cn", d.cn, golden);
    ExpectMatches("scfeat", "score", model->Detect(d, input), golden);
    // Descriptors at fixed pixels, sampled as the official extractor samples them.
    const int w = static_cast<int>(input.size(3)), h = static_cast<int>(input.size(2));
    ExpectMatches("scfeat", "descriptors",
                  SampleDescriptors(d.desc, golden.at("points"), w, h,
                                    model->config().official_sampling_grid),
                  golden);
  };
  check(golden.at("input"));  // from the official input tensor
  // End to end: the 70 x 100 RGB file, cropped to 64 x 96 as the official loader does.
  const torch::Tensor input = ScfeatInput(ReadRgb(Golden("scfeat.png")), model->config());
  ASSERT_EQ(input.sizes(), golden.at("input").sizes());
  ExpectMatches("scfeat", "input", input, golden);
  check(input);
}

TEST(GoldenParity, DualRcNetPaperConfigGivesTheOfficialOutputs) {
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  torch::NoGradGuard no_grad;
  const Tensors golden = LoadTensorDict(Golden("dualrc.pt"));
  const std::string weights = ConvertedWeights("dualrc", test::MakeTempDir("golden_dualrc"));
  ASSERT_TRUE(fs::exists(weights));
  DualRcNet model = LoadDualRcNet(weights);
  ASSERT_EQ(model->config().name, "paper");
  const auto consensus =
      std::dynamic_pointer_cast<NeighConsensusImpl>(model->named_children()["NeighConsensus"]);
  ASSERT_TRUE(consensus);
  // Every stage of ImMatchNet.forward: the L2-normalised fine (1/4) and coarse (1/16) maps, the
  // correlation C, M(C), N(M(C)) and C_bar = M(N(M(C))).
  auto check = [&](const torch::Tensor& image_a, const torch::Tensor& image_b) {
    const std::vector<torch::Tensor> a = model->Features(image_a), b = model->Features(image_b);
    ASSERT_EQ(a.size(), 2u);
    ExpectMatches("dualrc", "fine_a_slice", EveryChannel(a[0], 8, 4), golden);
    ExpectMatches("dualrc", "fine_a_stats", ChannelStats(a[0]), golden);
    ExpectMatches("dualrc", "fine_b_slice", EveryChannel(b[0], 8, 4), golden);
    ExpectMatches("dualrc", "fine_b_stats", ChannelStats(b[0]), golden);
    ExpectMatches("dualrc", "coarse_a_slice", EveryChannel(a[1], 8, 1), golden);
    ExpectMatches("dualrc", "coarse_a_stats", ChannelStats(a[1]), golden);
    ExpectMatches("dualrc", "coarse_b_slice", EveryChannel(b[1], 8, 1), golden);
    ExpectMatches("dualrc", "coarse_b_stats", ChannelStats(b[1]), golden);
    const torch::Tensor raw = Correlation4d(a[1], b[1]);
    ExpectMatches("dualrc", "corr4d_raw", raw, golden);
    const torch::Tensor mm1 = MutualMatching(raw);
    ExpectMatches("dualrc", "corr4d_mm1", mm1, golden);
    ExpectMatches("dualrc", "corr4d_nc", consensus->forward(mm1), golden);
    ExpectMatches("dualrc", "corr4d", model->FilterCorrelation(a[1], b[1]), golden);
  };
  check(golden.at("input_a"), golden.at("input_b"));  // from the official input tensors
  // End to end: the RGB files through our preprocessing (their sides are multiples of 16).
  const torch::Tensor input_a = DualRcNetInput(ReadRgb(Golden("dualrc_a.png")), model->config());
  const torch::Tensor input_b = DualRcNetInput(ReadRgb(Golden("dualrc_b.png")), model->config());
  ExpectMatches("dualrc", "input_a", input_a, golden);
  ExpectMatches("dualrc", "input_b", input_b, golden);
  check(input_a, input_b);
  // The model's forward (ImMatchNet.forward's three outputs).
  const DualRcOutput out = model->forward(input_a, input_b);
  ExpectMatches("dualrc", "corr4d", out.corr4d, golden);
  ExpectMatches("dualrc", "fine_a_slice", EveryChannel(out.fine_a, 8, 4), golden);
  ExpectMatches("dualrc", "fine_b_slice", EveryChannel(out.fine_b, 8, 4), golden);
}

}  // namespace
}  // namespace scalesfm
