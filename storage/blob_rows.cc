#include "storage/blob_rows.h"

#include "common/status_macros.h"

namespace stamina::storage {

absl::Status InsertBlobRow(Database& db, const std::string& digest,
                           int64_t size_bytes, BlobKind kind, int64_t now_us) {
  STAMINA_ASSIGN_OR_RETURN(
      Statement blob,
      db.Prepare("INSERT INTO blobs (digest, size_bytes, kind, create_time_us)"
                 " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (digest) DO NOTHING"));
  STAMINA_RETURN_IF_ERROR(blob.BindText(1, digest));
  STAMINA_RETURN_IF_ERROR(blob.BindInt64(2, size_bytes));
  STAMINA_RETURN_IF_ERROR(blob.BindInt64(3, static_cast<int64_t>(kind)));
  STAMINA_RETURN_IF_ERROR(blob.BindInt64(4, now_us));
  return blob.Run();
}

}  // namespace stamina::storage
