// File: common/allocator.h
//
// The process's heap allocator, seen from the outside. The service binaries
// (staminad, stamina-worker, stamina-sampler) link jemalloc through
// :jemalloc_config, which also sets its options: glibc's malloc kept memory
// that mixed small long-lived allocations and large short-lived tensors had
// fragmented, so RSS crept up by 1-3 MiB per minute under bench:soak; with
// jemalloc and a 1 s decay it stays flat (bench/results/soak-jemalloc-*).
// Other binaries (tests, tools) keep glibc's malloc; these functions work
// with either, finding jemalloc at run time.
//
// Thread-safe.
#ifndef STAMINA_COMMON_ALLOCATOR_H_
#define STAMINA_COMMON_ALLOCATOR_H_

#include <string>

namespace stamina {

// "jemalloc 5.3.0-0-g54eaed1d8b56 (background_thread true, dirty_decay_ms
// 1000, muzzy_decay_ms 0, arenas 8)", or "glibc malloc".
std::string AllocatorDescription();

// Whether jemalloc serves malloc in this process.
bool JemallocInUse();

// Returns freed heap pages to the OS now: jemalloc purges every arena,
// glibc's malloc_trim(0) otherwise.
void ReleaseFreeMemory();

}  // namespace stamina

#endif  // STAMINA_COMMON_ALLOCATOR_H_
