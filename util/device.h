// --device auto|cpu|cuda: one place that turns the user's choice into a torch::Device.
#pragma once

#include <torch/torch.h>

#include <string>

namespace scalesfm {

// "auto" picks CUDA when LibTorch was built with it and a GPU is visible, else CPU (logged once
// per process). "cuda" without a usable GPU is an error, not a silent fallback, in every command
// and for every method, including those that run on the CPU anyway (SIFT).
torch::Device ParseDevice(const std::string& name);

// LibTorch's intra-op threads: `requested` when > 0, else every logical core. LibTorch's own
// default counts physical cores, which undercounts on VMs (1 on a 2-vCPU machine).
void SetLibTorchThreads(int requested);

}  // namespace scalesfm
