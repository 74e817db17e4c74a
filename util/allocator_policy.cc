#include "util/allocator_policy.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace scalesfm {

bool UserTunesAllocator(const std::vector<std::string>& environment) {
  for (const std::string& entry : environment) {
    const std::string name = entry.substr(0, entry.find('='));
    if (name == "GLIBC_TUNABLES" && entry.find("glibc.malloc.") != std::string::npos) return true;
    // glibc's environment aliases: MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_,
    // MALLOC_TOP_PAD_, MALLOC_MMAP_MAX_, MALLOC_ARENA_MAX, ...
    if (name.rfind("MALLOC_", 0) == 0) return true;
  }
  return false;
}

bool ApplyAllocatorPolicy(const std::vector<std::string>& environment) {
#if defined(__GLIBC__)
  if (UserTunesAllocator(environment)) return false;
  // Setting either value also turns off glibc's adaptive threshold, which would otherwise move
  // the mmap threshold with every freed block.
  return mallopt(M_MMAP_THRESHOLD, static_cast<int>(kAllocatorMmapThreshold)) == 1 &&
         mallopt(M_TRIM_THRESHOLD, static_cast<int>(kAllocatorTrimThreshold)) == 1;
#else
  (void)environment;
  return false;
#endif
}

}  // namespace scalesfm
