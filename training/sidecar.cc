#include "training/sidecar.h"

#include <ctime>

#include "util/logging.h"

namespace scalesfm {

nlohmann::json TrainingSidecar::ToJson(const TrainingRunOptions& run) const {
  nlohmann::json metrics = final_metrics;
  metrics["validation_pairs"] = run.validation_pairs;
  nlohmann::json out = {{"architecture", architecture},
                        {"config", config},
                        {"command", run.command_line},
                        {"data", run.data_path + data_use},
                        {"seed", run.seed},
                        {"date", TodayUtc()},
                        {"batch_size", run.batch_size},
                        {"training_seconds_this_run", training_seconds},
                        {"final_metrics", metrics}};
  for (const auto& [key, value] : fields.items()) {
    if (out.contains(key)) throw Error("sidecar key '" + key + "' is set by every trainer");
    out[key] = value;
  }
  return out;
}

void WriteTrainedWeights(const TrainingCheckpoint& checkpoint, const torch::nn::Module& model,
                         const TrainingRunOptions& run, const TrainingSidecar& sidecar) {
  checkpoint.Finish(model, sidecar.ToJson(run));
}

std::string TodayUtc() {
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%d", std::gmtime(&now));
  return date;
}

}  // namespace scalesfm
