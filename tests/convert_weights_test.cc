// scripts/convert_official_weights.py reads the official release formats, checks every tensor's
// name and shape against the official layout (naming the offender), and maps the names onto our
// `paper` configs. Checkpoints come from tests/make_official_checkpoint.py; whether the converted
// weights give the official outputs is tests/golden_parity_test.cc's job.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "feature/scfeat_model.h"
#include "matching/dualrc_model.h"
#include "matching/s2dnet_model.h"
#include "scale/scalenet.h"
#include "tests/test_util.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {
namespace {

const std::string kSource = SCALESFM_SOURCE_DIR;

// tests/make_official_checkpoint.py: a checkpoint in an official format, seeded weights.
int MakeOfficial(const std::string& args, std::string* log) {
  return test::RunCommand(
      "/usr/bin/python3 " + kSource + "/tests/make_official_checkpoint.py " + args, log);
}

int Convert(const std::string& args, std::string* log) {
  return test::RunCommand(
      "/usr/bin/python3 " + kSource + "/scripts/convert_official_weights.py " + args, log);
}

TEST(ConvertOfficialWeights, ReleasedScaleNetCheckpointPlusVgg16LoadsIntoThePaperConfig) {
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert");
  std::string log;
  // run_scalenet.py's format: checkpoint["state_dict"] is model.to_scale's (no prefix); the
  // backbone is torchvision's VGG-16.
  ASSERT_EQ(MakeOfficial("--model scalenet --format release " + dir + "/scalenet.pth", &log), 0)
      << log;
  ASSERT_EQ(Convert("--model scalenet --input " + dir + "/scalenet.pth --vgg16 " + dir +
                        "/scalenet.pth.vgg16.pth --output " + dir + "/paper.pt",
                    &log),
            0)
      << log;
  EXPECT_EQ(ReadSidecar(dir + "/paper.pt").at("config"), "paper");
  ScaleNet model(ScaleNetConfig::Paper());
  LoadWeights(model.get(), dir + "/paper.pt");
  // Values arrive where they belong: the official BN running variances were drawn in
  // [0.75, 1.25) (tests/seeded_weights.py); our head.15 is to_distr.15.
  const torch::Tensor var = model->named_buffers()["head.15.running_var"];
  EXPECT_GE(var.min().item<float>(), 0.75f);
  EXPECT_EQ(model->named_buffers()["head.15.num_batches_tracked"].item<int64_t>(), 7);
  model->eval();
  const torch::Tensor logits =
      model->forward(torch::randn({1, 3, 240, 240}), torch::randn({1, 3, 240, 240}));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{1, 13}));
  // The released file alone is refused with a pointer to --vgg16.
  EXPECT_NE(
      Convert("--model scalenet --input " + dir + "/scalenet.pth --output " + dir + "/no_vgg.pt",
              &log),
      0);
  EXPECT_NE(log.find("--vgg16"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(dir + "/no_vgg.pt"));
}

TEST(ConvertOfficialWeights, TrainingFormatScaleNetCheckpointConverts) {
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert");
  std::string log;
  // train_ScaleNet.py saves model.state_dict() (extractor.*, to_scale.*); a DataParallel model
  // adds module. to every name.
  for (const std::string flag : {"", "--data_parallel "}) {
    ASSERT_EQ(MakeOfficial("--model scalenet --format training " + flag + dir + "/train.pth", &log),
              0)
        << log;
    ASSERT_EQ(
        Convert("--model scalenet --input " + dir + "/train.pth --output " + dir + "/p.pt", &log),
        0)
        << flag << log;
    ScaleNet model(ScaleNetConfig::Paper());
    LoadWeights(model.get(), dir + "/p.pt");
  }
  // With the whole model, --vgg16 would be a second backbone: refused.
  EXPECT_NE(Convert("--model scalenet --input " + dir + "/train.pth --vgg16 " + dir +
                        "/train.pth --output " + dir + "/q.pt",
                    &log),
            0);
  EXPECT_NE(log.find("whole model"), std::string::npos) << log;
}

