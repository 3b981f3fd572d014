// File: storage/sqlite_erasure_store.h
//
// ErasureStore on the registry's SQLite file. Thread-safe. The Clock and
// IdGenerator are not owned and must outlive the store.
#ifndef STAMINA_STORAGE_SQLITE_ERASURE_STORE_H_
#define STAMINA_STORAGE_SQLITE_ERASURE_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "storage/erasure_store.h"
#include "storage/registry_database.h"

namespace stamina::storage {

class SqliteErasureStore final : public ErasureStore {
 public:
  struct Options {
    RegistryDatabase* db = nullptr;  // not owned
    Clock* clock = nullptr;          // not owned
    IdGenerator* ids = nullptr;      // not owned; erasure and replay job ids
  };
  static absl::StatusOr<std::unique_ptr<SqliteErasureStore>> Create(Options options);

  absl::StatusOr<ErasureResult> EraseConcept(const ConceptErasure& request) override;
  absl::StatusOr<ErasureRecord> GetErasure(const std::string& tenant_id,
                                           const std::string& model_id,
                                           const std::string& erasure_id) override;
  absl::StatusOr<std::vector<ErasureRecord>> ListErasures(const std::string& tenant_id,
                                                          const std::string& model_id) override;
  absl::Status RecordDriftAfter(const std::string& tenant_id, const std::string& model_id,
                                const std::string& erasure_id, int64_t version,
                                double drift) override;
  absl::StatusOr<std::optional<ErasureRecord>> ErasureOfVersion(const std::string& tenant_id,
                                                                const std::string& model_id,
                                                                int64_t version) override;

 private:
  explicit SqliteErasureStore(Options options) : options_(options) {}
  const Options options_;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_SQLITE_ERASURE_STORE_H_
