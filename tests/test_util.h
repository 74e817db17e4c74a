// Helpers shared by the tests: scratch folders, the built binary, and one synthetic scene per
// test process.
#pragma once

#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace scalesfm::test {

// A fresh, empty folder under the system temp dir, unique per call; removed with its contents
// when the test process exits (SCALESFM_KEEP_TEST_DIRS=1 keeps it).
std::string MakeTempDir(const std::string& tag);

// A w x h 8-bit grey texture: uniform noise at 1/4 size, resized bicubically (seeded).
cv::Mat NoiseTexture(int w, int h, unsigned seed);

// The synthetic scene (images/ and gt/) rendered once per process: 8 cameras, 2 of them zoomed
// 2x, 480x360 pixels.
const std::string& SyntheticSceneDir();

// Path of the built scalesfm executable.
std::string ScalesfmBinary();

// ../shared/data beside the checkout, or "" when absent.
std::string SharedDataDir();

bool HaveColmap();

// Debian's python3-torch, which the converter tests and the golden-fixture tests run.
bool HavePythonTorch();

// Runs a shell command, returns its exit code; stdout+stderr go to `output` when given.
int RunCommand(const std::string& command, std::string* output = nullptr);

}  // namespace scalesfm::test
