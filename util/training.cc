#include "util/training.h"

#include <torch/torch.h>

#include <algorithm>
#include <ctime>
#include <thread>

namespace scalesfm {

void SetUpTraining(unsigned seed, int num_threads) {
  torch::set_num_threads(num_threads > 0
                             ? num_threads
                             : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  torch::manual_seed(seed);
}

std::string TodayUtc() {
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%d", std::gmtime(&now));
  return date;
}

}  // namespace scalesfm
