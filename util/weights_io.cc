#include "util/weights_io.h"

#include <openssl/evp.h>
#include <torch/csrc/jit/serialization/pickle.h>
#include <zip.h>

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

namespace {

// The whole file: the checksum, the archive check and LibTorch all read the same bytes, once.
std::vector<char> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw Error("cannot read " + path);
  std::vector<char> bytes(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) {
    throw Error("cannot read " + path);
  }
  return bytes;
}

std::string Sha256Of(const std::vector<char>& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw Error("OpenSSL cannot compute sha256");
  }
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += StringPrintf("%02x", digest[i]);
  return hex;
}

}  // namespace

std::string Sha256OfFile(const std::string& path) { return Sha256Of(ReadWholeFile(path)); }

void SaveWeights(const torch::nn::Module& module, const std::string& path,
                 const nlohmann::json& sidecar) {
  torch::serialize::OutputArchive archive;
  for (const auto& p : module.named_parameters()) archive.write(p.key(), p.value().detach().cpu());
  for (const auto& b : module.named_buffers()) archive.write(b.key(), b.value().cpu(), true);
  // Write both files to temporary names and rename, so a crash never leaves half a file; the
  // sidecar carries the weights' sha256, checked by every load.
  const std::string tmp = path + ".tmp";
  archive.save_to(tmp);
  nlohmann::json with_checksum = sidecar;
  with_checksum["sha256"] = Sha256OfFile(tmp);
  {
    std::ofstream out(path + ".json.tmp");
    out << with_checksum.dump(2) << "\n";
    if (!out.flush()) throw Error("cannot write the weights sidecar " + path + ".json");
  }
  std::filesystem::rename(tmp, path);
  std::filesystem::rename(path + ".json.tmp", path + ".json");
}

