// File: storage/blob_rows.h
//
// The blobs table's one writer for the SQLite stores: an uploaded image
// (SqliteModelStore::AddImage) and a committed adapter artifact
// (SqliteJobStore::Complete) are both recorded here. Internal to storage/.
// Not thread-safe; callers run inside a RegistryDatabase transaction.
#ifndef STAMINA_STORAGE_BLOB_ROWS_H_
#define STAMINA_STORAGE_BLOB_ROWS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "storage/database.h"
#include "storage/records.h"

namespace stamina::storage {

// Records the blob `digest` (its size, kind and creation time) unless it is
// already recorded: blobs are content-addressed, so the first row stands.
absl::Status InsertBlobRow(Database& db, const std::string& digest,
                           int64_t size_bytes, BlobKind kind, int64_t now_us);

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_BLOB_ROWS_H_
