#include "util/weights_io.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "util/logging.h"

namespace scalesfm {

std::string DefaultWeights(const std::string& file_name) {
  const char* env = std::getenv("SCALESFM_MODELS");
  const std::string dir = env && *env ? env : SCALESFM_MODELS_DIR;
  return (std::filesystem::path(dir) / file_name).string();
}
namespace {
std::string ShapeString(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}
}  // namespace

void SaveWeights(const torch::nn::Module& module, const std::string& path,
                 const nlohmann::json& sidecar) {
  torch::serialize::OutputArchive archive;
  for (const auto& p : module.named_parameters()) archive.write(p.key(), p.value().detach().cpu());
  for (const auto& b : module.named_buffers()) archive.write(b.key(), b.value().cpu(), true);
  // Write to a temporary file and rename, so a crash never leaves half a weights file.
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  std::filesystem::rename(tmp, path);
  std::ofstream(path + ".json") << sidecar.dump(2) << "\n";
}

namespace {

// Named tensors of a weights file: our own archive (SaveWeights) or a torch.save()d dict of
// tensors (what scripts/convert_official_weights.py writes). Empty optional: neither format.
using TensorLookup = std::function<bool(const std::string&, torch::Tensor*, bool)>;

TensorLookup OpenWeights(const std::string& path) {
  auto archive = std::make_shared<torch::serialize::InputArchive>();
  try {
    archive->load_from(path);
    return [archive](const std::string& name, torch::Tensor* t, bool is_buffer) {
      return archive->try_read(name, *t, is_buffer);
    };
  } catch (const std::exception& archive_error) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    try {
      const c10::IValue value = torch::pickle_load(bytes);
      if (!value.isGenericDict()) throw std::runtime_error("not a dict of tensors");
      auto tensors = std::make_shared<std::unordered_map<std::string, torch::Tensor>>();
      for (const auto& item : value.toGenericDict()) {
        if (item.key().isString() && item.value().isTensor()) {
          (*tensors)[item.key().toStringRef()] = item.value().toTensor();
        }
      }
      return [tensors](const std::string& name, torch::Tensor* t, bool) {
        auto it = tensors->find(name);
        if (it == tensors->end()) return false;
        *t = it->second;
        return true;
      };
    } catch (const std::exception&) {
      std::string what = archive_error.what();
      what = what.substr(0, what.find('\n'));
      throw Error("weights file " + path +
                  " is truncated, corrupt or not a LibTorch archive / tensor dict (" + what + ")");
    }
  }
}

}  // namespace

void LoadWeights(torch::nn::Module* module, const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw Error("weights file " + path + " not found");
  const TensorLookup lookup = OpenWeights(path);
  torch::NoGradGuard no_grad;
  auto load = [&](const std::string& name, torch::Tensor& target, bool is_buffer) {
    torch::Tensor value;
    if (!lookup(name, &value, is_buffer)) {
      throw Error("weights file " + path + " has no tensor '" + name + "' (expected shape " +
                  ShapeString(target) + "): wrong architecture or config?");
    }
    if (value.sizes() != target.sizes()) {
      throw Error("weights file " + path + ": tensor '" + name + "' has shape " +
                  ShapeString(value) + ", the model expects " + ShapeString(target) +
                  ": wrong architecture or config?");
    }
    target.copy_(value);
  };
  for (auto& p : module->named_parameters()) load(p.key(), p.value(), false);
  for (auto& b : module->named_buffers()) load(b.key(), b.value(), true);
}

nlohmann::json ReadSidecar(const std::string& weights_path) {
  const std::string path = weights_path + ".json";
  std::ifstream in(path);
  if (!in) throw Error("weights sidecar " + path + " not found");
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw Error("weights sidecar " + path + " is not valid JSON: " + e.what());
  }
}

nlohmann::json ReadArchitectureSidecar(const std::string& weights, const std::string& architecture,
                                       const std::string& display_name, const std::string& hint) {
  if (!std::filesystem::is_regular_file(weights)) {
    throw Error(display_name + " weights file " + weights + " not found (" + hint + ")");
  }
  nlohmann::json sidecar = ReadSidecar(weights);
  if (sidecar.value("architecture", "") != architecture) {
    throw Error("weights " + weights + " are not " + display_name +
                " weights (sidecar architecture: '" + sidecar.value("architecture", "") + "')");
  }
  return sidecar;
}

}  // namespace scalesfm
