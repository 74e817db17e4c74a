// Weights are LibTorch archives of our own modules plus a JSON sidecar (`<file>.json`) with the
// architecture config, training command, data, seed, date, final metrics and the file's sha256.
// Loading checks every parameter and buffer by name and shape and fails with a message naming the
// tensor.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

namespace scalesfm {

void SaveWeights(const torch::nn::Module& module, const std::string& path,
                 const nlohmann::json& sidecar);

// Throws Error when the file is missing, its sidecar is missing or has no "sha256", the file does
// not match that sha256 (corrupt, truncated, changed), it is not a consistent zip archive (every
// entry's size within the file, every CRC-32 right) holding a LibTorch archive or a torch.save()d
// dict, a tensor of
// `module` is missing from it or has another shape, or a tensor holds NaN or infinite values.
void LoadWeights(torch::nn::Module* module, const std::string& path);

// The sha256 of a file, as lowercase hex (OpenSSL).
std::string Sha256OfFile(const std::string& path);

// The shipped weights file `file_name` (e.g. "scalenet_compact.pt"): in $SCALESFM_MODELS when it
// is set, else in the source tree's models/. Every model's default weights come from here.
std::string DefaultWeights(const std::string& file_name);

// The sidecar of `weights_path` (`weights_path + ".json"`); throws Error when missing/corrupt.
nlohmann::json ReadSidecar(const std::string& weights_path);

// The sidecar of a weights file that must exist and hold `architecture` ("scalenet", "scfeat").
// Errors name the file: "<display_name> weights file ... not found (<hint>)", or "weights ... are
// not <display_name> weights (sidecar architecture: '...')"; a "config" that is not a string is an
// error too.
nlohmann::json ReadArchitectureSidecar(const std::string& weights_path,
                                       const std::string& architecture,
                                       const std::string& display_name, const std::string& hint);

// What every model's loader does: a model of the config named in the weights' sidecar
// ("compact" when it names none), its weights loaded (checked as LoadWeights checks them), in
// eval mode. Model is a TORCH_MODULE holder constructible from a Config with FromName(name).
// Errors as ReadArchitectureSidecar's and LoadWeights'.
template <typename Model, typename Config>
Model LoadModelOfSidecarConfig(const std::string& weights_path, const std::string& architecture,
                               const std::string& display_name, const std::string& hint) {
  const nlohmann::json sidecar =
      ReadArchitectureSidecar(weights_path, architecture, display_name, hint);
  Model model(Config::FromName(sidecar.value("config", "compact")));
  LoadWeights(model.get(), weights_path);
  model->eval();
  return model;
}

}  // namespace scalesfm