namespace {

// Named tensors of a weights file: our own archive (SaveWeights) or a torch.save()d dict of
// tensors (what scripts/convert_official_weights.py writes). Empty optional: neither format.
using TensorLookup = std::function<bool(const std::string&, torch::Tensor*, bool)>;

TensorLookup OpenWeights(const std::string& path, const std::vector<char>& bytes) {
  auto archive = std::make_shared<torch::serialize::InputArchive>();
  try {
    archive->load_from(bytes.data(), bytes.size());
    return [archive](const std::string& name, torch::Tensor* t, bool is_buffer) {
      return archive->try_read(name, *t, is_buffer);
    };
  } catch (const std::exception& archive_error) {
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

// Throws Error unless `bytes` (of `path`) match the "sha256" of its sidecar.
void CheckWeightsChecksum(const std::string& path, const std::vector<char>& bytes) {
  const nlohmann::json sidecar = ReadSidecar(path);
  const std::string actual = Sha256Of(bytes);
  if (!sidecar.contains("sha256") || !sidecar["sha256"].is_string()) {
    throw Error("weights sidecar " + path + ".json has no \"sha256\"; once you trust " + path +
                ", add \"sha256\": \"" + actual +
                "\" to it (scalesfm writes it for every weights "
                "file it trains or converts)");
  }
  const std::string expected = sidecar["sha256"].get<std::string>();
  if (expected != actual) {
    throw Error("weights file " + path + " does not match the sha256 in its sidecar (expected " +
                Printable(expected) + ", got " + actual +
                "): it is corrupt, truncated or was changed after it was written");
  }
}

// Throws Error unless `bytes` (of `path`) are a consistent zip archive (libzip's strict checks)
// whose every entry has a size the file can hold and reads back with its CRC-32: LibTorch
// allocates what a damaged directory claims (a fuzzed file asked for 2.9 GB) before it finds the
// damage.
void CheckWeightsArchive(const std::string& path, const std::vector<char>& bytes) {
  const std::string prefix = "weights file " + path;
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* opened =
      source ? zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error) : nullptr;
  if (!opened) {
    if (source) zip_source_free(source);
    const std::string message = zip_error_strerror(&error);
    zip_error_fini(&error);
    throw Error(prefix + " is not a consistent zip archive (" + message +
                "), which LibTorch and torch.save() both write: truncated or corrupt");
  }
  zip_error_fini(&error);
  std::unique_ptr<zip_t, decltype(&zip_discard)> zip(opened, zip_discard);  // frees the source
  const auto file_size = static_cast<zip_uint64_t>(bytes.size());
  const zip_int64_t num_entries = zip_get_num_entries(zip.get(), 0);
  if (num_entries <= 0) throw Error(prefix + " is an empty zip archive");
  std::vector<char> buffer(1 << 20);
  for (zip_int64_t i = 0; i < num_entries; ++i) {
    zip_stat_t stat;
    zip_stat_init(&stat);
    const zip_uint64_t needed = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    if (zip_stat_index(zip.get(), i, 0, &stat) != 0 || (stat.valid & needed) != needed) {
      throw Error(prefix + ": cannot read zip entry " + std::to_string(i));
    }
    const std::string name = Printable(stat.name ? stat.name : "?");
    // Sizes a damaged directory claims are what readers allocate: bound them by the file (deflate
    // expands at most 1032x).
    const bool stored = stat.comp_method == ZIP_CM_STORE;
    if (stat.comp_size > file_size ||
        (stored ? stat.size != stat.comp_size : stat.size / 1032 > stat.comp_size)) {
      throw Error(prefix + ": zip entry " + name + " claims " + std::to_string(stat.size) +
                  " bytes in a file of " + std::to_string(file_size) + ": corrupt");
    }
    // Reading each entry to its end checks its CRC-32.
    std::unique_ptr<zip_file_t, decltype(&zip_fclose)> entry(zip_fopen_index(zip.get(), i, 0),
                                                             zip_fclose);
    if (!entry) {
      throw Error(prefix + ": cannot open zip entry " + name + " (" + zip_strerror(zip.get()) +
                  ")");
    }
    zip_uint64_t total = 0;
    zip_int64_t n = 0;
    while ((n = zip_fread(entry.get(), buffer.data(), buffer.size())) > 0) total += n;
    if (n < 0 || total != stat.size) {
      throw Error(prefix + ": zip entry " + name + " is damaged (" +
                  (n < 0 ? std::string(zip_file_strerror(entry.get())) : "short read") + ")");
    }
  }
}

}  // namespace

void LoadWeights(torch::nn::Module* module, const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw Error("weights file " + path + " not found");
  const std::vector<char> bytes = ReadWholeFile(path);
  CheckWeightsChecksum(path, bytes);
  CheckWeightsArchive(path, bytes);
  const TensorLookup lookup = OpenWeights(path, bytes);
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
    if (value.is_floating_point() && !torch::isfinite(value).all().item<bool>()) {
      throw Error("weights file " + path + ": tensor '" + name + "' holds NaN or infinite values");
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
  nlohmann::json sidecar;
  try {
    sidecar = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw Error("weights sidecar " + path + " is not valid JSON: " + e.what());
  }
  if (!sidecar.is_object()) throw Error("weights sidecar " + path + " is not a JSON object");
  return sidecar;
}

nlohmann::json ReadArchitectureSidecar(const std::string& weights, const std::string& architecture,
                                       const std::string& display_name, const std::string& hint) {
  if (!std::filesystem::is_regular_file(weights)) {
    throw Error(display_name + " weights file " + weights + " not found (" + hint + ")");
  }
  nlohmann::json sidecar = ReadSidecar(weights);
  const std::string found = sidecar.contains("architecture") && sidecar["architecture"].is_string()
                                ? sidecar["architecture"].get<std::string>()
                                : "";
  if (found != architecture) {
    throw Error("weights " + weights + " are not " + display_name +
                " weights (sidecar architecture: '" + Printable(found) + "')");
  }
  // Callers read sidecar.value("config", ...): it must be a string when present.
  if (sidecar.contains("config") && !sidecar["config"].is_string()) {
    throw Error("weights sidecar " + weights + ".json: \"config\" must be a string");
  }
  return sidecar;
}

}  // namespace scalesfm
