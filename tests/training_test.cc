#include "training/training.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/test_util.h"
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

}  // namespace
}  // namespace scalesfm