TEST(ConvertOfficialWeights, MissingAndMisShapedTensorsAreNamed) {
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert");
  std::string log;
  ASSERT_EQ(MakeOfficial("--model scalenet --format release " + dir + "/s.pth", &log), 0) << log;
  // Same-shape swaps pass every shape check; a transposed 1x1 conv, a dropped BN mean and a tensor
  // the official model does not have do not.
  ASSERT_EQ(test::RunCommand("/usr/bin/python3 -c \"import torch; c = torch.load('" + dir +
                                 "/s.pth'); sd = c['state_dict']; "
                                 "sd['to_distr.3.weight'] = sd['to_distr.3.weight'].transpose(0, "
                                 "1).contiguous(); del sd['reduce_vol_a_dim.4.running_mean']; "
                                 "sd['to_distr.20.weight'] = torch.zeros(3); "
                                 "torch.save(c, '" +
                                 dir + "/s.pth')\"",
                             &log),
            0)
      << log;
  EXPECT_NE(Convert("--model scalenet --input " + dir + "/s.pth --vgg16 " + dir +
                        "/s.pth.vgg16.pth --output " + dir + "/out.pt",
                    &log),
            0);
  EXPECT_NE(log.find("to_scale.to_distr.3.weight has shape [2056, 1024, 1, 1], expected [1024, "
                     "2056, 1, 1]"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("to_scale.reduce_vol_a_dim.4.running_mean is missing"), std::string::npos)
      << log;
  EXPECT_NE(log.find("to_scale.to_distr.20.weight [3] is not in the official layout"),
            std::string::npos)
      << log;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.pt"));
}

TEST(ConvertOfficialWeights, ScfeatCheckpointFolderLoadsIntoThePaperConfig) {
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert_scfeat");
  const std::string src = std::string(SCALESFM_SOURCE_DIR);
  std::string log;
  ASSERT_EQ(MakeOfficial("--model scfeat " + dir + "/official", &log), 0) << log;
  ASSERT_EQ(test::RunCommand("/usr/bin/python3 " + src +
                                 "/scripts/convert_official_weights.py --model scfeat --input " +
                                 dir + "/official --output " + dir + "/paper.pt",
                             &log),
            0)
      << log;
  EXPECT_EQ(ReadSidecar(dir + "/paper.pt").at("architecture"), "scfeat");
  Scfeat model(ScfeatConfig::Paper());
  LoadWeights(model.get(), dir + "/paper.pt");  // every tensor present, every shape right
  // Values arrive where they belong (tests/golden_parity_test.cc checks every output): the fuse
  // weights and the PReLU slope were drawn in [0.75, 1.25), each from its own name.
  const float w1 = model->named_parameters()["cross_norm.fuse_weight_1"].item<float>();
  const float w2 = model->named_parameters()["cross_norm.fuse_weight_2"].item<float>();
  EXPECT_GE(std::min(w1, w2), 0.75f);
  EXPECT_NE(w1, w2);
  EXPECT_GE(model->named_parameters()["detector.relu.weight"].item<float>(), 0.75f);
  EXPECT_EQ(model->named_buffers()["layer3.5.bn3.num_batches_tracked"].item<int64_t>(), 7);
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
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert_s2dnet");
  const std::string src = std::string(SCALESFM_SOURCE_DIR);
  std::string log;
  ASSERT_EQ(MakeOfficial("--model s2dnet " + dir + "/s2d.pth", &log), 0) << log;
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
  ASSERT_EQ(MakeOfficial(
                "--model s2dnet --hypercolumn_layers conv2_2 conv3_3 conv5_3 " + dir + "/other.pth",
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
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert");
  std::string log;
  ASSERT_EQ(test::RunCommand("/usr/bin/python3 -c \"import torch; torch.save({'x': "
                             "torch.zeros(1)}, '" +
                                 dir + "/bad.pth')\"",
                             &log),
            0)
      << log;
  EXPECT_NE(Convert("--model s2dnet --input " + dir + "/bad.pth --output " + dir + "/out.pt", &log),
            0);
  EXPECT_NE(log.find("does not fit the official layout"), std::string::npos) << log;
  EXPECT_NE(log.find("encoder.0.weight is missing (expected shape [64, 3, 3, 3])"),
            std::string::npos)
      << log;
  EXPECT_FALSE(std::filesystem::exists(dir + "/out.pt"));
}

// The official DualRC-Net names and shapes, as the official model code gave them when the golden
// fixture was recorded.
std::map<std::string, std::vector<int64_t>> OfficialDualRcShapes() {
  std::ifstream in(kSource + "/tests/data/golden/dualrc.json");
  const nlohmann::json golden = nlohmann::json::parse(in);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, shape] : golden.at("shapes").items()) {
    shapes[name] = shape.get<std::vector<int64_t>>();
  }
  return shapes;
}

TEST(ConvertOfficialWeights, DualRcNetConverterMapsEveryOfficialTensorName) {
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert_dualrc");
  const std::string golden = kSource + "/tests/data/golden/dualrc.json";
  std::string log;
  // train.py's format with its default multi_gpu: DataParallel's module. prefix on every name.
  // --golden first checks the converter's table against the official names and shapes.
  ASSERT_EQ(MakeOfficial("--model dualrc --data_parallel --golden " + golden + " " + dir +
                             "/official.pth.tar",
                         &log),
            0)
      << log;
  ASSERT_EQ(
      Convert("--model dualrc --input " + dir + "/official.pth.tar --output " + dir + "/paper.pt",
              &log),
      0)
      << log;
  const nlohmann::json sidecar = ReadSidecar(dir + "/paper.pt");
  EXPECT_EQ(sidecar.at("architecture"), "dualrc");
  EXPECT_EQ(sidecar.at("config"), "paper");
  const std::map<std::string, std::vector<int64_t>> official = OfficialDualRcShapes();
  EXPECT_EQ(official.size(), 574u);
  EXPECT_EQ(sidecar.at("converted_tensors").get<size_t>(), official.size());
  DualRcNet model = LoadDualRcNet(dir + "/paper.pt");  // every tensor present, every shape right
  EXPECT_EQ(model->config().name, "paper");
  // Our tensors are the official ones, name for name and shape for shape.
  std::map<std::string, std::vector<int64_t>> ours;
  for (const auto& p : model->named_parameters()) ours[p.key()] = p.value().sizes().vec();
  for (const auto& b : model->named_buffers()) ours[b.key()] = b.value().sizes().vec();
  for (const auto& [name, shape] : official) {
    ASSERT_TRUE(ours.count(name)) << name << " is not mapped onto our model";
    EXPECT_EQ(ours.at(name), shape) << name;
  }
  for (const auto& [name, shape] : ours) EXPECT_TRUE(official.count(name)) << name;
  // Values arrive where they belong: running variances were drawn in [0.75, 1.25).
  EXPECT_GE(model->named_buffers()["FeatureExtraction.extractor_list.2.0.22.bn3.running_var"]
                .min()
                .item<float>(),
            0.75f);
  EXPECT_EQ(model->named_buffers()["FeatureExtraction.extractor_list.0.1.num_batches_tracked"]
                .item<int64_t>(),
            7);

  // A Conv4d weight in the unpermuted [out, in, k, k, k, k] layout and a dropped BN variance
  // are errors that name the tensors (without the module. prefix).
  ASSERT_EQ(test::RunCommand("/usr/bin/python3 -c \"import torch; c = torch.load('" + dir +
                                 "/official.pth.tar'); sd = c['state_dict']; "
                                 "w = 'module.NeighConsensus.conv.0.weight'; "
                                 "sd[w] = sd[w].permute(1, 2, 0, 3, 4, 5).contiguous(); "
                                 "del sd['module.FeatureExtraction.extractor_list.2.0.22.bn3."
                                 "running_var']; torch.save(c, '" +
                                 dir + "/official.pth.tar')\"",
                             &log),
            0)
      << log;
  EXPECT_NE(
      Convert("--model dualrc --input " + dir + "/official.pth.tar --output " + dir + "/bad.pt",
              &log),
      0);
  EXPECT_NE(log.find("NeighConsensus.conv.0.weight has shape [16, 1, 3, 3, 3, 3], expected [3, "
                     "16, 1, 3, 3, 3]"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("FeatureExtraction.extractor_list.2.0.22.bn3.running_var is missing "
                     "(expected shape [1024])"),
            std::string::npos)
      << log;
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad.pt"));
}

TEST(ConvertOfficialWeights, DualRcNetCheckpointOfAnotherConfigIsRefused) {
  if (!test::HavePythonTorch()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const std::string dir = test::MakeTempDir("convert_dualrc");
  std::string log;
  // The official ImMatchNet builds its backbone from args.backbone: the 256-channel FPN is
  // another model.
  ASSERT_EQ(
      MakeOfficial("--model dualrc --backbone resnet101fpn_3_256_4 " + dir + "/b.pth.tar", &log), 0)
      << log;
  EXPECT_NE(Convert("--model dualrc --input " + dir + "/b.pth.tar --output " + dir + "/b.pt", &log),
            0);
  EXPECT_NE(log.find("backbone 'resnet101fpn_3_256_4'"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(dir + "/b.pt"));
  // So are other NC layers (args are read before any tensor: no weights needed).
  ASSERT_EQ(test::RunCommand("/usr/bin/python3 -c \"import argparse, torch; "
                             "torch.save({'state_dict': {}, 'args': argparse.Namespace("
                             "backbone='resnet101fpn_3_1024_4', ncons_kernel_sizes=[3, 3, 3], "
                             "ncons_channels=[10, 10, 1], multi_gpu=True)}, '" +
                                 dir + "/nc.pth.tar')\"",
                             &log),
            0)
      << log;
  EXPECT_NE(
      Convert("--model dualrc --input " + dir + "/nc.pth.tar --output " + dir + "/b.pt", &log), 0);
  EXPECT_NE(log.find("ncons_kernel_sizes [3, 3, 3]"), std::string::npos) << log;
  EXPECT_NE(log.find("ncons_channels [10, 10, 1]"), std::string::npos) << log;
  EXPECT_FALSE(std::filesystem::exists(dir + "/b.pt"));
}

}  // namespace
}  // namespace scalesfm
