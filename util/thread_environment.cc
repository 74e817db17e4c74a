#include "util/thread_environment.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "util/logging.h"

extern char** environ;

namespace scalesfm {
namespace {

std::string NameOf(const std::string& entry) { return entry.substr(0, entry.find('=')); }

std::set<std::string> SplitNames(const std::string& list) {
  std::set<std::string> names;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    if (comma > start) names.insert(list.substr(start, comma - start));
    start = comma + 1;
  }
  return names;
}

}  // namespace

const std::vector<EnvironmentSetting>& PreferredThreadEnvironment() {
  // libgomp: idle OpenMP threads sleep at once instead of spinning for a while.
  // OpenBLAS (pthreads build): idle threads spin 2^4 cycles, not 2^28, before they sleep.
  static const std::vector<EnvironmentSetting> settings = {{"OMP_WAIT_POLICY", "PASSIVE"},
                                                           {"OPENBLAS_THREAD_TIMEOUT", "4"}};
  return settings;
}

std::vector<EnvironmentSetting> ThreadSettingsToApply(const std::vector<std::string>& environment) {
  std::set<std::string> present;
  for (const std::string& entry : environment) present.insert(NameOf(entry));
  std::vector<EnvironmentSetting> out;
  for (const EnvironmentSetting& s : PreferredThreadEnvironment()) {
    if (!present.count(s.name)) out.push_back(s);
  }
  return out;
}

std::vector<std::string> UserEnvironment(const std::vector<std::string>& environment) {
  std::set<std::string> drop;
  for (const std::string& entry : environment) {
    if (NameOf(entry) == kThreadEnvironmentMarker) {
      drop = SplitNames(entry.substr(entry.find('=') + 1));
      drop.insert(kThreadEnvironmentMarker);
    }
  }
  std::vector<std::string> out;
  for (const std::string& entry : environment) {
    if (!drop.count(NameOf(entry))) out.push_back(entry);
  }
  return out;
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

void ReexecWithThreadEnvironment(char** argv) {
  if (std::getenv(kThreadEnvironmentMarker) != nullptr) return;
  std::string names;
  for (const EnvironmentSetting& s : ThreadSettingsToApply(CurrentEnvironment())) {
    setenv(s.name.c_str(), s.value.c_str(), 1);
    names += (names.empty() ? "" : ",") + s.name;
  }
  setenv(kThreadEnvironmentMarker, names.c_str(), 1);
  if (names.empty()) return;  // the user set every variable: nothing to reload
  execv("/proc/self/exe", argv);
  // Still here: the libraries keep the settings they loaded with. Children get the user's.
  const int error = errno;
  LogWarning(
      StringPrintf("could not re-execute scalesfm to set %s (%s); running with the "
                   "threading libraries' defaults, which can be slower",
                   names.c_str(), std::strerror(error)));
}

}  // namespace scalesfm
