// File: storage/testing/in_memory_blob_store.h
//
// A BlobStore in a map, for other packages' tests. Same contract as
// FileBlobStore (blob_store_contract_test.cc runs both), plus Corrupt() to
// exercise DATA_LOSS paths. Thread-safe. Time comes from an injected Clock.
#ifndef STAMINA_STORAGE_TESTING_IN_MEMORY_BLOB_STORE_H_
#define STAMINA_STORAGE_TESTING_IN_MEMORY_BLOB_STORE_H_

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "storage/blob_store.h"

namespace stamina::storage {

class InMemoryBlobStore final : public BlobStore {
 public:
  explicit InMemoryBlobStore(Clock* clock = Clock::Real()) : clock_(clock) {}

  absl::StatusOr<std::string> Put(absl::string_view bytes) override;
  absl::StatusOr<std::string> Get(absl::string_view digest) override;
  absl::StatusOr<bool> Has(absl::string_view digest) override;
  absl::Status Delete(absl::string_view digest) override;
  absl::StatusOr<std::vector<BlobInfo>> List() override;

  // Flips a byte of a stored blob (tests of DATA_LOSS handling).
  void Corrupt(const std::string& digest);

 private:
  struct Entry {
    std::string bytes;
    absl::Time modify_time;
  };
  Clock* const clock_;
  absl::Mutex mu_;
  std::map<std::string, Entry> blobs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_TESTING_IN_MEMORY_BLOB_STORE_H_
