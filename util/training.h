// What every `train_*` command does the same way: seed and LibTorch threads, and the date
// recorded in weights sidecars.
#pragma once

#include <string>

namespace scalesfm {

// torch::manual_seed(seed) and LibTorch's intra-op threads (num_threads <= 0: all cores).
void SetUpTraining(unsigned seed, int num_threads);

// Today's date (UTC) as YYYY-MM-DD.
std::string TodayUtc();

}  // namespace scalesfm
