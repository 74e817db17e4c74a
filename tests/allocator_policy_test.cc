#include "util/allocator_policy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace scalesfm {
namespace {

TEST(AllocatorPolicy, TheUsersOwnTuningWins) {
  EXPECT_FALSE(UserTunesAllocator({"PATH=/bin", "HOME=/root"}));
  EXPECT_FALSE(UserTunesAllocator({"GLIBC_TUNABLES=glibc.rtld.optional_static_tls=2048"}));
  EXPECT_TRUE(UserTunesAllocator({"GLIBC_TUNABLES=glibc.malloc.mmap_threshold=65536"}));
  EXPECT_TRUE(UserTunesAllocator({"PATH=/bin", "MALLOC_TRIM_THRESHOLD_=0"}));
  EXPECT_TRUE(UserTunesAllocator({"MALLOC_ARENA_MAX=2"}));
  EXPECT_FALSE(ApplyAllocatorPolicy({"MALLOC_MMAP_THRESHOLD_=131072"}));
}

#if defined(__GLIBC__)
// Counts the blocks malloc serves with their own mmap, around one allocation of `bytes`.
size_t MmappedBlocksFor(size_t bytes) {
  const size_t before = mallinfo2().hblks;
  char* p = static_cast<char*>(std::malloc(bytes));
  EXPECT_NE(p, nullptr);
  std::memset(p, 1, bytes);
  const size_t during = mallinfo2().hblks;
  std::free(p);
  return during - before;
}

TEST(AllocatorPolicy, BigBuffersComeFromTheHeapAndStayForReuse) {
  ASSERT_TRUE(ApplyAllocatorPolicy({"PATH=/bin"}));
  // A SIFT pyramid image of a sqrt(2)-level 768x512 view (2172 x 1448 floats).
  const size_t pyramid_image = size_t{2172} * 1448 * sizeof(float);
  EXPECT_EQ(MmappedBlocksFor(pyramid_image), 0u);
  // Freed, it stays with the process: the next one is served from the same memory.
  const size_t kept = mallinfo2().fordblks;
  EXPECT_GE(kept, pyramid_image);
  EXPECT_EQ(MmappedBlocksFor(pyramid_image), 0u);
  // glibc caps the threshold at 32 MiB on 64-bit: bigger blocks are still mapped each time.
  EXPECT_EQ(MmappedBlocksFor(kAllocatorMmapThreshold + (size_t{1} << 20)), 1u);
}
#endif

}  // namespace
}  // namespace scalesfm
