// File: storage/blob_gc.h
//
// Garbage collection of blobs that no registry row references. Deletion
// removes rows first and files later (ErasureReport lists them), so a crash
// between the two leaves only unreferenced files, which this sweep finds.
// Blobs younger than `min_age` are kept: an upload writes its bytes before
// the row that references them commits.
#ifndef STAMINA_STORAGE_BLOB_GC_H_
#define STAMINA_STORAGE_BLOB_GC_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "storage/blob_store.h"
#include "storage/registry_database.h"

namespace stamina::storage {

struct GcReport {
  std::vector<std::string> deleted;
  int64_t freed_bytes = 0;
  int64_t kept = 0;
};

// Every digest the registry references (blob rows and base-model weights).
absl::StatusOr<std::set<std::string>> ReferencedBlobs(RegistryDatabase& db);

// Deletes blobs not in `referenced` whose modify time is at least `min_age`
// before clock->Now().
absl::StatusOr<GcReport> CollectGarbage(BlobStore& blobs,
                                        const std::set<std::string>& referenced,
                                        Clock& clock, absl::Duration min_age);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_BLOB_GC_H_
