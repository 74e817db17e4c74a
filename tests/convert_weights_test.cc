// scripts/convert_official_weights.py maps the official ScaleNet names onto ours: a synthetic
// checkpoint with the official names and shapes converts and loads into the `paper` config.
#include <gtest/gtest.h>

#include <filesystem>

#include "feature/scfeat_model.h"
#include "matching/s2dnet_model.h"
#include "scale/scalenet.h"
#include "tests/test_util.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {
namespace {

bool HavePythonTorch() { return test::RunCommand("/usr/bin/python3 -c 'import torch'") == 0; }

TEST(ConvertOfficialWeights, ScaleNetCheckpointLoadsIntoThePaperConfig) {
  if (!HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert");
  const std::string src = std::string(SCALESFM_SOURCE_DIR);
  std::string log;
  ASSERT_EQ(
      test::RunCommand("/usr/bin/python3 " + src + "/tests/make_official_scalenet_checkpoint.py " +
                           dir + "/official.pth",
                       &log),
      0)
      << log;
  ASSERT_EQ(test::RunCommand("/usr/bin/python3 " + src +
                                 "/scripts/convert_official_weights.py --model scalenet --input " +
                                 dir + "/official.pth --output " + dir + "/paper.pt",
                             &log),
            0)
      << log;
  EXPECT_EQ(ReadSidecar(dir + "/paper.pt").at("config"), "paper");
  ScaleNet model(ScaleNetConfig::Paper());
  LoadWeights(model.get(), dir + "/paper.pt");
  // Values arrive where they belong: the official BN running variance of to_distr.15 was
  // drawn in [0.5, 1.5); our head.15 is that layer.
  const torch::Tensor var = model->named_buffers()["head.15.running_var"];
  EXPECT_GE(var.min().item<float>(), 0.5f);
  EXPECT_EQ(model->named_buffers()["head.15.num_batches_tracked"].item<int64_t>(), 7);
  // A forward pass runs at the official input size.
  model->eval();
  const torch::Tensor logits =
      model->forward(torch::randn({1, 3, 240, 240}), torch::randn({1, 3, 240, 240}));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{1, 13}));
}

TEST(ConvertOfficialWeights, ScfeatCheckpointFolderLoadsIntoThePaperConfig) {
  if (!HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert_scfeat");
  const std::string src = std::string(SCALESFM_SOURCE_DIR);
  std::string log;
  ASSERT_EQ(test::RunCommand("/usr/bin/python3 " + src +
                                 "/tests/make_official_scfeat_checkpoint.py " + dir + "/official",
                             &log),
            0)
      << log;
  ASSERT_EQ(test::RunCommand("/usr/bin/python3 " + src +
                                 "/scripts/convert_official_weights.py --model scfeat --input " +
                                 dir + "/official --output " + dir + "/paper.pt",
                             &log),
            0)
      << log;
  EXPECT_EQ(ReadSidecar(dir + "/paper.pt").at("architecture"), "scfeat");
  Scfeat model(ScfeatConfig::Paper());
  LoadWeights(model.get(), dir + "/paper.pt");  // every tensor present, every shape right
  // Values arrive where they belong: the official fuse weights and PReLU slope.
  EXPECT_FLOAT_EQ(model->named_parameters()["cross_norm.fuse_weight_2"].item<float>(), 0.25f);
  EXPECT_FLOAT_EQ(model->named_parameters()["detector.relu.weight"].item<float>(), 0.2f);
  EXPECT_EQ(model->named_buffers()["layer3.5.bn3.num_batches_tracked"].item<int64_t>(), 3);
  model->eval();
  const torch::Tensor x = torch::randn({1, 3, 64, 64});
  const ScfeatDescription d = model->Describe(x);
  EXPECT_EQ(model->Detect(d, x).sizes(), (std::vector<int64_t>{1, 1, 64, 64}));
  // A folder without localheader.pth is refused.
  std::filesystem::remove(dir + "/official/localheader.pth");
  EXPECT_NE(test::RunCommand("/usr/bin/python3 " + src +
                                 "/scripts/convert_official_weights.py --model scfeat --input " +
                                 dir + "/official --output " + dir + "/again.pt",
                             &log),
            0);
  EXPECT_NE(log.find("lacks localheader.pth"), std::string::npos) << log;
}

TEST(ConvertOfficialWeights, S2DNetCheckpointLoadsIntoThePaperConfig) {
  if (!HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert_s2dnet");
  const std::string src = std::string(SCALESFM_SOURCE_DIR);
  std::string log;
  ASSERT_EQ(test::RunCommand("/usr/bin/python3 " + src +
                                 "/tests/make_official_s2dnet_checkpoint.py " + dir + "/s2d.pth",
                             &log),
            0)
      << log;
  ASSERT_EQ(test::RunCommand("/usr/bin/python3 " + src +
                                 "/scripts/convert_official_weights.py --model s2dnet --input " +
                                 dir + "/s2d.pth --output " + dir + "/paper.pt",
                             &log),
            0)
      << log;
  S2DNet model = LoadS2DNet(dir + "/paper.pt");  // every tensor present, every shape right
  EXPECT_EQ(model->config().name, "paper");
  EXPECT_EQ(model->named_buffers()["adaptation_layers.adap_layer_2.3.num_batches_tracked"]
                .item<int64_t>(),
            7);
  const std::vector<torch::Tensor> maps = model->forward(torch::randn({1, 3, 32, 48}));
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_EQ(maps[0].sizes(), (std::vector<int64_t>{1, 128, 32, 48}));
  EXPECT_EQ(maps[2].sizes(), (std::vector<int64_t>{1, 128, 2, 3}));
  // A checkpoint with other extraction points is refused.
  ASSERT_EQ(
      test::RunCommand("/usr/bin/python3 " + src + "/tests/make_official_s2dnet_checkpoint.py " +
                           dir + "/other.pth conv2_2 conv3_3 conv5_3",
                       &log),
      0)
      << log;
  EXPECT_NE(test::RunCommand("/usr/bin/python3 " + src +
                                 "/scripts/convert_official_weights.py --model s2dnet --input " +
                                 dir + "/other.pth --output " + dir + "/other.pt",
                             &log),
            0);
  EXPECT_NE(log.find("hypercolumn layers"), std::string::npos) << log;
}

TEST(ConvertOfficialWeights, IncompleteCheckpointIsRejected) {
  if (!HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert");
  std::string log;
  ASSERT_EQ(test::RunCommand("/usr/bin/python3 -c \"import torch; torch.save({'x': "
                             "torch.zeros(1)}, '" +
                                 dir + "/bad.pth')\"",
                             &log),
            0)
      << log;
  EXPECT_NE(test::RunCommand("/usr/bin/python3 " + std::string(SCALESFM_SOURCE_DIR) +
                                 "/scripts/convert_official_weights.py --model scalenet --input " +
                                 dir + "/bad.pth --output " + dir + "/out.pt",
                             &log),
            0);
  EXPECT_NE(log.find("lacks official tensors"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.pt"));
}

}  // namespace
}  // namespace scalesfm
