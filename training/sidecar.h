// The JSON sidecar (<weights>.json) that every `train_*` command writes beside its final
// weights: the keys all trainers record the same way (architecture, config, command, data, seed,
// date, batch size, this run's training time, validation pairs) and each trainer's own fields.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "training/training.h"

namespace scalesfm {

struct TrainingSidecar {
  std::string architecture;  // "scfeat", "scalenet", "s2dnet": what loading checks
  std::string config;        // the model config's name
  // How the run used --data_path, appended to it in "data" (e.g. " as posed plane pairs").
  std::string data_use;
  double training_seconds = 0;  // this run only; a resumed run's earlier runs are not counted
  // The trainer's own keys (model config, hyper-parameters); none may be a common key.
  nlohmann::json fields = nlohmann::json::object();
  // Validation metrics at the end of the run; "validation_pairs" is added.
  nlohmann::json final_metrics = nlohmann::json::object();

  // The sidecar of a run with `run`'s options, dated today (UTC). Throws Error when a trainer
  // field repeats a common key.
  nlohmann::json ToJson(const TrainingRunOptions& run) const;
};

// Writes the final weights of `model` with `sidecar` and removes the run's checkpoint files
// (TrainingCheckpoint::Finish).
void WriteTrainedWeights(const TrainingCheckpoint& checkpoint, const torch::nn::Module& model,
                         const TrainingRunOptions& run, const TrainingSidecar& sidecar);

// Today's date (UTC) as YYYY-MM-DD.
std::string TodayUtc();

}  // namespace scalesfm
