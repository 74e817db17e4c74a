// libFuzzer target: damaged weights files and sidecars through LoadWeights, ReadSidecar and
// ReadArchitectureSidecar. Build with scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "fuzz/fuzz_harness.h"
#include "util/logging.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto fuzzer = [] {
    scalesfm::SetQuiet(true);
    return std::make_unique<scalesfm::fuzz::WeightsFuzzer>(
        (std::filesystem::temp_directory_path() /
         ("scalesfm_weights_fuzzer_" + std::to_string(getpid())))
            .string());
  }();
  fuzzer->Run(data, size);  // anything but scalesfm::Error escapes and is reported as a crash
  return 0;
}
