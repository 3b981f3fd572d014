#include "storage/blob_gc.h"

#include "common/status_macros.h"

namespace stamina::storage {

absl::StatusOr<std::set<std::string>> ReferencedBlobs(RegistryDatabase& db) {
  std::set<std::string> referenced;
  STAMINA_RETURN_IF_ERROR(db.Read([&](Database& database) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        database.Prepare("SELECT digest FROM blobs UNION"
                         " SELECT digest FROM base_models"));
    while (true) {
      STAMINA_ASSIGN_OR_RETURN(bool row, query.Step());
      if (!row) return absl::OkStatus();
      referenced.insert(query.ColumnText(0));
    }
  }));
  return referenced;
}

absl::StatusOr<GcReport> CollectGarbage(BlobStore& blobs,
                                        const std::set<std::string>& referenced,
                                        Clock& clock, absl::Duration min_age) {
  GcReport report;
  STAMINA_ASSIGN_OR_RETURN(std::vector<BlobInfo> stored, blobs.List());
  const absl::Time cutoff = clock.Now() - min_age;
  for (const BlobInfo& blob : stored) {
    if (referenced.count(blob.digest) > 0 || blob.modify_time > cutoff) {
      ++report.kept;
      continue;
    }
    STAMINA_RETURN_IF_ERROR(blobs.Delete(blob.digest));
    report.deleted.push_back(blob.digest);
    report.freed_bytes += blob.size_bytes;
  }
  return report;
}

}  // namespace stamina::storage
