// What every `train_*` command does the same way: its common options, seed and LibTorch threads,
// and resumable checkpoints (the final sidecar is in sidecar.h).
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace scalesfm {

// What every `train_*` command takes besides its model's own hyper-parameters. Each trainer's
// options derive from it and set their own defaults for batch_size and validation_pairs.
struct TrainingRunOptions {
  std::string data_path;    // folder of generic images (e.g. ../shared/data/train)
  std::string output_path;  // weights file; <output>.json sidecar, <output>.ckpt checkpoint
  std::string config = "compact";
  // Weights to start from when there is no checkpoint yet (fine-tuning a trained or converted
  // model); empty: random initialisation. A checkpoint of this run always wins, so a re-run
  // resumes rather than restarting from these.
  std::string init_weights;
  int batch_size = 2;
  int validation_pairs = 32;
  int validate_every = 500;
  int checkpoint_every = 100;
  unsigned seed = 0;
  std::string device = "auto";
  int num_threads = -1;
  std::string command_line;  // recorded in the sidecar

  // Throws an Error naming `command` (e.g. "train_s2dnet") for a missing path, a count below 1
  // or an unknown device.
  void CheckRun(const std::string& command) const;
};

// A training run's files: the checkpoint <output>.ckpt (weights, with the iteration in its
// .json), <output>.optim.ckpt (the optimizer's state), and at the end <output> with its sidecar.
class TrainingCheckpoint {
 public:
  explicit TrainingCheckpoint(const std::string& output_path) : output_path_(output_path) {}
  // Loads the checkpoint into `model` when there is one and returns its iteration; else loads
  // `init_weights` when given (checked tensor by tensor like any weights file) and returns 0.
  int LoadModel(torch::nn::Module* model, const std::string& init_weights = "") const;
  // Loads the optimizer state when there is one.
  void LoadOptimizer(torch::optim::Optimizer* optimizer) const;
  void Save(const torch::nn::Module& model, torch::optim::Optimizer& optimizer,
            int iteration) const;
  // Writes the final weights with `sidecar`, removes the checkpoint files, logs.
  void Finish(const torch::nn::Module& model, const nlohmann::json& sidecar) const;

 private:
  std::string Weights() const { return output_path_ + ".ckpt"; }
  std::string Optimizer() const { return output_path_ + ".optim.ckpt"; }
  std::string output_path_;
};

// The step schedule of train_scalenet and train_cvarm: `base` until 70% of the iterations, x0.1
// until 90%, x0.01 after; sets it on every parameter group of the Adam `optimizer` and returns it.
double SetStepDecayLearningRate(torch::optim::Adam* optimizer, double base, int iteration,
                                int iterations);

// The fixed validation set of a run: `total` pairs in batches of at most `batch_size`, each made
// by make(n, rng) from one generator seeded with seed + 977 (the same for every run and resume).
template <typename Batch>
std::vector<Batch> MakeValidationBatches(int total, int batch_size, unsigned seed,
                                         const std::function<Batch(int, std::mt19937*)>& make) {
  std::vector<Batch> batches;
  std::mt19937 rng(seed + 977);
  for (int done = 0; done < total; done += batch_size) {
    batches.push_back(make(std::min(batch_size, total - done), &rng));
  }
  return batches;
}

// torch::manual_seed(seed) and LibTorch's intra-op threads (num_threads <= 0: all cores).
void SetUpTraining(unsigned seed, int num_threads);

// What every trainer does first: prints `heading`, resolves the device, seeds and sets threads
// (SetUpTraining), and splits the training images into training and validation paths.
struct TrainingStart {
  torch::Device device = torch::kCPU;
  std::vector<std::string> train_paths, val_paths;
};
TrainingStart StartTraining(const TrainingRunOptions& run, const std::string& heading);

}  // namespace scalesfm
