// The threading runtime's environment for the scalesfm process, and the user's for its children.
//
// LibTorch's intra-op threads are OpenMP (libgomp) and its products go to OpenBLAS, which has its
// own pthreads. Both pools busy-wait after their work by default, so on a small machine each
// pool's idle threads take the cores the other pool needs: on 2 cores the descriptor matcher ran
// about 30% faster with OMP_WAIT_POLICY=PASSIVE and OPENBLAS_THREAD_TIMEOUT=4
// (docs/BENCHMARKS.md, "Issue 24 (continued, 2026-12-07)"). Both libraries read these variables
// only when they are loaded, so `scalesfm` sets the ones the user has not set and re-executes
// itself once. COLMAP's child processes get the user's environment back, so stock COLMAP in the
// evaluators runs as the user runs it. See docs/DESIGN_NOTES.md, "Thread environment".
#pragma once

#include <string>
#include <vector>

namespace scalesfm {

struct EnvironmentSetting {
  std::string name, value;
};

// The settings scalesfm prefers (OMP_WAIT_POLICY=PASSIVE, OPENBLAS_THREAD_TIMEOUT=4).
const std::vector<EnvironmentSetting>& PreferredThreadEnvironment();

// Names the marker variable: set (to the comma-separated names scalesfm set, possibly none) in
// the re-executed process, so it does not re-execute again.
constexpr const char* kThreadEnvironmentMarker = "SCALESFM_THREAD_ENV_SET";

// The preferred settings whose variable is not in `environment` ("NAME=value" entries): a user's
// own value always wins, OMP_WAIT_POLICY=ACTIVE included.
std::vector<EnvironmentSetting> ThreadSettingsToApply(const std::vector<std::string>& environment);

// `environment` for a child process: the variables named by the marker, and the marker itself,
// removed. Everything else is kept in order.
std::vector<std::string> UserEnvironment(const std::vector<std::string>& environment);

// The process's environment as "NAME=value" entries.
std::vector<std::string> CurrentEnvironment();

// Called first in main(): when the marker is absent, sets the preferred settings the user has
// not set, sets the marker and re-executes /proc/self/exe with `argv`. Returns (having changed
// nothing that matters) when the marker is present or when the re-execution fails; the second
// case logs a warning, and scalesfm then runs with the libraries' own defaults.
void ReexecWithThreadEnvironment(char** argv);

}  // namespace scalesfm
