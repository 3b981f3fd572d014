// jemalloc's options for the service binaries, read by jemalloc when it
// starts (its `malloc_conf` symbol; $MALLOC_CONF still overrides them):
//   - background_thread: a jemalloc thread returns decayed pages to the OS,
//     so an idle process shrinks too;
//   - dirty_decay_ms 1000, muzzy_decay_ms 0: freed pages go back to the OS
//     within about a second instead of ten, which keeps the RSS of a process
//     that frees hundreds of MiB of tensors per job close to its live heap.
// Linked only into binaries (alwayslink); see common/allocator.h.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's.
const char* malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
