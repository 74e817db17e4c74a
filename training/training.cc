#include "training/training.h"

#include <torch/torch.h>

#include <filesystem>

#include "feature/image_io.h"
#include "util/device.h"
#include "util/logging.h"
#include "util/weights_io.h"

namespace scalesfm {
namespace fs = std::filesystem;

void TrainingRunOptions::CheckRun(const std::string& command) const {
  if (data_path.empty()) throw Error(command + " needs --data_path");
  if (output_path.empty()) throw Error(command + " needs --output_path");
  // The weights, the checkpoint and the sidecars go next to --output_path: create its folder now
  // rather than fail at the first checkpoint.
  const fs::path folder = fs::absolute(output_path).parent_path();
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (!fs::is_directory(folder)) {
    throw Error("cannot create the folder of --output_path " + output_path +
                (ec ? ": " + ec.message() : ""));
  }
  if (batch_size < 1) throw Error("--batch_size must be >= 1");
  if (validation_pairs < 1 || validate_every < 1 || checkpoint_every < 1) {
    throw Error("--validation_pairs, --validate_every and --checkpoint_every must be >= 1");
  }
  ParseDevice(device);
}

int TrainingCheckpoint::LoadModel(torch::nn::Module* model, const std::string& init_weights) const {
  if (!fs::exists(Weights())) {
    if (!init_weights.empty()) {
      LoadWeights(model, init_weights);
      LogInfo("Starting from weights " + init_weights);
    }
    return 0;
  }
  LoadWeights(model, Weights());
  const int iteration = ReadSidecar(Weights()).at("iteration").get<int>();
  LogInfo(
      StringPrintf("Resuming from checkpoint %s at iteration %d", Weights().c_str(), iteration));
  return iteration;
}

void TrainingCheckpoint::LoadOptimizer(torch::optim::Optimizer* optimizer) const {
  if (fs::exists(Optimizer())) torch::load(*optimizer, Optimizer());
}

void TrainingCheckpoint::Save(const torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                              int iteration) const {
  SaveWeights(model, Weights(), {{"iteration", iteration}});
  torch::save(optimizer, Optimizer());
}

void TrainingCheckpoint::Finish(const torch::nn::Module& model,
                                const nlohmann::json& sidecar) const {
  SaveWeights(model, output_path_, sidecar);
  fs::remove(Weights());
  fs::remove(Weights() + ".json");
  fs::remove(Optimizer());
  LogInfo("Wrote " + output_path_ + " and its .json sidecar");
}

void SetUpTraining(unsigned seed, int num_threads) {
  SetLibTorchThreads(num_threads);
  torch::manual_seed(seed);
}

TrainingStart StartTraining(const TrainingRunOptions& run, const std::string& heading) {
  PrintHeading1(heading);
  TrainingStart start;
  start.device = ParseDevice(run.device);
  SetUpTraining(run.seed, run.num_threads);
  SplitTrainingImages(run.data_path, &start.train_paths, &start.val_paths);
  return start;
}

double SetStepDecayLearningRate(torch::optim::Adam* optimizer, double base, int iteration,
                                int iterations) {
  double lr = base;
  if (iteration >= 0.7 * iterations) lr *= 0.1;
  if (iteration >= 0.9 * iterations) lr *= 0.1;
  for (auto& group : optimizer->param_groups()) {
    static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
  }
  return lr;
}

}  // namespace scalesfm
