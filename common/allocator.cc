#include "common/allocator.h"

#include <dlfcn.h>
#include <malloc.h>

#include <cstddef>
#include <cstdint>

#include "absl/strings/str_cat.h"

namespace stamina {
namespace {

using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);

// jemalloc's control entry point when jemalloc is the allocator (its symbol
// is global once libjemalloc is loaded), else null.
Mallctl FindMallctl() {
  static const Mallctl mallctl = reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl"));
  return mallctl;
}

template <typename T>
bool Read(Mallctl mallctl, const char* name, T* value) {
  size_t size = sizeof(T);
  return mallctl(name, value, &size, nullptr, 0) == 0 && size == sizeof(T);
}

}  // namespace

bool JemallocInUse() { return FindMallctl() != nullptr; }

std::string AllocatorDescription() {
  const Mallctl mallctl = FindMallctl();
  if (mallctl == nullptr) return "glibc malloc";
  const char* version = "?";
  bool background_thread = false;
  ssize_t dirty_decay_ms = -1, muzzy_decay_ms = -1;
  unsigned arenas = 0;
  Read(mallctl, "version", &version);
  Read(mallctl, "opt.background_thread", &background_thread);
  Read(mallctl, "opt.dirty_decay_ms", &dirty_decay_ms);
  Read(mallctl, "opt.muzzy_decay_ms", &muzzy_decay_ms);
  Read(mallctl, "arenas.narenas", &arenas);
  return absl::StrCat("jemalloc ", version, " (background_thread ",
                      background_thread ? "true" : "false", ", dirty_decay_ms ", dirty_decay_ms,
                      ", muzzy_decay_ms ", muzzy_decay_ms, ", arenas ", arenas, ")");
}

void ReleaseFreeMemory() {
  if (const Mallctl mallctl = FindMallctl(); mallctl != nullptr) {
    // "arena.<MALLCTL_ARENAS_ALL>.purge": every arena's unused dirty pages.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
    return;
  }
  malloc_trim(0);
}

}  // namespace stamina
