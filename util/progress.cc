#include "util/progress.h"

#include "util/logging.h"

namespace scalesfm {

std::string FormatDuration(double seconds) {
  const long s = seconds < 0 ? 0 : static_cast<long>(seconds + 0.5);
  return StringPrintf("%02ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
}

Progress::Progress(std::string what, size_t total) : what_(std::move(what)), total_(total) {}

void Progress::Step(const std::string& detail, size_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += count;
  const double elapsed = timer_.ElapsedSeconds();
  const double per_unit = done_ > 0 ? elapsed / done_ : 0.0;
  const double eta = per_unit * (total_ > done_ ? total_ - done_ : 0);
  LogInfo(StringPrintf("Processed %s [%zu/%zu] %s (%.3fs/%s, ETA %s)", what_.c_str(), done_, total_,
                       detail.c_str(), per_unit, what_.c_str(), FormatDuration(eta).c_str()));
}

}  // namespace scalesfm
