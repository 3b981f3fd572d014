#include "storage/blob_gc.h"

#include <algorithm>
#include <functional>
#include <utility>

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

absl::StatusOr<bool> IsBlobReferenced(RegistryDatabase& db, const std::string& digest) {
  bool referenced = false;
  STAMINA_RETURN_IF_ERROR(db.Read([&](Database& database) -> absl::Status {
    STAMINA_ASSIGN_OR_RETURN(
        Statement query,
        database.Prepare("SELECT 1 FROM blobs WHERE digest = ?1 UNION ALL"
                         " SELECT 1 FROM base_models WHERE digest = ?1 LIMIT 1"));
    STAMINA_RETURN_IF_ERROR(query.BindText(1, digest));
    STAMINA_ASSIGN_OR_RETURN(referenced, query.Step());
    return absl::OkStatus();
  }));
  return referenced;
}

BlobCollector::Pin::Pin(std::vector<absl::Mutex*> stripes) : stripes_(std::move(stripes)) {
  for (absl::Mutex* stripe : stripes_) stripe->Lock();
}

BlobCollector::Pin::~Pin() {
  for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) (*it)->Unlock();
}

BlobCollector::Pin BlobCollector::PinDigests(const std::vector<std::string>& digests) {
  std::vector<absl::Mutex*> stripes;
  for (const std::string& digest : digests) stripes.push_back(&StripeOf(digest));
  // Array order is the global order; each stripe once.
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  return Pin(std::move(stripes));
}

absl::Mutex& BlobCollector::StripeOf(const std::string& digest) {
  return stripes_[std::hash<std::string>()(digest) % stripes_.size()];
}

absl::StatusOr<bool> BlobCollector::DeleteUnreferenced(const std::string& digest) {
  Pin pin = PinDigest(digest);
  STAMINA_ASSIGN_OR_RETURN(bool referenced, IsBlobReferenced(*options_.db, digest));
  if (referenced) return false;
  STAMINA_RETURN_IF_ERROR(options_.blobs->Delete(digest));
  return true;
}

std::vector<std::string> BlobCollector::DeleteIfUnreferenced(
    const std::vector<std::string>& digests) {
  std::vector<std::string> deleted;
  for (const std::string& digest : digests) {
    absl::StatusOr<bool> gone = DeleteUnreferenced(digest);
    if (gone.ok() && *gone) deleted.push_back(digest);
  }
  return deleted;
}

absl::StatusOr<GcReport> BlobCollector::Collect() {
  STAMINA_ASSIGN_OR_RETURN(std::set<std::string> referenced,
                           ReferencedBlobs(*options_.db));
  STAMINA_ASSIGN_OR_RETURN(std::vector<BlobInfo> stored, options_.blobs->List());
  const absl::Time cutoff = options_.clock->Now() - options_.min_age;
  GcReport report;
  for (const BlobInfo& blob : stored) {
    if (referenced.count(blob.digest) > 0 || blob.modify_time > cutoff) {
      ++report.kept;
      continue;
    }
    STAMINA_ASSIGN_OR_RETURN(bool deleted, DeleteUnreferenced(blob.digest));
    if (!deleted) {
      ++report.kept;  // referenced since the snapshot
      continue;
    }
    report.deleted.push_back(blob.digest);
    report.freed_bytes += blob.size_bytes;
  }
  return report;
}

}  // namespace stamina::storage
