#include "util/device.h"

#include <algorithm>
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
  if (name == "auto") return cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  throw Error("unknown --device '" + name + "' (expected auto, cpu or cuda)");
}

void SetLibTorchThreads(int requested) {
  torch::set_num_threads(requested > 0
                             ? requested
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

}  // namespace scalesfm
