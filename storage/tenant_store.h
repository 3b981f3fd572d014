// File: storage/tenant_store.h
//
// TenantStore: tenants and their API keys. A key's secret is shown once, at
// creation; only its SHA-256 is stored, so a leaked database does not leak
// usable keys. Implementations are thread-safe.
#ifndef STAMINA_STORAGE_TENANT_STORE_H_
#define STAMINA_STORAGE_TENANT_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/records.h"

namespace stamina::storage {

// What a new key is for, and how long it lives.
struct ApiKeySpec {
  std::string label;  // at most 200 bytes
  // Zero: never expires.
  absl::Duration ttl = absl::ZeroDuration();
};

struct NewApiKey {
  ApiKeyRecord key;
  // "stk_" + 64 hex characters. Never stored; give it to the user now.
  std::string secret;
};

// Who a secret belongs to, and until when.
struct ResolvedApiKey {
  TenantRecord tenant;
  std::string key_id;
  std::optional<absl::Time> expire_time;  // nullopt: never expires
};

class TenantStore {
 public:
  virtual ~TenantStore() = default;

  // ALREADY_EXISTS if the id is taken; INVALID_ARGUMENT for a bad id.
  virtual absl::StatusOr<TenantRecord> CreateTenant(
      const std::string& id, const std::string& display_name) = 0;
  virtual absl::StatusOr<TenantRecord> GetTenant(const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<TenantRecord>> ListTenants() = 0;
  // NOT_FOUND for an unknown tenant, INVALID_ARGUMENT for an unknown policy.
  virtual absl::StatusOr<TenantRecord> SetErasurePolicy(const std::string& id,
                                                        ErasurePolicy policy) = 0;

  // NOT_FOUND for an unknown tenant; INVALID_ARGUMENT for a label over 200
  // bytes or a negative ttl.
  virtual absl::StatusOr<NewApiKey> CreateApiKey(const std::string& tenant_id,
                                                 const ApiKeySpec& spec) = 0;
  absl::StatusOr<NewApiKey> CreateApiKey(const std::string& tenant_id) {
    return CreateApiKey(tenant_id, ApiKeySpec{});
  }
  // The tenant a secret belongs to; NOT_FOUND if unknown, revoked or expired.
  // A revocation holds for every call that starts after RevokeApiKey
  // returns (CachingTenantStore keeps that promise too).
  virtual absl::StatusOr<ResolvedApiKey> ResolveApiKey(
      const std::string& secret) = 0;
  // NOT_FOUND if the tenant has no such key. Revoking twice is OK.
  virtual absl::Status RevokeApiKey(const std::string& tenant_id,
                                    const std::string& key_id) = 0;
  virtual absl::StatusOr<std::vector<ApiKeyRecord>> ListApiKeys(
      const std::string& tenant_id) = 0;
};

}  // namespace stamina::storage

#endif  // STAMINA_STORAGE_TENANT_STORE_H_
