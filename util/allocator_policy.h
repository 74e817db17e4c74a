// How glibc's malloc gives big buffers back to the kernel, for the scalesfm process.
//
// By default glibc serves every block of 128 KiB or more with its own mmap (the threshold adapts
// upwards only after such a block is freed) and returns free memory above 128 KiB at the top of a
// heap to the kernel. OpenCV's SIFT allocates its scale-space pyramid afresh for every level of
// every image (12.6 MB per float image at the sqrt(2) level of a 768x512 view), so each of those
// pages was mapped, zero-filled on first touch and unmapped again, image after image: the
// extraction spent about 13% of its time in page faults. scalesfm therefore serves blocks up to
// 32 MiB (glibc's largest mmap threshold on 64-bit) from its heaps and keeps up to 256 MiB of
// freed memory per heap for reuse. Outputs do not change; the peak memory does not either, only
// how long freed memory stays with the process (docs/DESIGN_NOTES.md, "Allocator policy").
//
// COLMAP's child processes are not affected: mallopt acts on this process only.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace scalesfm {

constexpr size_t kAllocatorMmapThreshold = size_t{32} << 20;
constexpr size_t kAllocatorTrimThreshold = size_t{256} << 20;

// True when `environment` ("NAME=value" entries) tunes glibc's malloc itself: GLIBC_TUNABLES
// naming a glibc.malloc tunable, or one of the MALLOC_*_ variables. The user's tuning then wins.
bool UserTunesAllocator(const std::vector<std::string>& environment);

// Applies the policy unless the user tunes the allocator or the C library is not glibc. Returns
// whether it was applied.
bool ApplyAllocatorPolicy(const std::vector<std::string>& environment);

}  // namespace scalesfm
