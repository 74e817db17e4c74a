#include "tests/test_util.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "colmap_ext/colmap_runner.h"
#include "synthetic/synthetic_scene.h"

namespace scalesfm::test {
namespace fs = std::filesystem;

namespace {

// The folders MakeTempDir made in this process, removed when the process ends: a full ctest
// run otherwise leaves gigabytes in /tmp, and repeated runs fill the disk. Only the process that
// made a folder removes it (a forked child that exits must not delete its parent's folders).
// SCALESFM_KEEP_TEST_DIRS=1 keeps them for debugging.
class TempDirRegistry {
 public:
  void Add(const fs::path& dir) {
    std::lock_guard<std::mutex> lock(mutex_);
    dirs_.push_back(dir);
  }
  ~TempDirRegistry() {
    if (getpid() != owner_ || std::getenv("SCALESFM_KEEP_TEST_DIRS")) return;
    for (const fs::path& dir : dirs_) {
      std::error_code ignored;  // best effort: a test may have left a folder read-only
      fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ignored);
      fs::remove_all(dir, ignored);
    }
  }

 private:
  const pid_t owner_ = getpid();
  std::mutex mutex_;
  std::vector<fs::path> dirs_;
};

TempDirRegistry& TempDirs() {
  static TempDirRegistry registry;
  return registry;
}

}  // namespace

std::string MakeTempDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  TempDirRegistry& registry = TempDirs();  // constructed first, so destroyed after its users
  const fs::path dir =
      fs::temp_directory_path() /
      ("scalesfm_test_" + tag + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  registry.Add(dir);
  return dir.string();
}

const std::string& SyntheticSceneDir() {
  static std::once_flag once;
  static std::string dir;
  std::call_once(once, [] {
    dir = MakeTempDir("scene");
    SyntheticSceneOptions options;
    options.num_cameras = 8;
    options.num_zoomed = 2;
    options.zoom = 2.0;
    options.width = 480;
    options.height = 360;
    options.focal = 400;
    options.seed = 7;
    WriteSyntheticScene(RenderSyntheticScene(options), dir);
  });
  return dir;
}

std::string ScalesfmBinary() { return SCALESFM_BINARY; }

std::string SharedDataDir() {
  const fs::path dir = fs::path(SCALESFM_SOURCE_DIR) / ".." / "shared" / "data";
  return fs::is_directory(dir) ? fs::canonical(dir).string() : "";
}

bool HaveColmap() {
  try {
    ColmapRunner().ResolveBinary();
    return true;
  } catch (...) {
    return false;
  }
}

bool HavePythonTorch() { return RunCommand("/usr/bin/python3 -c 'import torch'") == 0; }

int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return -1;
  std::array<char, 4096> buffer;
  std::string text;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) text.append(buffer.data(), n);
  const int status = pclose(pipe);
  if (output) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

cv::Mat NoiseTexture(int w, int h, unsigned seed) {
  cv::Mat noise(h / 4, w / 4, CV_8U);
  cv::theRNG().state = seed;
  cv::randu(noise, 0, 255);
  cv::Mat out;
  cv::resize(noise, out, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
  return out;
}

}  // namespace scalesfm::test
