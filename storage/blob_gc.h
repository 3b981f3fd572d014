// File: storage/blob_gc.h
//
// Garbage collection of blobs that no registry row references. Deletion
// removes rows first and files later (ErasureReport lists them), so a crash
// between the two leaves only unreferenced files, which this sweep finds.
// Blobs younger than `min_age` are kept: an upload writes its bytes before
// the row that references them commits.
//
// BlobCollector closes the race between deleting a digest and a concurrent
// upload of the same bytes (content addressing makes them one file): a
// writer pins the digest from before it stores the bytes until its row has
// committed, and a deletion takes the same pin, then re-reads whether any
// row references the digest, and only then unlinks the file. Thread-safe.
#ifndef STAMINA_STORAGE_BLOB_GC_H_
#define STAMINA_STORAGE_BLOB_GC_H_

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
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

// Whether any row references `digest` now.
absl::StatusOr<bool> IsBlobReferenced(RegistryDatabase& db, const std::string& digest);

class BlobCollector {
 public:
  struct Options {
    RegistryDatabase* db = nullptr;  // not owned
    BlobStore* blobs = nullptr;      // not owned
    Clock* clock = Clock::Real();    // not owned
    // A sweep keeps blobs younger than this (bytes whose row is coming).
    absl::Duration min_age = absl::Hours(1);
  };
  explicit BlobCollector(Options options) : options_(options) {}

  // Held by a writer across storing blobs and committing their rows (an
  // upload pins all its images at once). It locks each digest's stripe once,
  // in one global order, so writers pinning overlapping sets cannot deadlock.
  class Pin {
   public:
    explicit Pin(std::vector<absl::Mutex*> stripes);  // sorted, each once
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
    ~Pin();

   private:
    std::vector<absl::Mutex*> stripes_;
  };
  Pin PinDigests(const std::vector<std::string>& digests);
  Pin PinDigest(const std::string& digest) { return PinDigests({digest}); }

  // Deletes each of `digests` (the blobs a delete's rows freed) that no row
  // references any more, at once. Returns those deleted; best effort: one
  // that fails is left for the sweep.
  std::vector<std::string> DeleteIfUnreferenced(const std::vector<std::string>& digests);

  // The sweep: every stored blob no row references, older than min_age.
  absl::StatusOr<GcReport> Collect();

 private:
  absl::Mutex& StripeOf(const std::string& digest);
  // Under the digest's pin: re-reads the reference, deletes when none.
  absl::StatusOr<bool> DeleteUnreferenced(const std::string& digest);

  const Options options_;
  std::array<absl::Mutex, 64> stripes_;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_BLOB_GC_H_
