// File: storage/sqlite_tenant_store.h
//
// TenantStore on the registry's SQLite file. Thread-safe. The Clock and
// IdGenerator are not owned and must outlive the store.
#ifndef STAMINA_STORAGE_SQLITE_TENANT_STORE_H_
#define STAMINA_STORAGE_SQLITE_TENANT_STORE_H_

#include <memory>

#include "common/clock.h"
#include "common/ids.h"
#include "storage/registry_database.h"
#include "storage/tenant_store.h"

namespace stamina::storage {

class SqliteTenantStore final : public TenantStore {
 public:
  struct Options {
    RegistryDatabase* db = nullptr;  // not owned
    Clock* clock = nullptr;          // not owned
    IdGenerator* ids = nullptr;      // not owned; key ids
  };
  static absl::StatusOr<std::unique_ptr<SqliteTenantStore>> Create(
      Options options);

  absl::StatusOr<TenantRecord> CreateTenant(
      const std::string& id, const std::string& display_name) override;
  absl::StatusOr<TenantRecord> GetTenant(const std::string& id) override;
  absl::StatusOr<std::vector<TenantRecord>> ListTenants() override;
  absl::StatusOr<TenantRecord> SetErasurePolicy(const std::string& id,
                                                ErasurePolicy policy) override;
  using TenantStore::CreateApiKey;
  absl::StatusOr<NewApiKey> CreateApiKey(const std::string& tenant_id,
                                         const ApiKeySpec& spec) override;
  absl::StatusOr<ResolvedApiKey> ResolveApiKey(const std::string& secret) override;
  absl::Status RevokeApiKey(const std::string& tenant_id,
                            const std::string& key_id) override;
  absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys(
      const std::string& tenant_id) override;

 private:
  explicit SqliteTenantStore(Options options) : options_(options) {}
  const Options options_;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_SQLITE_TENANT_STORE_H_
