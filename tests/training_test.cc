#include "training/training.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/test_util.h"
#include "training/sidecar.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {
namespace {

struct TinyImpl : torch::nn::Module {
  TinyImpl() { linear = register_module("linear", torch::nn::Linear(3, 2)); }
  torch::nn::Linear linear{nullptr};
};
TORCH_MODULE(Tiny);

// --init_weights starts a run from given weights; the run's own checkpoint, once written, wins,
// so a re-run resumes instead of starting over; a wrong file is a clear error.
TEST(TrainingCheckpoint, InitWeightsStartARunAndTheCheckpointWinsOnResume) {
  const std::string dir = test::MakeTempDir("training");
  torch::manual_seed(1);
  Tiny trained;
  const std::string init = dir + "/trained.pt";
  SaveWeights(*trained, init, {{"architecture", "tiny"}});

  torch::manual_seed(2);
  Tiny model;
  ASSERT_FALSE(torch::equal(model->linear->weight, trained->linear->weight));
  const TrainingCheckpoint checkpoint(dir + "/run.pt");
  EXPECT_EQ(checkpoint.LoadModel(model.get(), init), 0);
  EXPECT_TRUE(torch::equal(model->linear->weight, trained->linear->weight));

  torch::NoGradGuard no_grad;
  model->linear->weight.add_(1.0);  // "training"
  torch::optim::SGD optimizer(model->parameters(), 0.1);
  checkpoint.Save(*model, optimizer, 7);
  Tiny resumed;
  EXPECT_EQ(checkpoint.LoadModel(resumed.get(), init), 7);
  EXPECT_TRUE(torch::equal(resumed->linear->weight, model->linear->weight));

  EXPECT_THROW(TrainingCheckpoint(dir + "/other.pt").LoadModel(resumed.get(), dir + "/missing.pt"),
               Error);
}

// --output_path in a folder that does not exist yet: the run creates it up front (it used to
// fail at the first checkpoint with LibTorch's stack trace); a folder that cannot be created
// is a clear error before any training.
TEST(TrainingRunOptions, CreateTheOutputFolderOrFailClearly) {
  const std::string dir = test::MakeTempDir("training_output");
  TrainingRunOptions o;
  o.data_path = dir;
  o.output_path = dir + "/new/sub/weights.pt";
  o.device = "cpu";
  o.CheckRun("train_test");
  EXPECT_TRUE(std::filesystem::is_directory(dir + "/new/sub"));
  std::ofstream(dir + "/a_file") << "x";
  o.output_path = dir + "/a_file/weights.pt";
  try {
    o.CheckRun("train_test");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create the folder of --output_path"),
              std::string::npos)
        << e.what();
  }
}

// Every trainer's sidecar has the keys of models/*.pt.json that all runs share, with the run's
// values; the trainer's own fields and metrics join them, and a field repeating a common key is
// an error rather than a silently dropped value.
TEST(TrainingSidecar, CommonKeysAndTheTrainersOwnFields) {
  const std::string dir = test::MakeTempDir("training_sidecar");
  TrainingRunOptions run;
  run.data_path = "data/train";
  run.batch_size = 16;
  run.validation_pairs = 256;
  run.seed = 3;
  run.command_line = "scalesfm train_tiny --seed 3";
  TrainingSidecar sidecar;
  sidecar.architecture = "tiny";
  sidecar.config = "compact";
  sidecar.data_use = " (every 10th image held out for validation)";
  sidecar.training_seconds = 1.5;
  sidecar.fields = {{"iterations", 10}};
  sidecar.final_metrics = {{"loss", 0.25}};

  Tiny model;
  torch::optim::SGD optimizer(model->parameters(), 0.1);
  const TrainingCheckpoint checkpoint(dir + "/tiny.pt");
  checkpoint.Save(*model, optimizer, 5);
  WriteTrainedWeights(checkpoint, *model, run, sidecar);
  const nlohmann::json json = ReadSidecar(dir + "/tiny.pt");
  EXPECT_FALSE(std::filesystem::exists(dir + "/tiny.pt.ckpt"));
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"architecture", "batch_size", "command", "config",
                                            "data", "date", "final_metrics", "iterations", "seed",
                                            "sha256", "training_seconds_this_run"}));
  EXPECT_EQ(json.at("architecture"), "tiny");
  EXPECT_EQ(json.at("batch_size"), 16);
  EXPECT_EQ(json.at("command"), "scalesfm train_tiny --seed 3");
  EXPECT_EQ(json.at("data"), "data/train (every 10th image held out for validation)");
  EXPECT_EQ(json.at("date"), TodayUtc());
  EXPECT_EQ(json.at("seed"), 3);
  EXPECT_EQ(json.at("iterations"), 10);
  EXPECT_DOUBLE_EQ(json.at("training_seconds_this_run").get<double>(), 1.5);
  EXPECT_EQ(json.at("final_metrics"), (nlohmann::json{{"loss", 0.25}, {"validation_pairs", 256}}));

  sidecar.fields["seed"] = 4;
  EXPECT_THROW(sidecar.ToJson(run), Error);
}

}  // namespace
}  // namespace scalesfm
