// File: storage/blob_store.h
//
// BlobStore: content-addressed bytes (Buildbarn's CAS). A blob's name is the
// SHA-256 of its content, so a write is idempotent, a read can prove it got
// the right bytes (DATA_LOSS otherwise), and two uploads of the same image
// are stored once. Images, adapter artifacts and base weights live here; the
// registry's `blobs` table says which ones are referenced.
//
// Implementations are thread-safe.
#ifndef STAMINA_STORAGE_BLOB_STORE_H_
#define STAMINA_STORAGE_BLOB_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace stamina::storage {

struct BlobInfo {
  std::string digest;
  int64_t size_bytes = 0;
  absl::Time modify_time;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Stores `bytes` durably and returns their SHA-256. Storing bytes that are
  // already present is idempotent; implementations shared by tenants make it
  // cost what storing new bytes costs (no timing tells who else holds them).
  virtual absl::StatusOr<std::string> Put(absl::string_view bytes) = 0;

  // The bytes of `digest`: INVALID_ARGUMENT for a malformed digest,
  // NOT_FOUND, DATA_LOSS when the stored bytes no longer hash to `digest`.
  virtual absl::StatusOr<std::string> Get(absl::string_view digest) = 0;

  virtual absl::StatusOr<bool> Has(absl::string_view digest) = 0;

  // Removes a blob; removing a missing blob is OK.
  virtual absl::Status Delete(absl::string_view digest) = 0;

  // Every stored blob, in digest order.
  virtual absl::StatusOr<std::vector<BlobInfo>> List() = 0;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_BLOB_STORE_H_
