// File: storage/sqlite_lineage_store.h
//
// LineageStore on the registry's SQLite file (recursive CTEs walk the tree).
// Thread-safe. The Clock is not owned and must outlive the store.
#ifndef STAMINA_STORAGE_SQLITE_LINEAGE_STORE_H_
#define STAMINA_STORAGE_SQLITE_LINEAGE_STORE_H_

#include <memory>

#include "common/clock.h"
#include "storage/lineage_store.h"
#include "storage/registry_database.h"

namespace stamina::storage {

class SqliteLineageStore final : public LineageStore {
 public:
  struct Options {
    RegistryDatabase* db = nullptr;  // not owned
    Clock* clock = nullptr;          // not owned
  };
  static absl::StatusOr<std::unique_ptr<SqliteLineageStore>> Create(
      Options options);

  absl::StatusOr<VersionRecord> GetVersion(const std::string& tenant_id,
                                           const std::string& model_id,
                                           int64_t version) override;
  absl::StatusOr<VersionPage> ListVersions(
      const std::string& tenant_id, const std::string& model_id, int page_size,
      const std::string& page_token) override;
  absl::StatusOr<std::vector<LineageStep>> Lineage(
      const std::string& tenant_id, const std::string& model_id,
      std::optional<int64_t> version) override;
  absl::StatusOr<std::vector<VersionRecord>> VersionsContaining(
      const std::string& tenant_id, const std::string& model_id,
      const std::string& concept_id) override;
  absl::StatusOr<VersionDiff> Diff(const std::string& tenant_id,
                                   const std::string& model_id, int64_t a,
                                   int64_t b) override;
  absl::StatusOr<ModelRecord> Rollback(const std::string& tenant_id,
                                       const std::string& model_id,
                                       int64_t version) override;

 private:
  explicit SqliteLineageStore(Options options) : options_(options) {}
  const Options options_;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_SQLITE_LINEAGE_STORE_H_
