// A progress line with counts, rate and ETA for long loops (extraction, matching, training,
// evaluation): "Processed image [3/11] 0000.jpg (0.412s, ETA 00:00:03)".
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace scalesfm {

class Timer {
 public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  void Restart() { start_ = std::chrono::steady_clock::now(); }
  double ElapsedSeconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Formats seconds as HH:MM:SS.
std::string FormatDuration(double seconds);

class Progress {
 public:
  // `what` names the unit of work ("image", "block"), `total` the number of units.
  Progress(std::string what, size_t total);

  // Marks `count` more units as done and prints one line describing them.
  void Step(const std::string& detail, size_t count = 1);

  size_t done() const { return done_; }
  double ElapsedSeconds() const { return timer_.ElapsedSeconds(); }

 private:
  std::string what_;
  size_t total_;
  size_t done_ = 0;
  Timer timer_;
  std::mutex mutex_;
};

}  // namespace scalesfm
