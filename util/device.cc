#include "util/device.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "util/logging.h"

namespace scalesfm {

torch::Device ParseDevice(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  const bool cuda = torch::cuda::is_available();
  if (name == "cuda") {
    if (!cuda) {
      throw Error(
          "--device cuda was requested, but LibTorch sees no CUDA device "
          "(this LibTorch build or machine is CPU-only); use --device cpu or auto");
    }
    return torch::kCUDA;
  }
  if (name == "auto") {
    if (cuda) return torch::kCUDA;
    static std::once_flag logged;
    std::call_once(
        logged, [] { LogInfo("--device auto: LibTorch sees no CUDA device; running on the CPU"); });
    return torch::kCPU;
  }
  throw Error("unknown --device '" + name + "' (expected auto, cpu or cuda)");
}

void SetLibTorchThreads(int requested) {
  torch::set_num_threads(requested > 0
                             ? requested
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace scalesfm
